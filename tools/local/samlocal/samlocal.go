// Package samlocal runs the functions as the SAM CLI does for a developer with Docker:
// `sam build` for this machine's architecture, the Docker engine (started when none
// runs), the image SAM builds its emulator onto, and the network path and --env-vars
// document that point the functions in their containers at a local stack's DynamoDB (moto)
// and moto. `make sam-invoke`, `make sam-api`, `make run` (its .local/sam-env.json) and
// the integration test that runs every file of events/ through `sam local start-lambda`
// use it.
package samlocal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/tools/local/childproc"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
)

// Arch is this machine's architecture as Lambda names it: the one `sam local` runs
// without emulation. template.yaml's Architecture parameter takes it.
func Arch() (string, error) {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64", nil
	case "arm64":
		return "arm64", nil
	}
	return "", fmt.Errorf("no Lambda architecture for GOARCH %s", runtime.GOARCH)
}

// goArch is Go's name for a Lambda architecture.
func goArch(arch string) string {
	if arch == "x86_64" {
		return "amd64"
	}
	return arch
}

// SAM is the SAM CLI `make tools` installs.
func SAM(root string) string { return filepath.Join(root, ".tools", "venv", "bin", "sam") }

// BuildDir is where Build leaves the functions built for arch: beside .aws-sam/build,
// which keeps the arm64 build `make sam-build` compares with `make build`.
func BuildDir(root, arch string) string { return filepath.Join(root, ".aws-sam", "build-"+arch) }

// Build runs `sam build` with Architecture=arch (the Makefile's build-<LogicalId> targets
// build for LAMBDA_ARCH) into BuildDir, its output to out, and returns the built template.
// It builds afresh: SAM's cache hashes the whole source folder first, which took longer
// here than building the functions.
func Build(ctx context.Context, root, arch string, out io.Writer) (string, error) {
	cmd := exec.CommandContext(ctx, SAM(root), "build", "--template", filepath.Join(root, "template.yaml"),
		"--parameter-overrides", "Architecture="+arch, "--build-dir", BuildDir(root, arch), "--no-cached")
	cmd.Dir = root
	cmd.Env = append(Env(), "LAMBDA_ARCH="+goArch(arch))
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("sam build (%s): %w", arch, err)
	}
	return filepath.Join(BuildDir(root, arch), "template.yaml"), nil
}

// Env is the SAM CLI's environment: this one with the local stack's fake credentials and
// region, which SAM hands to every function. moto keeps one set of tables per account
// key and region, so they must be the stack's; no profile may override them.
func Env() []string {
	set := []string{"AWS_ACCESS_KEY_ID=" + stack.AccessKey, "AWS_SECRET_ACCESS_KEY=" + stack.AccessKey,
		"AWS_REGION=" + stack.Region, "AWS_DEFAULT_REGION=" + stack.Region, "SAM_CLI_TELEMETRY=0"}
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return k == "AWS_PROFILE" || k == "AWS_SESSION_TOKEN" ||
			slices.ContainsFunc(set, func(s string) bool { return strings.HasPrefix(s, k+"=") })
	})
	return append(env, set...)
}

// LogicalID is the template's resource for a function folder: cancel-interview is
// CancelInterviewFunction (the Makefile's build-<LogicalId> rule reads it back).
func LogicalID(fn string) string {
	var b strings.Builder
	for _, word := range strings.Split(fn, "-") {
		if word != "" {
			b.WriteString(strings.ToUpper(word[:1]) + word[1:])
		}
	}
	return b.String() + "Function"
}

// Bridge makes a local stack's two moto servers (DynamoDB; EventBridge and SQS), and its live channel's
// @connections endpoint, which listen on loopback only, reachable from the functions'
// containers on Docker's default bridge: an HTTP relay for each on the bridge's own address
// on this machine (docker0's), which only this machine and its containers reach. (A
// container on the host's network would see the loopback services directly, but SAM
// reaches each container's emulator through a published port, which host networking does
// not have.)
type Bridge struct {
	// DynamoDB and Moto are the endpoints the functions in containers use.
	DynamoDB, Moto string
	ip             string
	// relayed holds each endpoint relayed so far, by the loopback URL it relays to.
	relayed map[string]string
	relays  []*http.Server
}

// BridgeInterface is Docker's default bridge on Linux.
const BridgeInterface = "docker0"

// Expose starts the relays to info's services.
func Expose(info stack.Info) (*Bridge, error) {
	ip, err := bridgeIP()
	if err != nil {
		return nil, err
	}
	b := &Bridge{ip: ip, relayed: map[string]string{}}
	if b.DynamoDB, err = b.Reach(info.DynamoDB); err == nil {
		b.Moto, err = b.Reach(info.Moto)
	}
	if err != nil {
		b.Close()
		return nil, err
	}
	return b, nil
}

// Reach returns the endpoint on the bridge that relays to the loopback URL target
// ("http://127.0.0.1:<port>"), starting its relay on first use.
func (b *Bridge) Reach(target string) (string, error) {
	if u, ok := b.relayed[target]; ok {
		return u, nil
	}
	u, err := url.Parse(target)
	if err != nil {
		return "", err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(b.ip, "0"))
	if err != nil {
		return "", err
	}
	// The relay keeps the Host header the function signed.
	srv := &http.Server{Handler: httputil.NewSingleHostReverseProxy(u), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	b.relays = append(b.relays, srv)
	b.relayed[target] = "http://" + ln.Addr().String()
	return b.relayed[target], nil
}

func bridgeIP() (string, error) {
	ifc, err := net.InterfaceByName(BridgeInterface)
	if err != nil {
		return "", fmt.Errorf("no Docker bridge (%s) on this machine", BridgeInterface)
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return "", err
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			return n.IP.String(), nil
		}
	}
	return "", fmt.Errorf("the Docker bridge %s has no IPv4 address", BridgeInterface)
}

