//go:build !windows

package motoserver

// A venv's executables, on Linux and macOS.
const venvBin, exeSuffix = "bin", ""
