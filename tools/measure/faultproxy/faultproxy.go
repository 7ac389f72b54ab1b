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

// Faults lists every fault.
var Faults = []Fault{None, Throttle, ServerError, Reset, Slow, DropAfterApply, KillBefore, KillAfterApply}

// Plan picks the fault for a request to op (the operation from X-Amz-Target, such as
// "UpdateItem" or "PutEvents").
type Plan func(op string) Fault

// Config configures a proxy.
type Config struct {
	// Target is the upstream endpoint (http://…).
	Target string
	Plan   Plan
	// SlowDelay is how long a Slow request waits before it is forwarded.
	SlowDelay time.Duration
	// Kill, for the Kill faults, kills the process that sent the request and returns
	// once it is dead.
	Kill func()
	// Applied, when set, is told of every request the upstream answered, with its
	// operation, body and the upstream's status (whether or not the answer was dropped).
	Applied func(op string, body []byte, status int)
	// Decide, when set, picks the fault in place of Plan, from the request's body too. It
	// is called outside the proxy's lock and may block: a test holds one request there
	// (say, the retry of a write) while others go through.
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
	URL     string
	target  string
	plan    Plan
	delay   time.Duration
	kill    func()
	applied func(op string, body []byte, status int)
	decide  func(op string, body []byte) Fault
	observe func(Exchange)
	ln      net.Listener
	srv     *http.Server
	client  *http.Client

	mu     sync.Mutex
	counts map[string]int // "op fault" -> n
}

// Start listens on a free loopback port and forwards to target (an http:// endpoint).
func Start(target string, plan Plan, slowDelay time.Duration) (*Proxy, error) {
	return New(Config{Target: target, Plan: plan, SlowDelay: slowDelay})
}

// New starts a proxy as c describes.
func New(c Config) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{
		URL: "http://" + ln.Addr().String(), target: strings.TrimSuffix(c.Target, "/"), plan: c.Plan, delay: c.SlowDelay,
		kill: c.Kill, applied: c.Applied, decide: c.Decide, observe: c.Observe, ln: ln,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second},
		counts: map[string]int{},
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), ReadHeaderTimeout: 5 * time.Second}
	go p.srv.Serve(ln)
	return p, nil
}

// SetPlan replaces the plan.
func (p *Proxy) SetPlan(plan Plan) {
	p.mu.Lock()
	p.plan = plan
	p.mu.Unlock()
}

// Close stops the proxy.
func (p *Proxy) Close() { p.srv.Close() }

// Counts returns how often each fault was injected, by "operation fault".
func (p *Proxy) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

func operation(r *http.Request) string {
	t := r.Header.Get("X-Amz-Target")
	if i := strings.LastIndex(t, "."); i >= 0 {
		return t[i+1:]
	}
	if t != "" {
		return t
	}
	return r.Method + " " + r.URL.Path
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return
	}
	op := operation(r)
	var fault Fault
	if p.decide != nil {
		fault = p.decide(op, body)
	}
	p.mu.Lock()
	if p.decide == nil {
		fault = p.plan(op)
	}
	p.counts[op+" "+string(fault)]++
	p.mu.Unlock()
	ex := Exchange{Op: op, Fault: fault, Request: body}
	if p.observe != nil {
		defer func() { p.observe(ex) }()
	}

	switch fault {
	case Throttle:
		awsError(w, http.StatusBadRequest, throttleType(r), "Rate of requests exceeds the allowed throughput (injected)")
		return
	case ServerError:
		awsError(w, http.StatusInternalServerError, errorPrefix(r)+"InternalServerError", "Internal server error (injected)")
		return
	case Reset:
		reset(w)
		return
	case KillBefore:
		p.killCaller()
		reset(w)
		return
	case Slow:
		time.Sleep(p.delay)
	}

	resp, err := p.forward(r, body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	respBody, _ := io.ReadAll(resp.Body)
	ex.Status, ex.Response = resp.StatusCode, respBody
	if p.applied != nil {
		p.applied(op, body, resp.StatusCode)
	}
	switch fault {
	case KillAfterApply:
		p.killCaller()
		reset(w)
		return
	case DropAfterApply:
		reset(w) // the upstream applied the request; its answer never arrives
		return
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	_, _ = w.Write(respBody)
}

// killCaller kills the process that sent the request (without Config.Kill, nobody dies
// and the request just loses its answer).
func (p *Proxy) killCaller() {
	if p.kill != nil {
		p.kill()
	}
}

func (p *Proxy) forward(r *http.Request, body []byte) (*http.Response, error) {
	req, err := http.NewRequest(r.Method, p.target+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range r.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	return p.client.Do(req)
}

// throttleType names the service's throttling error.
func throttleType(r *http.Request) string {
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_") {
		return errorPrefix(r) + "ProvisionedThroughputExceededException"
	}
	return "ThrottlingException"
}

func errorPrefix(r *http.Request) string {
	if strings.HasPrefix(r.Header.Get("X-Amz-Target"), "DynamoDB_") {
		return "com.amazonaws.dynamodb.v20120810#"
	}
	return ""
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