// Close stops the relays.
func (b *Bridge) Close() {
	for _, srv := range b.relays {
		srv.Close()
	}
	b.relays = nil
}

// Vars are the variables that point a function in a container at info's tables and bus,
// and at its live channel's @connections endpoint (relayed on first use), through the
// bridge, and the settings the local stack gives every function. SAM passes a function
// only those its template entry declares.
func (b *Bridge) Vars(info stack.Info) (map[string]string, error) {
	vars := map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB":    b.DynamoDB,
		"AWS_ENDPOINT_URL_EVENTBRIDGE": b.Moto,
		"TABLE_NAME":                   info.Table,
		"AUDIT_TABLE_NAME":             info.AuditTable,
		"EVENT_BUS_NAME":               info.Bus,
		"LIVE_TABLE_NAME":              info.LiveTable,
		// The template joins the CorsAllowedOrigins parameter, which has no default here.
		config.LiveAllowedOrigins: strings.Join(wiring.LiveOrigins(), ","),
	}
	if info.Connections != "" {
		u, err := b.Reach(info.Connections)
		if err != nil {
			return nil, err
		}
		vars["AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI"] = u
	}
	return vars, nil
}

// EnvFile is an --env-vars document: variables by function logical id, or under
// "Parameters" for every function.
type EnvFile map[string]map[string]string

// ForEveryFunction is the EnvFile key whose variables every function gets.
const ForEveryFunction = "Parameters"

// Write writes the document to path.
func (f EnvFile) Write(path string) error {
	raw, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}

// Local is what every `sam local` command here runs with.
type Local struct {
	Root, Arch string
	// Template is the built template (Build's result).
	Template string
	// EnvFile is the --env-vars file.
	EnvFile string
	// Image is the base image (Engine.BaseImage).
	Image string
}

// Args are the options every `sam local` command gets: the built template, the
// functions' variables and architecture, the base image without a pull, the stack's
// region.
func (l Local) Args() []string {
	args := []string{"--template", l.Template, "--env-vars", l.EnvFile, "--parameter-overrides", "Architecture=" + l.Arch,
		"--skip-pull-image", "--region", stack.Region}
	if l.Image != OfficialImage(l.Arch) {
		args = append(args, "--invoke-image", l.Image)
	}
	return args
}

// Command is `sam local <sub...>` with Args, run from the repository. When ctx ends it
// gets SIGTERM, on which SAM stops and removes its containers (a kill would leave them).
func (l Local) Command(ctx context.Context, sub ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, SAM(l.Root), append(append([]string{"local"}, sub...), l.Args()...)...)
	cmd.Dir, cmd.Env = l.Root, Env()
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	return cmd
}

// Server is a running `sam local start-lambda` or `start-api`.
type Server struct {
	// Endpoint is its address on loopback, http://127.0.0.1:<port>.
	Endpoint   string
	proc       *childproc.Process
	containers *containerIDs
}

// Serve runs `sam local <what>` (start-lambda or start-api) on port of 127.0.0.1 (0: a
// free one) with extra options, its output to logw, and waits up to timeout until it
// accepts connections.
func (l Local) Serve(ctx context.Context, what string, port int, logw io.Writer, timeout time.Duration, extra ...string) (*Server, error) {
	if port == 0 {
		var err error
		if port, err = childproc.FreePort(); err != nil {
			return nil, err
		}
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := l.Command(ctx, append([]string{what, "--host", "127.0.0.1", "--port", strconv.Itoa(port)}, extra...)...)
	ids := &containerIDs{}
	p, err := childproc.Start(ctx, "sam local "+what, cmd, io.MultiWriter(logw, ids), func() bool {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, timeout)
	if err != nil {
		ids.remove()
		return nil, err
	}
	return &Server{Endpoint: "http://" + addr, proc: p, containers: ids}, nil
}

// Exited is closed when the server has ended.
func (s *Server) Exited() <-chan struct{} { return s.proc.Exited() }

// Stop ends the server, which stops its warm containers one by one, then removes any
// container it started that is still there (SAM 1.170 sometimes leaves one).
func (s *Server) Stop() {
	s.proc.StopWithin(time.Minute)
	s.containers.remove()
}

// containerIDs collects the ids of the containers SAM starts from the lines it logs.
type containerIDs struct {
	mu      sync.Mutex
	partial []byte
	ids     []string
}

const containerIDPrefix = "SAM_CONTAINER_ID: "

func (c *containerIDs) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.partial = append(c.partial, p...)
	for {
		line, rest, ok := bytes.Cut(c.partial, []byte("\n"))
		if !ok {
			return len(p), nil
		}
		if _, id, ok := bytes.Cut(line, []byte(containerIDPrefix)); ok {
			c.ids = append(c.ids, string(bytes.TrimSpace(id)))
		}
		c.partial = rest
	}
}

func (c *containerIDs) remove() {
	c.mu.Lock()
	ids := c.ids
	c.mu.Unlock()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Removing one that SAM already removed fails harmlessly.
	_ = docker(ctx, nil, append([]string{"rm", "--force"}, ids...)...)
}

// EnvFilePath is where `make run` writes the --env-vars file for its stack, relative to
// the repository; it is there while `make run` runs on a machine with Docker's bridge.
const EnvFilePath = ".local/sam-env.json"
