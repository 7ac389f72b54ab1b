// Package robustness hammers the local API with concurrent random transitions while a
// fault-injecting proxy sits between the functions and DynamoDB Local and moto, then checks
// what the clients were told against what was committed and what was published:
//
//   - every 200 is one committed transition, and it chains: its previousStatus is the
//     status the previous success on that entity left, its version is one more, and nothing
//     succeeds after a terminal status;
//   - the final stored item is the last success;
//   - the published events are exactly the committed transitions, one per eventId;
//   - a refused request (4xx) committed nothing; a job and its assignment change together.
//
// `make reliability` runs it at full size; `make test` runs a small one.
package robustness

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"

	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/tools/local/devauth"
	"github.com/lifecycle-api/lifecycle/tools/local/stack"
	"github.com/lifecycle-api/lifecycle/tools/repo"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/faultproxy"
)

// Options size a run.
type Options struct {
	Clients  int
	Requests int
	Sessions int
	Jobs     int
	// FaultRate is the chance that a request from a function to DynamoDB or EventBridge
	// meets a fault (spread evenly over throttling, 5xx, reset, slow, lost answer).
	FaultRate float64
	// ClientRetries is how often a client retries a 503 or a transport error, with the
	// same Idempotency-Key.
	ClientRetries int
	Seed          uint64
	// Progress receives start-up lines.
	Progress io.Writer
}

// Report is what a run saw.
type Report struct {
	Options       Options
	Duration      time.Duration
	Requests      int            // logical requests
	Attempts      int            // HTTP requests sent, retries included
	ClientRetries int            // attempts beyond the first
	Outcomes      map[string]int // final status and code: "200", "200 replayed", "404 INVALID_TRANSITION", …
	Successes     int
	Faults        map[string]int // injected, by "operation fault"
	Committed     int            // transitions committed (version steps on the items)
	Events        int            // distinct events published (audit table, one per eventId)
	Violations    []string
}

type request struct {
	n              int
	entity, kind   string // kind: "interview" or "job"
	verb, key, cor string
	status         int
	code           string
	etag           string
	replayed       bool
	attempts       int
}

