//go:build !linux

package childproc

import "os/exec"

// DieWithParent does nothing here: only Linux has a parent-death signal. On macOS a child
// started by Start still ends with this process when it watches its standard input (moto's
// launcher does); others are stopped by Stop, which every command calls on its way out.
func DieWithParent(*exec.Cmd) {}
