// Package motoserver runs moto's server (installed by `make tools` into .tools/venv) on a free
// loopback port: EventBridge and SQS for the local stack and the integration tests.
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

// Binary is moto_server in $MOTO_SERVER, else in .tools/venv at the repository root.
func Binary() (string, error) {
	if b := os.Getenv("MOTO_SERVER"); b != "" {
		return b, nil
	}
	root, err := repo.Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, ".tools", "venv", "bin", "moto_server"), nil
}

// Start launches moto on 127.0.0.1 and waits until it answers.
func Start(ctx context.Context, logw io.Writer) (*Server, error) {
	bin, err := Binary()
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("moto is not installed at %s (run `make tools`): %w", bin, err)
	}
	port, err := childproc.FreePort()
	if err != nil {
		return nil, err
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
	p, err := childproc.Start(ctx, "moto", exec.Command(bin, "-H", "127.0.0.1", "-p", strconv.Itoa(port)), logw, ready, 60*time.Second)
	if err != nil {
		return nil, err
	}
	return &Server{Endpoint: endpoint, Process: p}, nil
}
