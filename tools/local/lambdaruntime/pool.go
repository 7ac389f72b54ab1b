package lambdaruntime

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
)

// Pool runs one function the way Lambda scales it: each invocation has a sandbox (a
// bootstrap process) to itself, up to Size sandboxes at once, and a sandbox is kept warm for
// the next invocation. A sandbox whose process died (a crash, a SIGKILL, a timeout) is
// gone: the next invocation in its slot starts a new one, a cold start.
type Pool struct {
	// Size is the most sandboxes at once (Lambda's concurrency for the function).
	Size int
	// Start starts the sandbox of slot (0 ≤ slot < Size): the caller decides its
	// environment, so each slot may, for example, reach DynamoDB through its own proxy.
	Start func(slot int) (*Runtime, error)
	// Before, when set, is called before each invocation is handed to the sandbox of slot.
	Before func(slot int, event []byte)

	once   sync.Once
	tokens chan struct{} // one per free slot
	mu     sync.Mutex
	free   []int // the free slots
	rts    []*Runtime
	starts int
	deaths int
}

func (p *Pool) init() {
	p.once.Do(func() {
		p.tokens = make(chan struct{}, p.Size)
		p.rts = make([]*Runtime, p.Size)
		for i := range p.Size {
			p.tokens <- struct{}{}
			p.free = append(p.free, i)
		}
	})
}

// take waits for a free slot, and takes one whose sandbox is warm when there is one.
func (p *Pool) take(ctx context.Context) (int, error) {
	select {
	case <-p.tokens:
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	i := slices.IndexFunc(p.free, func(slot int) bool { return p.rts[slot] != nil })
	if i < 0 {
		i = len(p.free) - 1
	}
	slot := p.free[i]
	p.free = slices.Delete(p.free, i, i+1)
	return slot, nil
}

func (p *Pool) release(slot int) {
	p.mu.Lock()
	p.free = append(p.free, slot)
	p.mu.Unlock()
	p.tokens <- struct{}{}
}

// Invoke runs event in a sandbox of its own and returns the function's result. An error
// means the invocation failed as a whole, as Lambda reports a crashed or timed-out
// invocation (API Gateway answers 500, a stream or queue retries the batch); the sandbox
// is then replaced.
func (p *Pool) Invoke(ctx context.Context, event []byte) (Result, error) {
	p.init()
	slot, err := p.take(ctx)
	if err != nil {
		return Result{}, err
	}
	rt, err := p.sandbox(slot)
	if err != nil {
		p.release(slot)
		return Result{}, err
	}
	if p.Before != nil {
		p.Before(slot, event)
	}
	res, err := rt.Invoke(ctx, event)
	if err != nil {
		// Dead, timed out or abandoned: Lambda does not reuse such a sandbox.
		rt.Kill()
		rt.Stop()
		p.mu.Lock()
		p.rts[slot] = nil
		p.deaths++
		p.mu.Unlock()
	}
	p.release(slot)
	return res, err
}

// sandbox returns slot's running sandbox, starting one if it has none.
func (p *Pool) sandbox(slot int) (*Runtime, error) {
	p.mu.Lock()
	rt := p.rts[slot]
	p.mu.Unlock()
	if rt != nil {
		select {
		case <-rt.Exited():
			rt.Stop()
		default:
			return rt, nil
		}
	}
	rt, err := p.Start(slot)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.rts[slot] = rt
	p.starts++
	p.mu.Unlock()
	return rt, nil
}

// Kill ends slot's sandbox with SIGKILL, mid-invocation if it is running one; that
// invocation fails. It returns once the process has exited.
func (p *Pool) Kill(slot int) {
	p.init()
	p.mu.Lock()
	rt := p.rts[slot]
	p.mu.Unlock()
	if rt != nil {
		rt.Kill()
	}
}

// Stats reports how many sandboxes were started (cold starts) and how many died or were
// discarded.
func (p *Pool) Stats() (starts, deaths int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.starts, p.deaths
}

// RSS is the resident memory of the sandboxes running now, summed, in bytes.
func (p *Pool) RSS() int64 {
	p.init() // ordered after the first take's init, which fills rts outside mu
	p.mu.Lock()
	defer p.mu.Unlock()
	var total int64
	for _, rt := range p.rts {
		if rt != nil {
			n, _ := rt.RSS()
			total += n
		}
	}
	return total
}

// Close stops every sandbox.
func (p *Pool) Close() {
	p.init()
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, rt := range p.rts {
		if rt != nil {
			rt.Stop()
			p.rts[i] = nil
		}
	}
}

// Call invokes pool with event encoded as JSON and decodes the function's response into
// Resp: what the Lambda service does for API Gateway and the event source mappings. A
// function error or a dead sandbox is an error.
func Call[Resp any](ctx context.Context, pool *Pool, event any) (Resp, error) {
	var resp Resp
	b, err := json.Marshal(event)
	if err != nil {
		return resp, err
	}
	res, err := pool.Invoke(ctx, b)
	if err != nil {
		return resp, err
	}
	if res.Error != nil {
		return resp, fmt.Errorf("the function returned an error: %s", res.Error)
	}
	return resp, json.Unmarshal(res.Payload, &resp)
}
