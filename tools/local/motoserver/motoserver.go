// Package motoserver runs moto's server (installed by `make tools` into .tools/venv) on a
// free loopback port, through our launcher (serve.py): DynamoDB and its streams in one
// server, serialised, and EventBridge, SQS and Scheduler in another, for the local stack,
// the integration tests and the measurements.
package motoserver

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/local/childproc"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

// Server is a running moto server.
type Server struct {
	Endpoint string
	*childproc.Process
}

// Python is the interpreter moto is installed in: $MOTO_PYTHON, else .tools/venv's.
func Python() (string, error) {
	if b := os.Getenv("MOTO_PYTHON"); b != "" {
		return b, nil
	}
	root, err := repo.Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".tools", "venv", "bin", "python"), nil
}

// Options choose how a server runs.
type Options struct {
	// Serialise serves every DynamoDB and DynamoDB Streams request one at a time, as
	// DynamoDB applies an item's writes: the server for the lifecycle's tables.
	Serialise bool
	// SwitchInterval, when set, is the interpreter's thread switch interval: a race test
	// shortens it so that unserialised requests interleave often.
	SwitchInterval time.Duration
	// Name is the server's name in errors ("moto (DynamoDB)").
	Name string
}

// Start launches moto on 127.0.0.1 as o says and waits until it answers. It ends when
// Stop is called or this process ends.
func Start(ctx context.Context, logw io.Writer, o Options) (*Server, error) {
	python, err := Python()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(python); err != nil {
		return nil, fmt.Errorf("moto is not installed (no %s: run `make tools`): %w", python, err)
	}
	script, err := repo.Path("tools", "local", "motoserver", "serve.py")
	if err != nil {
		return nil, err
	}
	port, err := childproc.FreePort()
	if err != nil {
		return nil, err
	}
	args := []string{script, "--port", strconv.Itoa(port)}
	if o.Serialise {
		args = append(args, "--serialise")
	}
	if o.SwitchInterval > 0 {
		args = append(args, "--switch-interval", strconv.FormatFloat(o.SwitchInterval.Seconds(), 'g', -1, 64))
	}
	endpoint := "http://127.0.0.1:" + strconv.Itoa(port)
	client := &http.Client{Timeout: time.Second}
	ready := func() bool {
		resp, err := client.Get(endpoint + "/moto-api/")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	}
	cmd := exec.Command(python, args...)
	p, err := childproc.Start(ctx, o.Name, cmd, logw, ready, 60*time.Second)
	if err != nil {
		return nil, err
	}
	return &Server{Endpoint: endpoint, Process: p}, nil
}
