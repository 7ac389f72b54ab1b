package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

const (
	skJob        = "JOB"
	skAssignment = "ASSIGNMENT#"
)

// Jobs stores jobs and their assignments. A job and all its assignments share one
// partition (pk JOB#<id>), so one Query reads a job with its assignment.
type Jobs struct {
	db       API
	table    string
	now      func() time.Time
	newToken func() string
	// backOff waits between lost races (the package's backOff; a test's no-op).
	backOff func(ctx context.Context, race int)
	// compiled holds the cancel's expressions of every shape, rendered once (see
	// compiled in expr.go).
	compiled map[jobShape]*compiled
}

// NewJobs returns the job store on table. newToken makes each transaction's
// ClientRequestToken (at most 36 characters).
func NewJobs(db API, table string, now func() time.Time, newToken func() string) *Jobs {
	s := &Jobs{db: db, table: table, now: now, newToken: newToken, backOff: backOff, compiled: map[jobShape]*compiled{}}
	a := job.Assignment{ID: "a", JobID: "j", Status: job.Confirmed}
	requestShapes(func(reason, corr string, _ *float64) {
		req := job.Request{Request: lifecycle.Request{Actor: lifecycle.Actor{Sub: "dispatcher"}, Reason: reason, CorrelationID: corr}}
		for _, j := range []job.Job{{ID: "j"}, {ID: "j", Assignment: &a}} {
			e, cond := cancelJobExpr(newExpr(), j, j.Cancelled(time.Time{}, "", reason), req, "")
			s.compiled[jobShapeOf(j, req)] = compile(e, cond)
		}
		e, cond := cancelAssignmentExpr(newExpr(), a, req, "")
		s.compiled[assignmentShapeOf(req)] = compile(e, cond)
	})
	return s
}

// jobShape is what decides the strings of a cancel's write: which item (the job, with or
// without the assignment it cancels, or the assignment), and whether the request brings
// a reason and a correlation id.
type jobShape struct {
	assignment, withAssignment bool
	reason, corr               bool
}

func jobShapeOf(j job.Job, req job.Request) jobShape {
	return jobShape{withAssignment: j.CurrentAssignment() != nil, reason: req.Reason != "", corr: req.CorrelationID != ""}
}

func assignmentShapeOf(req job.Request) jobShape {
	return jobShape{assignment: true, reason: req.Reason != "", corr: req.CorrelationID != ""}
}

func jobPK(id string) types.AttributeValue { return sAV("JOB#" + id) }

func jobKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attr.PK: jobPK(id), attr.SK: sAV(skJob)}
}

func assignmentKey(jobID, id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attr.PK: jobPK(jobID), attr.SK: sAV(skAssignment + id)}
}

// Get reads a job with its current assignment: one strongly consistent Query of its
// partition.
func (s *Jobs) Get(ctx context.Context, id string) (job.Job, error) {
	j, _, err := s.read(ctx, id)
	return j, err
}

// read is Get, also returning the job's item as stored.
func (s *Jobs) read(ctx context.Context, id string) (job.Job, map[string]types.AttributeValue, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attr.PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": jobPK(id)},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return job.Job{}, nil, storeError("read job", err)
	}
	var (
		j           job.Job
		raw         map[string]types.AttributeValue
		currentID   string
		assignments = map[string]job.Assignment{}
	)
	for _, it := range out.Items {
		sk := (&item{m: it}).str(attr.SK)
		switch {
		case sk == skJob:
			if j, err = JobFromItem(it); err != nil {
				return job.Job{}, nil, err
			}
			raw, currentID = it, (&item{m: it}).str(attr.AssignmentID)
		case strings.HasPrefix(sk, skAssignment):
			a, err := AssignmentFromItem(it)
			if err != nil {
				return job.Job{}, nil, err
			}
			assignments[a.ID] = a
		}
	}
	if raw == nil {
		return job.Job{}, nil, lifecycle.ErrNotFound
	}
	if currentID != "" {
		a, ok := assignments[currentID]
		if !ok {
			// A job names an assignment its partition does not hold (or one beyond the
			// first 1 MB of it): refuse rather than act on half the picture.
			return job.Job{}, nil, fmt.Errorf("job %s: current assignment %s not found", id, currentID)
		}
		j.Assignment = &a
	}
	return j, raw, nil
}

