package perf

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
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

// median is the middle value of xs (the mean of the middle two of an even count), zero for
// none.
func median[T ~int64 | ~float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

func percentile(d []time.Duration, p float64) time.Duration {
	slices.Sort(d)
	i := int(math.Ceil(p*float64(len(d)))) - 1
	return d[max(0, min(i, len(d)-1))]
}

// measureRoute times n requests of one POST route through the local API at concurrency c,
// and n bare DynamoDB calls of what the route sends, on fresh entities each time.
func measureRoute(ctx context.Context, route string, c, n, seq int, base, token string, db *dynamodb.Client, sent *atomic.Int64) (Route, error) {
	r := Route{Name: route, Concurrency: c}
	// Fresh entities for the route and for the bare calls, in the state the route leaves.
	prefix := fmt.Sprintf("%02x", seq)
	viaAPI, err := entities(ctx, db, route, prefix+"a", n)
	if err != nil {
		return r, err
	}
	bare, err := entities(ctx, db, route, prefix+"b", n)
	if err != nil {
		return r, err
	}
	path := map[string]string{"cancel-interview": "/interviews/%s/cancel", "pause-interview": "/interviews/%s/pause", "resume-interview": "/interviews/%s/resume", "cancel-job": "/jobs/%s/cancel"}[route]
	caller := api{&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}, base, token}
	callAPI := func(id string) error {
		_, _, err := caller.send(ctx, http.MethodPost, fmt.Sprintf(path, id), "", false, http.StatusOK)
		return err
	}
	actor := lifecycle.Actor{Sub: "bench", Roles: []string{"Dispatcher"}}
	interviews := dynamo.NewInterviews(db, "bench", time.Now, lifecycle.NewID)
	jobs := dynamo.NewJobs(db, "bench", time.Now, lifecycle.NewID)
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
			return r, err
		}
		if err := second(); err != nil {
			return r, err
		}
	}
	r.P50, r.P99 = percentile(apiTimes, 0.5), percentile(apiTimes, 0.99)
	r.BareP50, r.BareP99 = percentile(bareTimes, 0.5), percentile(bareTimes, 0.99)
	r.RequestsPerCall = float64(calls) / float64(len(viaAPI))
	return r, nil
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
	times, errs := make([]time.Duration, len(ids)), make([]error, len(ids))
	work := make(chan int)
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for i := range work {
				start := time.Now()
				errs[i] = f(ids[i])
				times[i] = time.Since(start)
			}
		})
	}
	for i := range ids {
		work <- i
	}
	close(work)
	wg.Wait()
	return times, cmp.Or(errs...)
}

// entities writes n fresh sessions (or jobs with an assignment) in the state route leaves.
func entities(ctx context.Context, db *dynamodb.Client, route, prefix string, n int) ([]string, error) {
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var ids []string
	var writes []types.WriteRequest
	put := func(item map[string]types.AttributeValue) {
		writes = append(writes, types.WriteRequest{PutRequest: &types.PutRequest{Item: item}})
	}
	for i := range n {
		pad := strings.Repeat("0", 6-len(prefix))
		id := fmt.Sprintf("be%s%s-0000-4000-8000-%012d", prefix, pad, i)
		ids = append(ids, id)
		switch route {
		case "cancel-job":
			a := job.Assignment{ID: fmt.Sprintf("a5%s%s-0000-4000-8000-%012d", prefix, pad, i), JobID: id, TechnicianID: "tech", Status: job.Confirmed, Version: 1,
				ScheduledStart: t0, ScheduledEnd: t0.Add(time.Hour), CreatedAt: t0, UpdatedAt: t0}
			put(dynamo.JobItem(job.Job{ID: id, Title: "bench", Status: job.Assigned, Version: 1, CreatedAt: t0, UpdatedAt: t0, Assignment: &a}))
			put(dynamo.AssignmentItem(a))
		default:
			st := interview.Active
			if route == "resume-interview" {
				st = interview.Paused
			}
			put(dynamo.SessionItem(interview.Session{ID: id, OwnerID: "bench", Title: "bench", TopicIDs: []string{"t"}, InterviewerID: "i",
				Status: st, Version: 1, CreatedAt: t0, UpdatedAt: t0, RecentMessages: []byte(`[{"id":"m1","output":{"text":"hello"}}]`)}))
		}
	}
	// BatchWriteItem takes 25 items a request, and may hand some back to send again.
	for batch := range slices.Chunk(writes, 25) {
		for len(batch) > 0 {
			out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{"bench": batch}})
			if err != nil {
				return nil, err
			}
			batch = out.UnprocessedItems["bench"]
		}
	}
	return ids, nil
}
