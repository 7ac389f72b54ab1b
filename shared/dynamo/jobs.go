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

// JobsAPI is the part of the DynamoDB client the job store uses.
type JobsAPI interface {
	API
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Jobs stores jobs and their assignments. A job and all its assignments share one
// partition (pk JOB#<id>), so one Query reads a job with its assignment.
type Jobs struct {
	db       JobsAPI
	table    string
	now      func() time.Time
	newToken func() string
	// compiled holds the cancel's expressions of every shape, rendered once (see
	// compiled in expr.go).
	compiled map[jobShape]*compiled
}

// NewJobs returns the job store on table. newToken makes each transaction's
// ClientRequestToken (at most 36 characters).
func NewJobs(db JobsAPI, table string, now func() time.Time, newToken func() string) *Jobs {
	s := &Jobs{db: db, table: table, now: now, newToken: newToken, compiled: map[jobShape]*compiled{}}
	a := job.Assignment{ID: "a", JobID: "j", Status: job.Confirmed}
	requestShapes(func(reason, corr string, idem lifecycle.Idempotency) {
		req := job.Request{Actor: lifecycle.Actor{Sub: "dispatcher"}, Reason: reason, CorrelationID: corr, Idempotency: idem}
		for _, j := range []job.Job{{ID: "j"}, {ID: "j", Assignment: &a}} {
			e, cond := cancelJobExpr(newExpr(), j, req, "")
			s.compiled[jobShapeOf(j, req)] = compile(e, cond)
		}
		e, cond := cancelAssignmentExpr(newExpr(), a, req, "")
		s.compiled[assignmentShapeOf(req)] = compile(e, cond)
	})
	return s
}

// jobShape is what decides the strings of a cancel's write: which item (the job, with or
// without the assignment it cancels, or the assignment), and whether the request brings
// a reason, a correlation id and a request key.
type jobShape struct {
	assignment, withAssignment bool
	reason, corr, key          bool
}

func jobShapeOf(j job.Job, req job.Request) jobShape {
	return jobShape{withAssignment: j.CurrentAssignment() != nil, reason: req.Reason != "", corr: req.CorrelationID != "", key: req.Idempotency.Key != ""}
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
			raw, currentID = it, (&item{m: it}).str("assignmentId")
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

// Cancel cancels a job and its current assignment atomically, in at most two requests:
// the Query that reads them, then one write guarded by the versions read and the legal
// source states. With an assignment the write is a TransactWriteItems of both updates
// (with a ClientRequestToken, so an SDK retry cannot apply it twice); without one it is a
// single conditional UpdateItem. A write that loses a race is explained from the item as
// it was (ALL_OLD): not found, an illegal status (400), or a concurrent change (409).
// A job that carries this request's idempotency key was cancelled by an earlier attempt of
// it: replayed is true and the job is returned as that attempt left it.
func (s *Jobs) Cancel(ctx context.Context, req job.Request) (cancelled job.Job, replay bool, err error) {
	j, raw, err := s.read(ctx, req.ID)
	if err != nil {
		return job.Job{}, false, err
	}
	now := s.now().UTC().Truncate(time.Millisecond)
	if ok, err := replayed(raw, req.Idempotency); err != nil || ok {
		return j, ok, err
	}
	if err := job.Cancel.Check(j.Status); err != nil {
		return job.Job{}, false, err
	}
	jobUpdate := s.cancelJobUpdate(j, req, now)
	a := j.CurrentAssignment()
	if a == nil {
		out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:                           jobUpdate.TableName,
			Key:                                 jobUpdate.Key,
			UpdateExpression:                    jobUpdate.UpdateExpression,
			ConditionExpression:                 jobUpdate.ConditionExpression,
			ExpressionAttributeNames:            jobUpdate.ExpressionAttributeNames,
			ExpressionAttributeValues:           jobUpdate.ExpressionAttributeValues,
			ReturnValues:                        types.ReturnValueAllNew,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err != nil {
			if failed, ok := errors.AsType[*types.ConditionalCheckFailedException](err); ok {
				return s.refused(failed.Item, req, j.Assignment)
			}
			return job.Job{}, false, storeError("cancel job", err)
		}
		updated, err := JobFromItem(out.Attributes)
		if err != nil {
			return job.Job{}, false, err
		}
		updated.Assignment = j.Assignment
		return updated, false, nil
	}

	_, err = s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
		ClientRequestToken: aws.String(s.newToken()),
		TransactItems: []types.TransactWriteItem{
			{Update: jobUpdate},
			{Update: s.cancelAssignmentUpdate(*a, req, now)},
		},
	})
	if err != nil {
		if canceled, ok := errors.AsType[*types.TransactionCanceledException](err); ok {
			if r := canceled.CancellationReasons; len(r) > 0 && aws.ToString(r[0].Code) == "ConditionalCheckFailed" {
				return s.refused(r[0].Item, req, nil)
			}
			return job.Job{}, false, transactionRefusal(canceled)
		}
		return job.Job{}, false, storeError("cancel job", err)
	}
	return j.Cancelled(now, req.Actor.Sub, req.Reason), false, nil
}