// Create stores the job d makes under req.ID, in one transaction: the job's put, guarded by
// there being no item under its key (a create never overwrites one), and the request's
// record (requests.go). The item records the action and the actor as a transition does, so
// the stream announces it (JobCreated). A retry of a create that applied gets the job as it
// is now and replay true; the same key with another request is
// lifecycle.ErrIdempotencyKeyReused.
func (s *Jobs) Create(ctx context.Context, d job.Draft, req job.Request) (job.Job, bool, error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	j := job.New(req.ID, d, now)
	got, err := putNew(ctx, s.db, s.table, s.newToken(), JobItem(j),
		createRequest{job.ActionCreate, req.Actor, req.CorrelationID, req.Idempotency}, now, "create job")
	switch {
	case err != nil:
		return job.Job{}, false, err
	case got.replay:
		cur, _, err := s.read(ctx, j.ID)
		return cur, err == nil, err
	case got.existing == nil:
		return j, false, nil
	}
	// The put met an item under the id and no record of this request: a client's key names
	// its id, so this is a retry of the key's create from before its record expired.
	if req.Idempotency.Client {
		cur, _, err := s.read(ctx, j.ID)
		return cur, err == nil, err
	}
	return job.Job{}, false, fmt.Errorf("create job %s: the id is taken: %w", j.ID, lifecycle.ErrConflict)
}

// Cancel cancels a job and its current assignment atomically (apply): the job's cancel,
// its assignment's, and the release of the assignment's window from the technician's
// calendar, in one transaction.
func (s *Jobs) Cancel(ctx context.Context, req job.Request) (job.Job, bool, error) {
	return s.apply(ctx, job.Cancel, req, func(j job.Job, now time.Time) step {
		after := j.Cancelled(now, req.Actor.Sub, req.Reason)
		items := []types.TransactWriteItem{{Update: s.cancelJobUpdate(j, after, req, now)}}
		if a := j.CurrentAssignment(); a != nil {
			items = append(items, types.TransactWriteItem{Update: s.cancelAssignmentUpdate(*a, req, now)})
			// The technician's calendar gets the window back (jobs_assign.go).
			items, _ = s.moveBooking(items, j.ID, a, nil)
		}
		return step{items: items, after: after}
	})
}

// step is one job transition's write, planned on the job as read: its items (the store
// adds the request's record), the job as it leaves it, and, when set, a reading of a
// cancelled transaction for a refusal of the transition's own (a booking conflict), asked
// only when the request has not applied before; nil lets the rest count as a race.
type step struct {
	items   []types.TransactWriteItem
	after   job.Job
	refused func(*types.TransactionCanceledException) error
}

// apply performs job transition t for req: it reads the job and its assignments (one
// strongly consistent Query), lets the domain decide (t.Decide: who, the job's status, the
// assignment's), and writes in one
// transaction what plan makes of the job read, each item guarded by the version it read,
// with the request's record, guarded by there being none. A request applies at most once
// within RequestWindow: a retry of one that has applied gets replay true and the job as it
// is now. A job that changes between the read and the write is read again, after a random
// wait (up to maxRaces times, then lifecycle.ErrConflict).
func (s *Jobs) apply(ctx context.Context, t job.Transition, req job.Request, plan func(j job.Job, now time.Time) step) (job.Job, bool, error) {
	for race := 0; ; race++ {
		j, raw, err := s.read(ctx, req.ID)
		if err != nil {
			return job.Job{}, false, err
		}
		if ok, err := replayed(raw, req.Idempotency); err != nil || ok {
			return j, ok, err
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		if err := t.Decide(j, req.Actor); err != nil {
			if errors.Is(err, lifecycle.ErrForbidden) {
				return job.Job{}, false, err
			}
			// A retry of a request that applied, to a job that has moved on since.
			if req.Idempotency.Client {
				if ok, lerr := lookUpRequest(ctx, s.db, s.table, jobPK(req.ID), req.Idempotency, now); lerr != nil || ok {
					return j, ok, lerr
				}
			}
			return job.Job{}, false, err
		}
		p := plan(j, now)
		items := append(p.items, requestPut(s.table, jobPK(j.ID), req.Idempotency, p.after.Version, now))
		_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
			ClientRequestToken: aws.String(s.newToken()),
			TransactItems:      items,
		})
		if err == nil {
			return p.after, false, nil
		}
		canceled, ok := errors.AsType[*types.TransactionCanceledException](err)
		if !ok {
			return job.Job{}, false, storeError(t.Action+" job", err)
		}
		// A replay first (the request applied, and its answer was lost: whatever holds the
		// time now, the booking is made), then the transition's own refusal, which counts
		// only when it was decided on the job as it is (refused checks that every guard but
		// the slots' held), else a race: read again and decide afresh.
		why := explainCanceled(canceled, req.Idempotency, now)
		if why.err == nil && !why.replay && p.refused != nil {
			if err := p.refused(canceled); err != nil {
				return job.Job{}, false, err
			}
		}
		switch {
		case why.err != nil:
			return job.Job{}, false, why.err
		case why.replay:
			cur, _, rerr := s.read(ctx, req.ID)
			return cur, rerr == nil, rerr
		case race+1 == maxRaces:
			return job.Job{}, false, lifecycle.ErrConflict
		}
		s.backOff(ctx, race)
	}
}