// Run runs the check.
func Run(ctx context.Context, o Options) (Report, error) {
	start := time.Now()
	rep := Report{Options: o, Outcomes: map[string]int{}, Faults: map[string]int{}}
	rng := rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15))
	var rngMu sync.Mutex
	faults := []faultproxy.Fault{faultproxy.Throttle, faultproxy.ServerError, faultproxy.Reset, faultproxy.Slow, faultproxy.DropAfterApply}
	var faulting sync.Mutex
	on := true
	plan := func(op string) faultproxy.Fault {
		faulting.Lock()
		active := on
		faulting.Unlock()
		rngMu.Lock()
		defer rngMu.Unlock()
		if !active || rng.Float64() >= o.FaultRate {
			return faultproxy.None
		}
		return faults[rng.IntN(len(faults))]
	}
	var proxies []*faultproxy.Proxy
	defer func() {
		for _, p := range proxies {
			p.Close()
		}
	}()

	root, err := repo.Root()
	if err != nil {
		return rep, err
	}
	key := []byte("reliability-signing-key-0123456789abcdef")
	st, err := stack.Start(ctx, stack.Options{
		Table: "reliability", AuditTable: "reliability-audit",
		LogDir:     filepath.Join(root, "test-output", "reliability"),
		Logger:     slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Verify:     func(tok string) (map[string]string, error) { return devauth.Verify(key, tok, time.Now()) },
		Progress:   o.Progress,
		ManualPoll: true,
		Via: func(service, endpoint string) (string, error) {
			p, err := faultproxy.Start(endpoint, plan, 50*time.Millisecond)
			if err != nil {
				return "", err
			}
			proxies = append(proxies, p)
			return p.URL, nil
		},
	})
	if err != nil {
		return rep, err
	}
	defer st.Close()
	srv := httptest.NewServer(st.Handler)
	defer srv.Close()

	sessions, jobs, err := seed(ctx, st.DB, o)
	if err != nil {
		return rep, err
	}
	token, _ := devauth.Mint(key, "load", []string{"Dispatcher"}, time.Hour, time.Now())

	// The plan of logical requests, fixed by the seed.
	reqs := make([]*request, o.Requests)
	for i := range reqs {
		r := &request{n: i, key: lifecycle.NewID(), cor: "rel-" + strconv.Itoa(i)}
		// Mostly pauses and resumes, so sessions live through long chains of transitions;
		// a few cancels end them; one request in twenty cancels a job.
		if len(jobs) > 0 && rng.IntN(20) == 0 {
			r.kind, r.entity, r.verb = "job", jobs[rng.IntN(len(jobs))], "cancel"
		} else {
			r.kind, r.entity = "interview", sessions[rng.IntN(len(sessions))]
			switch x := rng.IntN(100); {
			case x < 49:
				r.verb = "pause"
			case x < 98:
				r.verb = "resume"
			default:
				r.verb = "cancel"
			}
		}
		reqs[i] = r
	}
	// Publish while the load runs, as the stream's event source mapping would.
	pollCtx, stopPolling := context.WithCancel(ctx)
	polled := make(chan struct{})
	go func() {
		defer close(polled)
		for pollCtx.Err() == nil {
			_, _ = st.Poller.Poll(pollCtx)
			select {
			case <-pollCtx.Done():
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	work := make(chan *request)
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for range o.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range work {
				send(ctx, client, srv.URL, token, r, o.ClientRetries)
			}
		}()
	}
	for _, r := range reqs {
		work <- r
	}
	close(work)
	wg.Wait()
	stopPolling()
	<-polled

	// Faults off; let the stream, the publisher and the audit consumer finish.
	faulting.Lock()
	on = false
	faulting.Unlock()
	for _, p := range proxies {
		for k, v := range p.Counts() {
			if !strings.HasSuffix(k, " none") {
				rep.Faults[k] += v
			}
		}
	}
	events, err := settle(ctx, st)
	if err != nil {
		return rep, err
	}

	for _, r := range reqs {
		rep.Requests++
		rep.Attempts += r.attempts
		rep.ClientRetries += r.attempts - 1
		outcome := strconv.Itoa(r.status)
		if r.code != "" {
			outcome += " " + r.code
		}
		if r.replayed {
			outcome += " replayed"
		}
		rep.Outcomes[outcome]++
		if r.status == 200 {
			rep.Successes++
		}
	}
	rep.Events = len(events)
	rep.Violations, rep.Committed = verify(ctx, st.DB, reqs, events, sessions, jobs)
	rep.Duration = time.Since(start)
	return rep, nil
}

