package childproc

import (
	"os/exec"
	"syscall"
)

// DieWithParent has the kernel kill cmd's process when this one dies (Linux's
// PR_SET_PDEATHSIG), however it dies.
func DieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
