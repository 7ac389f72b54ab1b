package robustness

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// round is a set of entities, the requests made on them, and their history.
type round struct {
	n        int
	techs    []string // the technicians the jobs are booked onto, every group's
	ents     []*entity
	mu       sync.Mutex
	reqs     []*request
	sent     chan struct{} // closed once the round's load is all sent (timers.go)
	inflight sync.WaitGroup
}

// The technicians' day: every booking of the load falls on it. The load's windows start
// on a quarter-hour from 09:00 to 10:45 and last 30, 45 or 60 minutes, so that, on a few
// technicians, bookings often overlap (and each books a few slots: every slot is a
// stream record for the publisher to read past).
var (
	bookingDay   = time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
	windowStarts = 8
	windowLength = []time.Duration{30 * time.Minute, 45 * time.Minute, time.Hour}
)

// jobShare: one request in jobShare is a job's (when the round has technicians; one in
// twenty, a cancel, when it has none).
const jobShare = 4

// bookingGroup is how many jobs share a group's technicians. The groups are independent,
// so each is a partition of the history of its own: porcupine's search grows with the
// attempts of a partition that may land at any time (no answer), and one partition of all
// a full run's jobs took it seconds and hundreds of MiB.
const bookingGroup = 4

// newRound loads round n's sessions (active) and jobs, all at version 1. The jobs are dealt
// into booking groups of up to bookingGroup, each with Technicians technicians of its own
// (and each round with its own); in a group, every other job is booked (Assigned, with a
// pending assignment of an hour on one of the group's technicians, from 09:00, then 10:00,
// in the load's candidate windows, and its slots in the technician's calendar; none of
// them overlap) and the others are Unassigned.
func (h *harness) newRound(ctx context.Context, n int) (*round, error) {
	rd := &round{n: n, sent: make(chan struct{})}
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var items []map[string]types.AttributeValue // a job's after its assignment and slots
	for i := range h.o.Sessions {
		id := fmt.Sprintf("5e55%04x-0000-4000-8000-%012x", n, i+1)
		s := interview.Session{ID: id, OwnerID: "load", Title: "Load " + strconv.Itoa(i), TopicIDs: []string{"t"}, InterviewerID: "i",
			Status: interview.Active, Version: 1, CreatedAt: t0, UpdatedAt: t0}
		items = append(items, dynamo.SessionItem(s))
		rd.ents = append(rd.ents, &entity{kind: kindInterview, id: id, group: id, seeded: state{Status: string(interview.Active), Version: 1}})
	}
	for i := range h.o.Jobs {
		id := fmt.Sprintf("0b5e%04x-0000-4000-8000-%012x", n, i+1)
		g, in := i/bookingGroup, i%bookingGroup
		var techs []string
		for k := range h.o.Technicians {
			techs = append(techs, fmt.Sprintf("tech-%d-%d-%d", n, g+1, k+1))
		}
		if in == 0 {
			rd.techs = append(rd.techs, techs...)
		}
		j := job.Job{ID: id, Title: "Load job", Status: job.Unassigned, Version: 1, CreatedAt: t0, UpdatedAt: t0}
		seeded := state{Status: string(job.Unassigned), Version: 1}
		if in%2 == 0 && len(techs) > 0 {
			start := bookingDay.Add(9*time.Hour + time.Duration(in/2)*time.Hour)
			a := job.Assignment{ID: fmt.Sprintf("a55e%04x-0000-4000-8000-%012x", n, i+1), JobID: id, TechnicianID: techs[(in/2)%len(techs)],
				Status: job.Pending, Version: 1, ScheduledStart: start, ScheduledEnd: start.Add(time.Hour), CreatedAt: t0, UpdatedAt: t0}
			j.Status, j.Assignment = job.Assigned, &a
			items = append(append(items, dynamo.AssignmentItem(a)), dynamo.SlotItems(a)...)
			seeded = state{Status: string(job.Assigned), Version: 1, Booking: booking{Tech: a.TechnicianID, Start: start.Unix(), End: a.ScheduledEnd.Unix()}}
		}
		items = append(items, dynamo.JobItem(j))
		rd.ents = append(rd.ents, &entity{kind: kindJob, id: id, group: fmt.Sprintf("bookings-round%d-group%d", n, g+1), techs: techs,
			seeded: seeded})
	}
	for _, it := range items {
		if _, err := h.st.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("reliability"), Item: it}); err != nil {
			return nil, err
		}
	}
	for _, e := range rd.ents {
		e.seededAt = h.now()
	}
	return rd, nil
}

// next draws the round's next request: mostly pauses and resumes, so sessions live
// through long chains of transitions; a few cancels end them. One request in jobShare is a
// job's: an assignment (of an Unassigned job, or a reassignment) to one of its group's
// technicians, or a reschedule, each in a window drawn from the day's candidates, or, now
// and then, a cancel.
func (h *harness) next(rd *round) *request {
	jobs := rd.ents[h.o.Sessions:]
	r := &request{key: lifecycle.NewID()}
	h.rngMu.Lock()
	share := 20
	if len(rd.techs) > 0 {
		share = jobShare
	}
	if len(jobs) > 0 && (h.o.Sessions == 0 || h.rng.IntN(share) == 0) {
		r.ent, r.action = jobs[h.rng.IntN(len(jobs))], "cancel"
		if len(r.ent.techs) > 0 && h.rng.Float64() >= h.cancelShare {
			start := bookingDay.Add(9*time.Hour + time.Duration(h.rng.IntN(windowStarts))*slotSize)
			r.ask = booking{Start: start.Unix(), End: start.Add(windowLength[h.rng.IntN(len(windowLength))]).Unix()}
			r.action = "reschedule"
			if h.rng.IntN(2) == 0 {
				r.action, r.ask.Tech = "assign", r.ent.techs[h.rng.IntN(len(r.ent.techs))]
			}
		}
	} else {
		r.ent = rd.ents[h.rng.IntN(h.o.Sessions)]
		switch x := h.rng.IntN(100); {
		case x < 49:
			r.action = "pause"
			if h.rng.IntN(2) == 0 {
				r.resumeAt = time.Now().Add(timerResumes).UTC().Truncate(time.Second)
			}
		case x < 98:
			r.action = "resume"
		default:
			r.action = "cancel"
		}
	}
	h.rngMu.Unlock()
	rd.mu.Lock()
	r.cor = fmt.Sprintf("rel-%d-%d", rd.n, len(rd.reqs))
	rd.reqs = append(rd.reqs, r)
	rd.mu.Unlock()
	rd.inflight.Add(1)
	return r
}

// work is a request for a worker.
type work struct {
	rd *round
	r  *request
}

// workers starts the load's clients; close the channel to stop them.
func (h *harness) workers(ctx context.Context) (chan<- work, *sync.WaitGroup) {
	ch := make(chan work)
	var wg sync.WaitGroup
	for w := range h.o.Clients {
		wg.Go(func() {
			for j := range ch {
				h.loadStart.CompareAndSwap(0, h.now())
				h.send(ctx, w, j.r)
				h.loadEnd.Store(h.now())
				j.r.ent.tell(j.r)
				h.plan(ctx, j.rd, j.r)
				j.rd.inflight.Done()
			}
		})
	}
	return ch, &wg
}