// send makes one logical request, retrying 503s and transport errors with its key.
func send(ctx context.Context, client *http.Client, base, token string, r *request, retries int) {
	path := "/interviews/" + r.entity + "/" + r.verb
	if r.kind == "job" {
		path = "/jobs/" + r.entity + "/cancel"
	}
	for attempt := 0; attempt <= retries; attempt++ {
		r.attempts++
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Idempotency-Key", r.key)
		req.Header.Set("X-Correlation-Id", r.cor)
		resp, err := client.Do(req)
		if err != nil {
			r.status, r.code = 0, "TRANSPORT"
			time.Sleep(20 * time.Millisecond)
			continue
		}
		var body struct {
			Code string `json:"code"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		r.status, r.code = resp.StatusCode, body.Code
		r.etag = strings.Trim(resp.Header.Get("ETag"), `"`)
		r.replayed = resp.Header.Get("Idempotent-Replayed") == "true"
		if resp.StatusCode != http.StatusServiceUnavailable {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// seed writes the sessions (active) and jobs (assigned, with a pending assignment) the
// run hammers, all at version 1.
func seed(ctx context.Context, db *dynamodb.Client, o Options) (sessions, jobs []string, err error) {
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	put := func(item map[string]types.AttributeValue) error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("reliability"), Item: item})
		return err
	}
	for i := range o.Sessions {
		id := fmt.Sprintf("5e550000-0000-4000-8000-%012d", i+1)
		s := interview.Session{ID: id, OwnerID: "load", Title: "Load " + strconv.Itoa(i), TopicIDs: []string{"t"}, InterviewerID: "i",
			Status: interview.Active, Version: 1, CreatedAt: t0, UpdatedAt: t0}
		if err := put(dynamo.SessionItem(s)); err != nil {
			return nil, nil, err
		}
		sessions = append(sessions, id)
	}
	for i := range o.Jobs {
		id := fmt.Sprintf("0b5e0000-0000-4000-8000-%012d", i+1)
		a := job.Assignment{ID: fmt.Sprintf("a55e0000-0000-4000-8000-%012d", i+1), JobID: id, TechnicianID: "tech", Status: job.Pending, Version: 1,
			ScheduledStart: t0.Add(24 * time.Hour), ScheduledEnd: t0.Add(26 * time.Hour), CreatedAt: t0, UpdatedAt: t0}
		j := job.Job{ID: id, Title: "Load job", Status: job.Assigned, Version: 1, CreatedAt: t0, UpdatedAt: t0, Assignment: &a}
		if err := put(dynamo.JobItem(j)); err != nil {
			return nil, nil, err
		}
		if err := put(dynamo.AssignmentItem(a)); err != nil {
			return nil, nil, err
		}
		jobs = append(jobs, id)
	}
	return sessions, jobs, nil
}

// published is one event as the audit table recorded it.
type published struct {
	EventID        string `json:"eventId"`
	CorrelationID  string `json:"correlationId"`
	Version        int64  `json:"version"`
	PreviousStatus string `json:"previousStatus"`
	Status         string `json:"status"`
	SessionID      string `json:"sessionId"`
	JobID          string `json:"jobId"`
}

// settle drains the stream into the bus until the audit table stops growing, and returns
// its events (one per eventId).
func settle(ctx context.Context, st *stack.Stack) ([]published, error) {
	last, stable := -1, 0
	var events []published
	for stable < 4 {
		if _, err := st.Poller.Poll(ctx); err != nil {
			return nil, err
		}
		var err error
		if events, err = auditEvents(ctx, st.DB); err != nil {
			return nil, err
		}
		if len(events) == last {
			stable++
		} else {
			stable, last = 0, len(events)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(400 * time.Millisecond):
		}
	}
	return events, nil
}

func auditEvents(ctx context.Context, db *dynamodb.Client) ([]published, error) {
	var out []published
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String("reliability-audit")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			d, _ := it["detail"].(*types.AttributeValueMemberS)
			if d == nil {
				continue
			}
			var e published
			if err := json.Unmarshal([]byte(d.Value), &e); err != nil {
				return nil, err
			}
			out = append(out, e)
		}
	}
	return out, nil
}

func attr(m map[string]types.AttributeValue, k string) string {
	switch v := m[k].(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	}
	return ""
}

