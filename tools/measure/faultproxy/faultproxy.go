// Package faultproxy is a fault-injecting HTTP proxy for the AWS JSON protocols, run on
// 127.0.0.1 between the functions and moto (DynamoDB, EventBridge). For each request a plan picks
// a fault: a throttling error, a 5xx, a connection reset, a slow response, the request
// applied upstream and its response dropped, or the caller killed (a crashed Lambda
// sandbox) before its request is forwarded or after it was applied.
package faultproxy

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Fault is what the proxy does to one request.
type Fault string

const (
	None           Fault = "none"
	Throttle       Fault = "throttle"         // 400 ThrottlingException-style error, not forwarded
	ServerError    Fault = "server-error"     // 500 InternalServerError, not forwarded
	Reset          Fault = "reset"            // connection reset before forwarding
	Slow           Fault = "slow"             // forwarded after a delay
	DropAfterApply Fault = "drop-after-apply" // forwarded and applied, then the connection reset
	// KillBefore and KillAfterApply need Config.Kill: the caller dies (SIGKILL) before its
	// request is forwarded, or after it was applied and before the answer reaches it.
	KillBefore     Fault = "kill-before-forward"
	KillAfterApply Fault = "kill-after-apply"
)

// Plan picks the fault for a request to op (the operation from X-Amz-Target, such as
// "UpdateItem" or "PutEvents"). Requests come concurrently: it must be safe for concurrent use.
type Plan func(op string) Fault

// Config configures a proxy.
type Config struct {
	// Target is the upstream endpoint (http://…).
	Target string
	Plan   Plan
	// SlowDelay is how long a Slow request waits before it is forwarded.
	SlowDelay time.Duration
	// Kill, for the Kill faults, kills the process that sent the request and returns
	// once it is dead (without it, nobody dies and the request just loses its answer).
	Kill func()
	// Decide, when set, picks the fault in place of Plan, from the request's body too. It
	// may block: a test holds one request there (say, the retry of a write) while others
	// go through.
	Decide func(op string, body []byte) Fault
	// Observe, when set, is told of every request once the proxy is done with it: what
	// it met and, when it was forwarded, what the upstream answered (delivered or not).
	Observe func(Exchange)
}

// Exchange is one request as the proxy handled it.
type Exchange struct {
	Op      string
	Fault   Fault
	Request []byte
	// Status and Response are the upstream's answer; Status is 0 when the request was
	// not forwarded (a throttle, a 5xx, a reset, a kill before it).
	Status   int
	Response []byte
}

// Proxy is a running proxy.
type Proxy struct {
	URL    string
	c      Config
	srv    *http.Server
	client *http.Client

	mu     sync.Mutex
	counts map[string]int // "op fault" -> n
}

// New listens on a free loopback port and forwards to c.Target as c describes.
func New(c Config) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	c.Target = strings.TrimSuffix(c.Target, "/")
	p := &Proxy{URL: "http://" + ln.Addr().String(), c: c, counts: map[string]int{},
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 5 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.Close() }

// Counts returns how often each fault was injected, by "operation fault".
func (p *Proxy) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.counts)
}

func operation(r *http.Request) string {
	if t := r.Header.Get("X-Amz-Target"); t != "" {
		return t[strings.LastIndex(t, ".")+1:] // DynamoDB_20120810.UpdateItem, AWSEvents.PutEvents
	}
	return r.Method + " " + r.URL.Path
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	op := operation(r)
	fault := None
	if p.c.Decide != nil {
		fault = p.c.Decide(op, body)
	} else if p.c.Plan != nil {
		fault = p.c.Plan(op)
	}
	p.mu.Lock()
	p.counts[op+" "+string(fault)]++
	p.mu.Unlock()
	ex := Exchange{Op: op, Fault: fault, Request: body}
	if p.c.Observe != nil {
		defer func() { p.c.Observe(ex) }()
	}

	// DynamoDB's errors are namespaced, and it throttles with its own error.
	prefix, throttle := "", "ThrottlingException"
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_") {
		prefix = "com.amazonaws.dynamodb.v20120810#"
		throttle = prefix + "ProvisionedThroughputExceededException"
	}
	switch fault {
	case Throttle:
		awsError(w, http.StatusBadRequest, throttle, "Rate of requests exceeds the allowed throughput (injected)")
		return
	case ServerError:
		awsError(w, http.StatusInternalServerError, prefix+"InternalServerError", "Internal server error (injected)")
		return
	case Reset, KillBefore:
		p.killCaller(fault)
		reset(w)
		return
	case Slow:
		time.Sleep(p.c.SlowDelay)
	}

	var resp *http.Response
	req, err := http.NewRequest(r.Method, p.c.Target+r.URL.RequestURI(), bytes.NewReader(body))
	if err == nil {
		req.Header = r.Header.Clone()
		resp, err = p.client.Do(req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	ex.Response, _ = io.ReadAll(resp.Body)
	ex.Status = resp.StatusCode
	if fault == KillAfterApply || fault == DropAfterApply {
		p.killCaller(fault)
		reset(w) // the upstream applied the request; its answer never arrives
		return
	}
	maps.Copy(w.Header(), resp.Header)
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(ex.Response)
}

// killCaller kills the process that sent the request, for the Kill faults.
func (p *Proxy) killCaller(f Fault) {
	if (f == KillBefore || f == KillAfterApply) && p.c.Kill != nil {
		p.c.Kill()
	}
}

func awsError(w http.ResponseWriter, status int, typ, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-Requestid", "faultproxy")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"__type":%q,"message":%q}`, typ, msg)
}

// reset closes the client's connection abruptly (RST), without a response.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0)
	}
	conn.Close()
}
