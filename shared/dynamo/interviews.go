package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// API is the part of the DynamoDB client the stores use.
type API interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// Interviews stores interview sessions.
type Interviews struct {
	db    API
	table string
	now   func() time.Time
	// compiled holds the expressions of every shape of every transition in
	// interview.Transitions, rendered once (see transitionInput).
	compiled map[writeShape]*compiled
}

// NewInterviews returns the interview store on table, stamping writes with now().
func NewInterviews(db API, table string, now func() time.Time) *Interviews {
	s := &Interviews{db: db, table: table, now: now, compiled: map[writeShape]*compiled{}}
	for _, t := range interview.Transitions {
		requestShapes(func(reason, corr string, idem lifecycle.Idempotency) {
			req := interview.Request{Actor: lifecycle.Actor{Sub: "owner"}, Reason: reason, CorrelationID: corr, Idempotency: idem}
			e, cond := transitionExpr(newExpr(), t, req, "")
			s.compiled[shapeOf(t, req)] = compile(e, cond)
		})
	}
	return s
}

// writeShape is what decides the strings of a transition's write: the transition, and
// whether the request brings a reason (for a transition that records one), a correlation
// id and a request key.
type writeShape struct {
	action, to        string
	reason, corr, key bool
}

func shapeOf(t interview.Transition, req interview.Request) writeShape {
	return writeShape{action: t.Action, to: string(t.To), reason: t.TakesReason && req.Reason != "", corr: req.CorrelationID != "", key: req.Idempotency.Key != ""}
}

func interviewKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attr.PK: sAV("INTERVIEW#" + id),
		attr.SK: sAV("INTERVIEW"),
	}
}

func ownerStatus(owner string, s interview.Status) string { return owner + "#" + string(s) }

// Apply performs transition t on the session req.ID in one conditional UpdateItem. The
// condition holds the caller's ownership and the transition's legal source states; when it
// fails, DynamoDB returns the item as it was (ALL_OLD) and the domain's own Check says why:
// lifecycle.ErrNotFound, lifecycle.ErrForbidden or an *lifecycle.InvalidTransitionError.
// The condition also holds that this request has not applied already, so a retry never
// applies twice; when it had (its response was lost), replay is true and the session is
// returned as it is: as that write left it, or as later transitions have left it since.
// Throttling and outages that outlast the SDK's retries are lifecycle.ErrUnavailable.
func (s *Interviews) Apply(ctx context.Context, t interview.Transition, req interview.Request) (sess interview.Session, replay bool, err error) {
	in := s.transitionInput(t, req)
	out, err := s.db.UpdateItem(ctx, in)
	if err != nil {
		var failed *types.ConditionalCheckFailedException
		if !errors.As(err, &failed) {
			return interview.Session{}, false, storeError("update interview", err)
		}
		if len(failed.Item) == 0 {
			return interview.Session{}, false, lifecycle.ErrNotFound
		}
		old, derr := SessionFromItem(failed.Item)
		if derr != nil {
			return interview.Session{}, false, derr
		}
		if aerr := interview.Authorize(old, req.Actor); aerr != nil {
			return interview.Session{}, false, aerr
		}
		if ok, rerr := replayed(failed.Item, req.Idempotency); rerr != nil || ok {
			return old, ok, rerr
		}
		if cerr := t.Check(old, req.Actor); cerr != nil {
			return interview.Session{}, false, cerr
		}
		// The write's condition and Check disagree: the item must have changed shape
		// (for example an owner-less record). Report it as a conflict, never as success.
		return interview.Session{}, false, lifecycle.ErrConflict
	}
	sess, err = SessionFromItem(out.Attributes)
	return sess, false, err
}

// transitionInput builds the UpdateItem for t from the lifecycle table: the target state,
// the version step, the timestamps the row names, and the audit fields the events need.
// The expression's strings and names come from the store's compiled transitions when t is
// one of them (only the values are made per request), or are rendered afresh.
func (s *Interviews) transitionInput(t interview.Transition, req interview.Request) *dynamodb.UpdateItemInput {
	c := s.compiled[shapeOf(t, req)]
	if c != nil && !sameRule(t, interviewTransition(t.Action)) {
		c = nil
	}
	w := c.render(transitionExpr(c.start(), t, req, lifecycle.FormatTime(s.now())))
	return &dynamodb.UpdateItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 interviewKey(req.ID),
		UpdateExpression:                    aws.String(w.update),
		ConditionExpression:                 aws.String(w.condition),
		ExpressionAttributeNames:            w.names,
		ExpressionAttributeValues:           w.values,
		ReturnValues:                        types.ReturnValueAllNew,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// transitionExpr builds t's write for req at now into e, and returns e with the write's
// condition.
func transitionExpr(e *expr, t interview.Transition, req interview.Request, now string) (*expr, string) {
	w := transitionWrite{
		to:        string(t.To),
		now:       now,
		action:    t.Action,
		actor:     req.Actor,
		corr:      req.CorrelationID,
		stampedAt: t.StampedAt,
		stampedBy: t.StampedBy,
		idem:      req.Idempotency,
	}
	if t.TakesReason {
		w.reason = req.Reason
	}
	w.apply(e)
	e.set(attr.OwnerStatus, sAV(ownerStatus(req.Actor.Sub, t.To)))
	cond := e.and(e.equals(attr.OwnerID, sAV(req.Actor.Sub)), e.in(attr.Status, strs(t.From)))
	if na := notApplied(e, req.Idempotency); na != "" {
		cond = e.and(cond, na)
	}
	return e, cond
}

// interviewTransition is the transition of interview.Transitions named action.
func interviewTransition(action string) interview.Transition {
	for _, t := range interview.Transitions {
		if t.Action == action {
			return t
		}
	}
	return interview.Transition{}
}

// sameRule reports whether a and b write the same: a compiled write is used only for the
// very transition it was compiled from.
func sameRule(a, b interview.Transition) bool {
	return a.Action == b.Action && a.To == b.To && slices.Equal(a.From, b.From) &&
		a.StampedAt == b.StampedAt && a.StampedBy == b.StampedBy && a.TakesReason == b.TakesReason
}

func actorAV(a lifecycle.Actor) types.AttributeValue {
	return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		attr.ActorSub:   sAV(a.Sub),
		attr.ActorRoles: listAV(a.Roles),
	}}
}

