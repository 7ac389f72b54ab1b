// Package dynamodblocal runs DynamoDB Local (fetched by `make tools` into .tools/dynamodb-local)
// in memory on a free loopback port, for the local server and the integration tests.
package dynamodblocal

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lifecycle-api/lifecycle/tools/local/childproc"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

// Server is a running DynamoDB Local.
type Server struct {
	Endpoint string
	*childproc.Process
}

// Dir is where `make tools` puts DynamoDB Local: $DYNAMODB_LOCAL_DIR, else
// .tools/dynamodb-local at the repository root.
func Dir() (string, error) {
	if d := os.Getenv("DYNAMODB_LOCAL_DIR"); d != "" {
		return d, nil
	}
	return repo.Path(".tools", "dynamodb-local")
}

// Start launches DynamoDB Local from dir, bound to 127.0.0.1 by the launcher `make tools`
// compiles, and waits until it accepts connections. Its output goes to logw.
func Start(ctx context.Context, dir string, logw io.Writer) (*Server, error) {
	if _, err := os.Stat(filepath.Join(dir, "launcher", "LoopbackDynamoDBLocal.class")); err != nil {
		return nil, fmt.Errorf("DynamoDB Local is not installed in %s (run `make tools`): %w", dir, err)
	}
	port, err := childproc.FreePort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command("java",
		"-Xmx512m",
		"-Dsqlite4java.library.path="+filepath.Join(dir, "native"),
		"-cp", filepath.Join(dir, "lib", "*")+string(os.PathListSeparator)+filepath.Join(dir, "launcher"),
		"LoopbackDynamoDBLocal",
		"-inMemory", "-disableTelemetry", "-port", strconv.Itoa(port))
	ready := func() bool {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
		}
		return err == nil
	}
	p, err := childproc.Start(ctx, "DynamoDB Local", cmd, logw, ready, 60*time.Second)
	if err != nil {
		return nil, err
	}
	return &Server{Endpoint: "http://" + addr, Process: p}, nil
}
