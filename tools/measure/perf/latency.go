package perf

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

func median(d []time.Duration) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d[len(d)/2]
}

func percentile(d []time.Duration, p float64) time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[max(0, min(i, len(d)-1))]
}

// measureRoute times n requests of one POST route through the local API at concurrency c,
// and n bare DynamoDB calls of what the route sends, on fresh entities each time.
func measureRoute(ctx context.Context, route string, c, n, seq int, base, token string, seed, direct *dynamodb.Client, sent *atomic.Int64) (Route, float64, error) {
	r := Route{Name: route, Concurrency: c}
	// Fresh entities for the route and for the bare calls, in the state the route leaves.
	prefix := fmt.Sprintf("%02x", seq)
	viaAPI, err := entities(ctx, seed, route, prefix+"a", n)
	if err != nil {
		return r, 0, err
	}
	bare, err := entities(ctx, seed, route, prefix+"b", n)
	if err != nil {
		return r, 0, err
	}
	path := map[string]string{"cancel-interview": "/interviews/%s/cancel", "pause-interview": "/interviews/%s/pause", "resume-interview": "/interviews/%s/resume", "cancel-job": "/jobs/%s/cancel"}[route]
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	callAPI := func(id string) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+fmt.Sprintf(path, id), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s %s: %d", route, id, resp.StatusCode)
		}
		return nil
	}
	actor := lifecycle.Actor{Sub: "bench", Roles: []string{"Dispatcher"}}
	interviews := dynamo.NewInterviews(direct, "bench", time.Now, lifecycle.NewID)
	jobs := dynamo.NewJobs(direct, "bench", time.Now, lifecycle.NewID)
	t := map[string]interview.Transition{"cancel-interview": interview.Cancel, "pause-interview": interview.Pause, "resume-interview": interview.Resume}[route]
	callBare := func(id string) error {
		if route == "cancel-job" {
			_, _, err := jobs.Cancel(ctx, job.Request{Request: lifecycle.Request{ID: id, Actor: actor}})
			return err
		}
		_, _, err := interviews.Apply(ctx, t, interview.Request{Request: lifecycle.Request{ID: id, Actor: actor}})
		return err
	}
	// The route and the bare write take turns in blocks (route, bare, bare, route, ...), so
	// neither is measured only on a DynamoDB that the other has already warmed.
	const blocks = 4
	var apiTimes, bareTimes []time.Duration
	var calls int64
	for b := range blocks {
		lo, hi := b*len(viaAPI)/blocks, (b+1)*len(viaAPI)/blocks
		runAPI := func() error {
			before := sent.Load()
			times, err := parallel(c, viaAPI[lo:hi], callAPI)
			calls += sent.Load() - before
			apiTimes = append(apiTimes, times...)
			return err
		}
		runBare := func() error {
			times, err := parallel(c, bare[lo:hi], callBare)
			bareTimes = append(bareTimes, times...)
			return err
		}
		first, second := runAPI, runBare
		if b%2 == 1 {
			first, second = runBare, runAPI
		}
		if err := first(); err != nil {
			return r, 0, err
		}
		if err := second(); err != nil {
			return r, 0, err
		}
	}
	r.P50, r.P99 = percentile(apiTimes, 0.5), percentile(apiTimes, 0.99)
	r.BareP50, r.BareP99 = percentile(bareTimes, 0.5), percentile(bareTimes, 0.99)
	return r, float64(calls) / float64(len(viaAPI)), nil
}

// parallel runs f over ids with c workers and returns each call's duration (after a short
// warm-up that is not counted).
func parallel(c int, ids []string, f func(string) error) ([]time.Duration, error) {
	warm := min(20, len(ids)/10)
	for _, id := range ids[:warm] {
		if err := f(id); err != nil {
			return nil, err
		}
	}
	ids = ids[warm:]
	times := make([]time.Duration, len(ids))
	work := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				start := time.Now()
				err := f(ids[i])
				times[i] = time.Since(start)
				if err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
				}
			}
		}()
	}
	for i := range ids {
		work <- i
	}
	close(work)
	wg.Wait()
	return times, firstErr
}

// entities writes n fresh sessions (or jobs with an assignment) in the state route leaves.
func entities(ctx context.Context, db *dynamodb.Client, route, prefix string, n int) ([]string, error) {
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var ids []string
	var writes []types.WriteRequest
	flush := func() error {
		for len(writes) > 0 {
			out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"bench": writes}})
			if err != nil {
				return err
			}
			writes = out.UnprocessedItems["bench"]
		}
		return nil
	}
	put := func(item map[string]types.AttributeValue) error {
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
		if len(writes) == 25 {
			return flush()
		}
		return nil
	}
	for i := range n {
		pad := strings.Repeat("0", 6-len(prefix))
		id := fmt.Sprintf("be%s%s-0000-4000-8000-%012d", prefix, pad, i)
		ids = append(ids, id)
		var err error
		switch route {
		case "cancel-job":
			a := job.Assignment{ID: fmt.Sprintf("a5%s%s-0000-4000-8000-%012d", prefix, pad, i), JobID: id, TechnicianID: "tech", Status: job.Confirmed, Version: 1,
				ScheduledStart: t0, ScheduledEnd: t0.Add(time.Hour), CreatedAt: t0, UpdatedAt: t0}
			if err = put(dynamo.JobItem(job.Job{ID: id, Title: "bench", Status: job.Assigned, Version: 1, CreatedAt: t0, UpdatedAt: t0, Assignment: &a})); err == nil {
				err = put(dynamo.AssignmentItem(a))
			}
		default:
			st := interview.Active
			if route == "resume-interview" {
				st = interview.Paused
			}
			err = put(dynamo.SessionItem(interview.Session{ID: id, OwnerID: "bench", Title: "bench", TopicIDs: []string{"t"}, InterviewerID: "i",
				Status: st, Version: 1, CreatedAt: t0, UpdatedAt: t0, RecentMessages: []byte(`[{"id":"m1","output":{"text":"hello"}}]`)}))
		}
		if err != nil {
			return nil, err
		}
	}
	return ids, flush()
}