// verify checks the run; it returns the violations and the committed transitions.
func verify(ctx context.Context, db *dynamodb.Client, reqs []*request, events []published, sessions, jobs []string) ([]string, int) {
	var v []string
	byCorr := map[string]*request{}
	for _, r := range reqs {
		byCorr[r.cor] = r
	}
	eventsOf := map[string][]published{}
	seenCorr := map[string]int{}
	for _, e := range events {
		eventsOf[e.SessionID+e.JobID] = append(eventsOf[e.SessionID+e.JobID], e)
		seenCorr[e.CorrelationID]++
	}
	// Every 200 is exactly one committed, published transition with the version it was told.
	for _, r := range reqs {
		n := seenCorr[r.cor]
		switch {
		case r.status == 200 && n != 1:
			v = append(v, fmt.Sprintf("%s %s %s answered 200 but has %d events", r.cor, r.verb, r.entity, n))
		case r.status >= 400 && r.status < 500 && n != 0:
			v = append(v, fmt.Sprintf("%s %s %s answered %d %s but committed a transition", r.cor, r.verb, r.entity, r.status, r.code))
		case r.status != 200 && r.status != http.StatusServiceUnavailable && r.status != 0 && (r.status < 400 || r.status >= 500):
			v = append(v, fmt.Sprintf("%s %s %s answered %d %s", r.cor, r.verb, r.entity, r.status, r.code))
		}
	}
	terminal := map[string]bool{"cancelled": true, "Cancelled": true}
	committed := 0
	check := func(id, pk, sk, initial string) map[string]types.AttributeValue {
		es := eventsOf[id]
		sort.Slice(es, func(i, j int) bool { return es[i].Version < es[j].Version })
		prev, version := initial, int64(1)
		for _, e := range es {
			if e.Version != version+1 {
				v = append(v, fmt.Sprintf("%s: event version %d after %d", id, e.Version, version))
			}
			if e.PreviousStatus != prev {
				v = append(v, fmt.Sprintf("%s v%d: previousStatus %q but the previous success left %q", id, e.Version, e.PreviousStatus, prev))
			}
			if terminal[prev] {
				v = append(v, fmt.Sprintf("%s v%d: a transition after the terminal status %q", id, e.Version, prev))
			}
			if r := byCorr[e.CorrelationID]; r == nil {
				v = append(v, fmt.Sprintf("%s v%d: an event nobody asked for (%s)", id, e.Version, e.CorrelationID))
			} else if r.status == 200 && !toldVersion(r, e.Version) {
				v = append(v, fmt.Sprintf("%s: %s was told version %s, the event says %d", id, r.cor, r.etag, e.Version))
			}
			prev, version = e.Status, e.Version
		}
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("reliability"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}})
		if err != nil {
			v = append(v, fmt.Sprintf("%s: read: %v", id, err))
			return nil
		}
		stored, _ := strconv.ParseInt(attr(out.Item, "version"), 10, 64)
		committed += int(stored - 1)
		if stored != version || attr(out.Item, "status") != prev {
			v = append(v, fmt.Sprintf("%s: stored v%d %s, but the last event is v%d %s (a committed write without its event, or the reverse)", id, stored, attr(out.Item, "status"), version, prev))
		}
		return out.Item
	}
	for _, id := range sessions {
		check(id, "INTERVIEW#"+id, "INTERVIEW", "active")
	}
	for i, id := range jobs {
		j := check(id, "JOB#"+id, "JOB", "Assigned")
		aid := fmt.Sprintf("a55e0000-0000-4000-8000-%012d", i+1)
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("reliability"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "JOB#" + id}, "sk": &types.AttributeValueMemberS{Value: "ASSIGNMENT#" + aid}}})
		if err != nil || j == nil {
			continue
		}
		if (attr(j, "status") == "Cancelled") != (attr(out.Item, "status") == "Cancelled") {
			v = append(v, fmt.Sprintf("%s: job %s but assignment %s (not atomic)", id, attr(j, "status"), attr(out.Item, "status")))
		}
	}
	return v, committed
}

// toldVersion checks the version a 200 reported: the one its transition produced, or, for a
// replayed answer, possibly a later one (the entity moved on before the retry).
func toldVersion(r *request, version int64) bool {
	told, err := strconv.ParseInt(r.etag, 10, 64)
	if err != nil {
		return false
	}
	return told == version || (r.replayed && told > version)
}

// Table renders the report.
func (r Report) Table() string {
	var b strings.Builder
	row := func(k string, v any) { fmt.Fprintf(&b, "| %-44s | %12v |\n", k, v) }
	fmt.Fprintf(&b, "| %-44s | %12s |\n|%s|%s|\n", "measure", "value", strings.Repeat("-", 46), strings.Repeat("-", 14))
	row("clients", r.Options.Clients)
	row("entities (sessions + jobs)", fmt.Sprintf("%d + %d", r.Options.Sessions, r.Options.Jobs))
	row("fault rate per DynamoDB/EventBridge request", fmt.Sprintf("%.0f%%", r.Options.FaultRate*100))
	row("logical requests", r.Requests)
	row("HTTP attempts (client retries)", fmt.Sprintf("%d (%d)", r.Attempts, r.ClientRetries))
	keys := make([]string, 0, len(r.Outcomes))
	for k := range r.Outcomes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		row("  final answer "+k, r.Outcomes[k])
	}
	row("successes (200)", r.Successes)
	fkeys := make([]string, 0, len(r.Faults))
	total := 0
	for k, n := range r.Faults {
		fkeys = append(fkeys, k)
		total += n
	}
	sort.Strings(fkeys)
	row("faults injected", total)
	for _, k := range fkeys {
		row("  "+k, r.Faults[k])
	}
	row("transitions committed", r.Committed)
	row("events published (distinct eventIds)", r.Events)
	row("events expected (= transitions committed)", r.Committed)
	row("violations", len(r.Violations))
	row("duration", r.Duration.Round(time.Millisecond))
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "VIOLATION: %s\n", v)
	}
	return b.String()
}
