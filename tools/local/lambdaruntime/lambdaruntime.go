// Package lambdaruntime runs a function's real bootstrap binary the way Lambda does: as a
// process that pulls invocations from the Lambda Runtime API (GET
// /2018-06-01/runtime/invocation/next) and posts each result back (.../response or
// .../error). This is what `sam local invoke -e` does inside its container (the AWS
// Lambda runtime interface emulator); without Docker, the integration tests and
// `make invoke` use it directly.
package lambdaruntime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/tools/local/childproc"
)

const (
	prefix = "/2018-06-01/runtime"
	// functionTimeout is the functions' Timeout in template.yaml.
	functionTimeout = 10 * time.Second
)

// Options describe one function.
type Options struct {
	Bootstrap string
	Name      string
	// Env is the function's environment besides what Lambda itself sets.
	Env []string
	// Output receives the process's stdout and stderr (its logs).
	Output io.Writer
}

// Result is one invocation's outcome.
type Result struct {
	// Payload is the function's response, when it returned one.
	Payload []byte
	// Error is the function's error payload ({"errorMessage","errorType"}), when it failed.
	Error []byte
	// Duration is from the invocation being handed out to its result.
	Duration time.Duration
}

type invocation struct {
	id     string
	event  []byte
	handed time.Time
	result chan Result
}

// Runtime is a running function process and its Runtime API endpoint.
type Runtime struct {
	opts Options
	srv  *http.Server
	proc *childproc.Process
	// Started is when the process was started.
	Started time.Time

	queue   chan *invocation
	pending sync.Map // request id → *invocation handed out and not yet answered
}

// Start serves the Runtime API on a free loopback port and starts the bootstrap with
// AWS_LAMBDA_RUNTIME_API pointing at it.
func Start(o Options) (*Runtime, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r := &Runtime{opts: o, queue: make(chan *invocation, 16)}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+prefix+"/invocation/next", r.next)
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/response", r.respond(false))
	mux.HandleFunc("POST "+prefix+"/invocation/{id}/error", r.respond(true))
	r.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go r.srv.Serve(ln)

	cmd := exec.Command(o.Bootstrap)
	cmd.Env = append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + ln.Addr().String(),
		"AWS_LAMBDA_FUNCTION_NAME=" + o.Name,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_LAMBDA_LOG_GROUP_NAME=/lifecycle/local/" + o.Name,
		"AWS_LAMBDA_LOG_STREAM_NAME=local",
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		"_HANDLER=bootstrap",
		"TZ=:UTC",
	}, o.Env...)
	r.Started = time.Now()
	// Ready at once: its init ends when it first asks for an invocation.
	if r.proc, err = childproc.Start(context.Background(), o.Bootstrap, cmd, o.Output, func() bool { return true }, 0); err != nil {
		r.srv.Close()
		return nil, err
	}
	return r, nil
}

// Invoke hands event to the function and waits for its result.
func (r *Runtime) Invoke(ctx context.Context, event []byte) (Result, error) {
	inv := &invocation{id: lifecycle.NewID(), event: event, result: make(chan Result, 1)}
	ctx, cancel := context.WithTimeoutCause(ctx, functionTimeout+2*time.Second, fmt.Errorf("%s timed out after %s", r.opts.Name, functionTimeout))
	defer cancel()
	for queue := r.queue; ; queue = nil { // queued once
		select {
		case queue <- inv:
		case res := <-inv.result:
			return res, nil
		case <-r.proc.Exited():
			return Result{}, fmt.Errorf("%s exited: %v", r.opts.Name, r.proc.Err())
		case <-ctx.Done():
			return Result{}, context.Cause(ctx)
		}
	}
}

// PeakRSS is the process's peak resident set size so far, in bytes (Linux: VmHWM).
func (r *Runtime) PeakRSS() (int64, error) { return ProcessMemory(r.proc.Pid(), "VmHWM") }

// RSS is the process's resident set size now, in bytes (Linux: VmRSS).
func (r *Runtime) RSS() (int64, error) { return ProcessMemory(r.proc.Pid(), "VmRSS") }

// ProcessMemory reads one memory figure (VmRSS, VmHWM, …) of process pid from
// /proc/<pid>/status, in bytes. Only Linux has it: elsewhere it returns an error, and the
// figures that need it (make bench's RSS, the reliability run's memory) say "n/a".
func ProcessMemory(pid int, field string) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	_, v, ok := strings.Cut(string(b), "\n"+field+":") // a line "VmRSS:\t  1234 kB"
	if !ok {
		return 0, fmt.Errorf("no %s in /proc status", field)
	}
	var kb int64
	_, err = fmt.Sscan(v, &kb)
	return kb * 1024, err
}

// Kill ends the process with SIGKILL, as a sandbox dies (out of memory, a crash): no
// chance to finish the invocation or answer it. It returns once the process has exited.
func (r *Runtime) Kill() { r.proc.Kill() }

// Exited is closed when the process has exited.
func (r *Runtime) Exited() <-chan struct{} { return r.proc.Exited() }

// Stop ends the process and the Runtime API.
func (r *Runtime) Stop() {
	r.proc.StopWithin(3 * time.Second)
	r.srv.Close()
}

// next blocks until an invocation is queued and hands it out with Lambda's headers.
func (r *Runtime) next(w http.ResponseWriter, req *http.Request) {
	select {
	case inv := <-r.queue:
		inv.handed = time.Now()
		r.pending.Store(inv.id, inv)
		h := w.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.handed.Add(functionTimeout).UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:"+r.opts.Name)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-"+strconv.FormatInt(inv.handed.Unix(), 16)+"-"+strings.ReplaceAll(inv.id, "-", "")[:24]+";Sampled=0")
		h.Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(inv.event)
	case <-req.Context().Done():
	}
}

func (r *Runtime) respond(isError bool) http.HandlerFunc {
	return func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		v, ok := r.pending.LoadAndDelete(req.PathValue("id"))
		if !ok {
			http.Error(w, `{"errorMessage":"unknown request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
			return
		}
		inv := v.(*invocation)
		res := Result{Duration: time.Since(inv.handed)}
		if isError {
			res.Error = body
		} else {
			res.Payload = body
		}
		inv.result <- res
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"OK"}`))
	}
}

// ErrNoBootstrap is returned when a function's binary has not been built.
var ErrNoBootstrap = errors.New("bootstrap not built (run `make build`)")