// SessionFromItem decodes a stored session.
func SessionFromItem(m map[string]types.AttributeValue) (interview.Session, error) {
	it := &item{m: m}
	s := interview.Session{
		ID:                it.str(attr.ID),
		OwnerID:           it.str(attr.OwnerID),
		TopicIDs:          it.strings("topicIds"),
		TopicLabels:       it.strings("topicLabels"),
		Title:             it.str("title"),
		Progress:          it.num("progress"),
		Score:             it.num("score"),
		TargetScore:       it.optNum("targetScore"),
		CreatedAt:         it.time(attr.CreatedAt),
		UpdatedAt:         it.time(attr.UpdatedAt),
		LastInteractionAt: it.time("lastInteractionAt"),
		InterviewerID:     it.str("interviewerId"),
		ConversationID:    it.str("conversationId"),
		Status:            interview.Status(it.str(attr.Status)),
		Labels:            it.strings("labels"),
		Notes:             it.str("notes"),
		Language:          it.str("language"),
		Difficulty:        int(it.int("difficulty")),
		Version:           it.int(attr.Version),
		PreviousStatus:    interview.Status(it.str("previousStatus")),
		CancelledAt:       it.time("cancelledAt"),
		CancelledBy:       it.str("cancelledBy"),
		CancelReason:      it.str(attr.CancelReason),
		PausedAt:          it.time("pausedAt"),
		ResumedAt:         it.time("resumedAt"),
	}
	if rp, ok := it.mapAttr("retryPolicy"); ok {
		sub := &item{m: rp}
		s.RetryPolicy = &interview.RetryPolicy{
			MinCooldownHours:   sub.optNum("minCooldownHours"),
			AutoSuggestIfBelow: sub.optNum("autoSuggestIfBelow"),
		}
		if sub.err != nil && it.err == nil {
			it.err = fmt.Errorf("retryPolicy: %w", sub.err)
		}
	}
	if msgs := it.str("recentMessages"); msgs != "" {
		if !json.Valid([]byte(msgs)) {
			it.fail("recentMessages", "a JSON document")
		} else {
			s.RecentMessages = json.RawMessage(msgs)
		}
	}
	if it.err == nil && (s.ID == "" || s.Status == "") {
		it.err = errors.New("item has no id or status")
	}
	if it.err != nil {
		return interview.Session{}, fmt.Errorf("decode interview %q: %w", s.ID, it.err)
	}
	return s, nil
}

// SessionItem encodes a session as it is stored. Transitions never write whole items;
// this is for loading sessions (demo data, tests, imports).
func SessionItem(s interview.Session) map[string]types.AttributeValue {
	w := itemWriter(interviewKey(s.ID))
	w[attr.Type] = sAV(attr.TypeInterview)
	w[attr.ID] = sAV(s.ID)
	w.str(attr.OwnerID, s.OwnerID)
	w.str(attr.OwnerStatus, ownerStatus(s.OwnerID, s.Status))
	w["topicIds"] = listAV(s.TopicIDs)
	w.list("topicLabels", s.TopicLabels)
	w["title"] = sAV(s.Title)
	w["progress"] = nAV(s.Progress)
	w["score"] = nAV(s.Score)
	w.optNum("targetScore", s.TargetScore)
	w.time(attr.CreatedAt, s.CreatedAt)
	w.time(attr.UpdatedAt, s.UpdatedAt)
	w.time("lastInteractionAt", s.LastInteractionAt)
	w["interviewerId"] = sAV(s.InterviewerID)
	w.str("conversationId", s.ConversationID)
	w[attr.Status] = sAV(string(s.Status))
	if rp := s.RetryPolicy; rp != nil {
		m := itemWriter{}
		m.optNum("minCooldownHours", rp.MinCooldownHours)
		m.optNum("autoSuggestIfBelow", rp.AutoSuggestIfBelow)
		w["retryPolicy"] = &types.AttributeValueMemberM{Value: m}
	}
	w.list("labels", s.Labels)
	w.str("notes", s.Notes)
	w.str("language", s.Language)
	if s.Difficulty != 0 {
		w["difficulty"] = iAV(int64(s.Difficulty))
	}
	if len(s.RecentMessages) > 0 {
		w["recentMessages"] = sAV(string(s.RecentMessages))
	}
	w[attr.Version] = iAV(s.Version)
	w.str("previousStatus", string(s.PreviousStatus))
	w.time("cancelledAt", s.CancelledAt)
	w.str("cancelledBy", s.CancelledBy)
	w.str(attr.CancelReason, s.CancelReason)
	w.time("pausedAt", s.PausedAt)
	w.time("resumedAt", s.ResumedAt)
	return w
}