// cancelJobUpdate is the job's half of the cancel: guarded by the version read and the
// legal source states; it records the assignment it cancels (for the JobCancelled event)
// and keeps the job's board entry (after is the job as the cancel leaves it).
func (s *Jobs) cancelJobUpdate(j, after job.Job, req job.Request, now time.Time) *types.Update {
	c := s.compiled[jobShapeOf(j, req)]
	return guardedUpdate(s.table, jobKey(j.ID), c.render(cancelJobExpr(c.start(), j, after, req, lifecycle.FormatTime(now))))
}

func cancelJobExpr(e *expr, j, after job.Job, req job.Request, now string) (*expr, string) {
	transitionWrite{
		to: string(job.Cancel.To), now: now, action: job.Cancel.Action,
		actor: req.Actor, corr: req.CorrelationID,
		stampedAt: attr.CancelledAt, stampedBy: attr.CancelledBy, reason: req.Reason,
	}.apply(e)
	if a := j.CurrentAssignment(); a != nil {
		snap := itemWriter{}
		snap[attr.ID] = sAV(a.ID)
		snap.str(attr.TechnicianID, a.TechnicianID)
		snap.time(attr.ScheduledStart, a.ScheduledStart)
		snap.time(attr.ScheduledEnd, a.ScheduledEnd)
		snap.str(attr.Status, string(a.Status))
		snap[attr.Version] = iAV(a.Version + 1)
		e.set(attr.CancelledAssignment, &types.AttributeValueMemberM{Value: snap})
	} else {
		// The write's shape (jobShapeOf) has no assignment: neither does its board copy.
		after.Assignment = nil
	}
	setBoard(e, after)
	return e, e.and(e.equals(attr.Version, iAV(j.Version)), e.in(attr.Status, strs(job.Cancel.From)))
}

// cancelAssignmentUpdate is the assignment's half: guarded by its version and its
// non-cancelled states.
func (s *Jobs) cancelAssignmentUpdate(a job.Assignment, req job.Request, now time.Time) *types.Update {
	c := s.compiled[assignmentShapeOf(req)]
	return guardedUpdate(s.table, assignmentKey(a.JobID, a.ID), c.render(cancelAssignmentExpr(c.start(), a, req, lifecycle.FormatTime(now))))
}

func cancelAssignmentExpr(e *expr, a job.Assignment, req job.Request, now string) (*expr, string) {
	transitionWrite{
		to: string(job.CancelAssignment.To), now: now, action: job.CancelAssignment.Action,
		actor: req.Actor, corr: req.CorrelationID,
		stampedAt: attr.CancelledAt, stampedBy: attr.CancelledBy, reason: req.Reason,
	}.apply(e)
	return e, e.and(e.equals(attr.Version, iAV(a.Version)), e.in(attr.Status, strs(job.CancelAssignment.From)))
}

// guardedUpdate is one conditional update of a transaction, returning the item as it was
// when its condition fails.
func guardedUpdate(table string, key map[string]types.AttributeValue, w rendered) *types.Update {
	return &types.Update{
		TableName:                           aws.String(table),
		Key:                                 key,
		UpdateExpression:                    aws.String(w.update),
		ConditionExpression:                 aws.String(w.condition),
		ExpressionAttributeNames:            w.names,
		ExpressionAttributeValues:           w.values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}
