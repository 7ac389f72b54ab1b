// Package childproc runs the local services the stack needs (moto, dockerd, the SAM CLI) as
// child processes: on a free loopback port, ready when they answer, dying with this
// process, stopped gently.
package childproc

import (
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"syscall"
	"time"
)

// Process is a running child process.
type Process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited, with err set
	err  error
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Start runs cmd (its output to logw) and waits until ready reports true, the process
// exits, ctx ends or timeout passes. The process dies with this one: on Linux the kernel
// kills it (DieWithParent); everywhere, its standard input (a pipe, unless cmd has one)
// closes, which a child can watch.
func Start(ctx context.Context, name string, cmd *exec.Cmd, logw io.Writer, ready func() bool, timeout time.Duration) (*Process, error) {
	cmd.Stdout, cmd.Stderr = logw, logw
	DieWithParent(cmd)
	p := &Process{cmd: cmd, done: make(chan struct{})}
	if cmd.Stdin == nil {
		// The pipe's write end stays open, held by cmd, until Wait: a child that watches
		// its input (moto's launcher) ends when this process does.
		if _, err := cmd.StdinPipe(); err != nil {
			return nil, err
		}
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("%s did not start within %s", name, timeout))
	defer cancel()
	for !ready() {
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited before it was ready: %v", name, p.err)
		case <-ctx.Done():
			p.Stop()
			return nil, context.Cause(ctx)
		case <-time.After(100 * time.Millisecond):
		}
	}
	return p, nil
}

// Exited is closed when the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.done }

// Err is how the process ended, once Exited is closed.
func (p *Process) Err() error { return p.err }

// Pid is the process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Kill ends the process with SIGKILL and waits for it.
func (p *Process) Kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// Stop asks the process to end, kills it after 5 s, and waits for it.
func (p *Process) Stop() { p.StopWithin(5 * time.Second) }

// StopWithin is Stop for a process that needs longer than 5 s to end cleanly (dockerd,
// the SAM CLI stopping its containers).
func (p *Process) StopWithin(grace time.Duration) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.Kill()
	}
}
