// Package ddblocal runs DynamoDB Local (fetched by `make tools` into .tools/dynamodb-local)
// in memory on a free loopback port, for the local server and the integration tests.
package ddblocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Server is a running DynamoDB Local.
type Server struct {
	Endpoint string
	cmd      *exec.Cmd
	done     chan error
}

// Dir is where `make tools` puts DynamoDB Local: $DYNAMODB_LOCAL_DIR, else
// .tools/dynamodb-local at the repository root.
func Dir() (string, error) {
	if d := os.Getenv("DYNAMODB_LOCAL_DIR"); d != "" {
		return d, nil
	}
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".tools", "dynamodb-local"), nil
}

// RepoRoot walks up from the working directory to the folder holding go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Start launches DynamoDB Local from dir and waits until it accepts connections. Its
// output goes to logw. It dies with this process.
func Start(ctx context.Context, dir string, logw io.Writer) (*Server, error) {
	if _, err := os.Stat(filepath.Join(dir, "launcher", "LoopbackDynamoDBLocal.class")); err != nil {
		return nil, fmt.Errorf("DynamoDB Local is not installed in %s (run `make tools`): %w", dir, err)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("java",
		"-Xmx512m",
		"-Dsqlite4java.library.path="+filepath.Join(dir, "native"),
		"-cp", filepath.Join(dir, "lib", "*")+string(os.PathListSeparator)+filepath.Join(dir, "launcher"),
		"LoopbackDynamoDBLocal",
		"-inMemory", "-disableTelemetry", "-port", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logw, logw
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	s := &Server{Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait() }()

	deadline := time.Now().Add(60 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return s, nil
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("DynamoDB Local exited before it was ready: %v", err)
		case <-ctx.Done():
			s.Stop()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, errors.New("DynamoDB Local did not start within 60s")
		}
	}
}

// Stop ends DynamoDB Local and waits for it to exit.
func (s *Server) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
