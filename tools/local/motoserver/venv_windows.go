package motoserver

// A venv's executables, on Windows.
const venvBin, exeSuffix = "Scripts", ".exe"