// refused explains a failed condition on the job from the item as it was: this same
// request's earlier success (a replay, rebuilt from the item and the assignment snapshot it
// recorded, or keep when it recorded none), or else what jobRefusal says.
func (s *Jobs) refused(old map[string]types.AttributeValue, req job.Request, keep *job.Assignment) (job.Job, bool, error) {
	ok, err := replayed(old, req.Idempotency)
	if err != nil {
		return job.Job{}, false, err
	}
	if !ok {
		return job.Job{}, false, jobRefusal(old)
	}
	j, err := JobFromItem(old)
	if err != nil {
		return job.Job{}, false, err
	}
	j.Assignment = keep
	if a := cancelledAssignmentOf(j, old); a != nil {
		j.Assignment = a
	}
	return j, true, nil
}

// cancelledAssignmentOf rebuilds, from a cancelled job's snapshot, the assignment its
// cancel ended; nil when it ended none.
func cancelledAssignmentOf(j job.Job, old map[string]types.AttributeValue) *job.Assignment {
	it := &item{m: old}
	snap, ok := it.mapAttr(attr.CancelledAssignment)
	if !ok {
		return nil
	}
	sn := &item{m: snap}
	a := &job.Assignment{
		ID: sn.str(attr.ID), JobID: j.ID, TechnicianID: sn.str(attr.TechnicianID),
		ScheduledStart: sn.time(attr.ScheduledStart), ScheduledEnd: sn.time(attr.ScheduledEnd),
		Status: job.AssignmentCanceled, Version: sn.int(attr.Version),
		UpdatedAt: j.UpdatedAt, CancelledAt: j.CancelledAt, CancelledBy: j.CancelledBy, CancelReason: j.CancelReason,
	}
	if sn.err != nil {
		return nil
	}
	return a
}

// cancelJobUpdate is the job's half of the cancel: guarded by the version read and the
// legal source states; it records the assignment it cancels (for the JobCancelled event).
func (s *Jobs) cancelJobUpdate(j job.Job, req job.Request, now time.Time) *types.Update {
	c := s.compiled[jobShapeOf(j, req)]
	return guardedUpdate(s.table, jobKey(j.ID), c.render(cancelJobExpr(c.start(), j, req, lifecycle.FormatTime(now))))
}

func cancelJobExpr(e *expr, j job.Job, req job.Request, now string) (*expr, string) {
	transitionWrite{
		to: string(job.Cancel.To), now: now, action: job.Cancel.Action,
		actor: req.Actor, corr: req.CorrelationID,
		stampedAt: "cancelledAt", stampedBy: "cancelledBy", reason: req.Reason, idem: req.Idempotency,
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
	}
	cond := e.and(e.equals(attr.Version, iAV(j.Version)), e.in(attr.Status, strs(job.Cancel.From)))
	if na := notApplied(e, req.Idempotency); na != "" {
		cond = e.and(cond, na)
	}
	return e, cond
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
		stampedAt: "cancelledAt", stampedBy: "cancelledBy", reason: req.Reason,
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

// jobRefusal explains a failed job condition from the item as it was.
func jobRefusal(old map[string]types.AttributeValue) error {
	if len(old) == 0 {
		return lifecycle.ErrNotFound
	}
	j, err := JobFromItem(old)
	if err != nil {
		return err
	}
	if err := job.Cancel.Check(j.Status); err != nil {
		return err
	}
	// Still cancellable, so the version moved: someone changed the job since we read it.
	return lifecycle.ErrConflict
}

// transactionRefusal maps a cancelled transaction's reasons, in TransactItems order (job,
// assignment), to a domain error.
func transactionRefusal(e *types.TransactionCanceledException) error {
	var codes []string
	for i, r := range e.CancellationReasons {
		code := aws.ToString(r.Code)
		codes = append(codes, code)
		switch code {
		case "None", "":
		case "ConditionalCheckFailed":
			if i == 0 {
				return jobRefusal(r.Item)
			}
			return lifecycle.ErrConflict // the assignment changed since it was read
		case "TransactionConflict":
			return lifecycle.ErrConflict
		case "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded":
			return fmt.Errorf("cancel job: %w: %v", lifecycle.ErrUnavailable, codes)
		}
	}
	return fmt.Errorf("cancel job: transaction cancelled: %v: %w", codes, e)
}
