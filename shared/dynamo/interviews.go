package dynamo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
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
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

// Interviews stores interview sessions.
type Interviews struct {
	db       API
	table    string
	now      func() time.Time
	newToken func() string
	// backOff waits between lost races (the package's backOff; a test's no-op).
	backOff func(ctx context.Context, race int)
	// compiled holds the expressions of every shape of every transition in
	// interview.Transitions, rendered once (see transitionUpdate).
	compiled map[writeShape]*compiled
	// resumeBounds bound a pause's resumeAt (interview.DefaultResumeBounds unless
	// WithResumeBounds says otherwise).
	resumeBounds interview.ResumeBounds
}

// WithResumeBounds makes the store accept a pause's resumeAt within b: a deployment's
// configuration, or a test's short lead.
func (s *Interviews) WithResumeBounds(b interview.ResumeBounds) *Interviews {
	s.resumeBounds = b
	return s
}

// NewInterviews returns the interview store on table, stamping writes with now().
// newToken makes each transaction's ClientRequestToken (at most 36 characters).
func NewInterviews(db API, table string, now func() time.Time, newToken func() string) *Interviews {
	s := &Interviews{db: db, table: table, now: now, newToken: newToken, backOff: backOff, compiled: map[writeShape]*compiled{},
		resumeBounds: interview.DefaultResumeBounds}
	for _, t := range interview.Transitions {
		requestShapes(func(reason, corr string, score *float64) {
			for _, in := range interactionShapes(t) {
				for _, actor := range []lifecycle.Actor{{Sub: "owner"}, {Sub: "service", Scopes: []string{t.Who.Scope}}} {
					for _, resumeAt := range resumeAtShapes(t) {
						req := interview.Request{Request: lifecycle.Request{Actor: actor, Reason: reason, CorrelationID: corr}, Score: score, Interaction: in, ResumeAt: resumeAt}
						e, cond := transitionExpr(newExpr(), t, interview.Session{}, req, "")
						s.compiled[shapeOf(t, req)] = compile(e, cond)
					}
				}
			}
		})
	}
	return s
}

// resumeAtShapes are the resumeAt values of every shape t's write depends on: with and
// without one, for a transition that takes one (a pause); none for the others, so the
// stores' cold start compiles no shape twice.
func resumeAtShapes(t interview.Transition) []time.Time {
	if t.TakesResumeAt {
		return []time.Time{{}, time.Unix(1, 0)}
	}
	return []time.Time{{}}
}

// interactionShapes are the interactions of every shape t's write depends on: with and
// without a progress and a score, for a transition that records one; none for the others.
func interactionShapes(t interview.Transition) []*interview.Interaction {
	out := []*interview.Interaction{nil}
	if !t.TakesInteraction {
		return out
	}
	one := 1.0
	for _, p := range []*float64{nil, &one} {
		for _, sc := range []*float64{nil, &one} {
			out = append(out, &interview.Interaction{Progress: p, Score: sc})
		}
	}
	return out
}

// writeShape is what decides the strings of a transition's write: the transition, and
// whether the request brings a reason, a score or a progress (for a transition that records
// one) and a correlation id.
type writeShape struct {
	action, to                                 string
	reason, score, progress, interaction, corr bool
	// byScope: the caller acts by its token's scope, not as the owner (byOwner).
	byScope bool
	// resumeAt: a pause until a time.
	resumeAt bool
}

func shapeOf(t interview.Transition, req interview.Request) writeShape {
	w := writeShape{action: t.Action, to: string(t.To), reason: t.TakesReason && req.Reason != "", score: t.TakesScore && req.Score != nil,
		corr: req.CorrelationID != "", byScope: !byOwner(t, req.Actor), resumeAt: t.TakesResumeAt && !req.ResumeAt.IsZero()}
	if in := req.Interaction; t.TakesInteraction && in != nil {
		w.interaction, w.score, w.progress = true, in.Score != nil, in.Progress != nil
	}
	return w
}

// byOwner reports whether actor takes t as the session's owner: the write's condition then
// says the session is theirs. A caller that acts by its token's scope has nothing of the
// session's to compare; the version guard alone keeps the decision made on the read.
func byOwner(t interview.Transition, actor lifecycle.Actor) bool {
	return t.Who.Owner && !actor.HasScope(t.Who.Scope)
}

func interviewPK(id string) types.AttributeValue { return sAV("INTERVIEW#" + id) }

func interviewKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attr.PK: interviewPK(id),
		attr.SK: sAV("INTERVIEW"),
	}
}

func ownerStatus(owner string, s interview.Status) string { return owner + "#" + string(s) }

// maxRaces is how often Apply reads again and retries when another request changed the
// session between its read and its write; then it answers lifecycle.ErrConflict. Between
// tries it waits a random while (backOff), so requests racing for one entity spread out.
const maxRaces = 8

// backOff waits before the next try after lost race number race (from 0): a random time
// up to 5 ms doubled per race, at most 160 ms ("full jitter"), or until ctx ends.
func backOff(ctx context.Context, race int) {
	limit := min(5*time.Millisecond<<race, 160*time.Millisecond)
	t := time.NewTimer(rand.N(limit))
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Apply performs transition t on the session req.ID: it reads the session (a strongly
// consistent GetItem), lets the domain decide (interview.Transition.Decide), and writes
// in one transaction the transition, guarded by the version it read, and the request's
// record (requests.go), guarded by there being none. So the transition applies exactly as
// decided or not at all, and a request applies at most once within RequestWindow, however
// many other requests transition the session in between: a retry of one that has applied
// (its response was lost) finds its record and gets replay true, with the session as it
// is now. The answer of a fresh write is the session the domain computed
// (interview.Transition.Apply), which is what the write stored. Refusals come from the
// domain: lifecycle.ErrNotFound, lifecycle.ErrForbidden, an *lifecycle.InvalidTransitionError;
// a session that keeps changing under the request is lifecycle.ErrConflict; throttling and
// outages that outlast the SDK's retries are lifecycle.ErrUnavailable.
func (s *Interviews) Apply(ctx context.Context, t interview.Transition, req interview.Request) (sess interview.Session, replay bool, err error) {
	for race := 0; ; race++ {
		old, raw, err := s.read(ctx, req.ID)
		if err != nil {
			return interview.Session{}, false, err
		}
		if err := t.Authorize(old, req.Actor); err != nil {
			return interview.Session{}, false, err
		}
		if ok, err := replayed(raw, req.Idempotency); err != nil || ok {
			return old, ok, err
		}
		req, err := t.Prepare(old, req)
		if err != nil {
			return interview.Session{}, false, fmt.Errorf("%s interview %s: %w", t.Action, old.ID, err)
		}
		now := s.now().UTC().Truncate(time.Millisecond)
		if err := s.refusal(t, old, req, now); err != nil {
			// A retry of a request that applied: to a session that has moved on since, or
			// a timed pause whose resumeAt, bounded from the time of the first attempt, is
			// out of bounds from now.
			if req.Idempotency.Client {
				if ok, lerr := lookUpRequest(ctx, s.db, s.table, interviewPK(req.ID), req.Idempotency, now); lerr != nil || ok {
					return old, ok, lerr
				}
			}
			return interview.Session{}, false, err
		}
		_, err = s.db.TransactWriteItems(ctx, s.transitionInput(t, old, req, now))
		if err == nil {
			return t.Apply(old, req, now), false, nil
		}
		canceled, ok := errors.AsType[*types.TransactionCanceledException](err)
		if !ok {
			return interview.Session{}, false, storeError("transition interview", err)
		}
		switch why := explainCanceled(canceled, req.Idempotency, now); {
		case why.err != nil:
			return interview.Session{}, false, why.err
		case why.replay:
			// Answer with the session as it is now: at or after the version the request
			// made (the read above may have come before it).
			cur, _, rerr := s.read(ctx, req.ID)
			return cur, rerr == nil, rerr
		case race+1 == maxRaces:
			return interview.Session{}, false, lifecycle.ErrConflict
		}
		s.backOff(ctx, race)
	}
}

// refusal is why req may not make transition t on old at now: a pause's resumeAt out of
// bounds from now, else the domain's refusal (interview.Transition.Decide); nil when it may.
func (s *Interviews) refusal(t interview.Transition, old interview.Session, req interview.Request, now time.Time) error {
	if t.TakesResumeAt && !req.ResumeAt.IsZero() {
		if problem := s.resumeBounds.Check(req.ResumeAt, now); problem != "" {
			return &lifecycle.InvalidInputError{Details: problem}
		}
	}
	return t.Decide(old, req.Actor)
}

// Create stores the session d makes for req.Actor under req.ID, in one transaction: the
// session's put, guarded by there being no item under its key (a create never overwrites
// one), and the request's record (requests.go). The item records the action and the actor
// as a transition does, so the stream announces it (InterviewCreated). A retry of a create
// that applied (its answer was lost) gets the session as it is now and replay true; the
// same key with another request is lifecycle.ErrIdempotencyKeyReused.
func (s *Interviews) Create(ctx context.Context, d interview.Draft, req interview.Request) (sess interview.Session, replay bool, err error) {
	now := s.now().UTC().Truncate(time.Millisecond)
	sess = interview.New(req.ID, req.Actor, d, now)
	got, err := putNew(ctx, s.db, s.table, s.newToken(), SessionItem(sess),
		createRequest{interview.ActionCreate, req.Actor, req.CorrelationID, req.Idempotency}, now, "create interview")
	switch {
	case err != nil:
		return interview.Session{}, false, err
	case got.replay:
		cur, _, err := s.read(ctx, sess.ID)
		if err == nil {
			err = interview.Authorize(cur, req.Actor)
		}
		return cur, err == nil, err
	case got.existing == nil:
		return sess, false, nil
	}
	// The put met an item under the id, and no record of this request. A client's key
	// names its id (the caller's key, derived), so this is a retry of the key's create
	// from before the record expired: answer with what it created.
	if req.Idempotency.Client {
		if cur, err := SessionFromItem(got.existing); err == nil && interview.Authorize(cur, req.Actor) == nil {
			return cur, true, nil
		}
	}
	return interview.Session{}, false, fmt.Errorf("create interview %s: the id is taken: %w", sess.ID, lifecycle.ErrConflict)
}

// read is a strongly consistent GetItem of the session, decoded and as stored.
func (s *Interviews) read(ctx context.Context, id string) (interview.Session, map[string]types.AttributeValue, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            interviewKey(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return interview.Session{}, nil, storeError("get interview", err)
	}
	if len(out.Item) == 0 {
		return interview.Session{}, nil, lifecycle.ErrNotFound
	}
	sess, err := SessionFromItem(out.Item)
	return sess, out.Item, err
}

// transitionInput is t's transaction for req on old at now: the session's update, guarded
// by the version read, and the request's record.
func (s *Interviews) transitionInput(t interview.Transition, old interview.Session, req interview.Request, now time.Time) *dynamodb.TransactWriteItemsInput {
	return &dynamodb.TransactWriteItemsInput{
		ClientRequestToken: aws.String(s.newToken()),
		TransactItems: []types.TransactWriteItem{
			{Update: guardedUpdate(s.table, interviewKey(old.ID), s.transitionUpdate(t, old, req, now))},
			requestPut(s.table, interviewPK(old.ID), req.Idempotency, old.Version+1, now),
		},
	}
}

// transitionUpdate renders t's update of old for req at now. Its strings and names come
// from the store's compiled transitions when t is one of them (only the values are made
// per request), or are rendered afresh.
func (s *Interviews) transitionUpdate(t interview.Transition, old interview.Session, req interview.Request, now time.Time) rendered {
	c := s.compiled[shapeOf(t, req)]
	if row, _ := interview.TransitionFor(t.Action); c != nil && !sameRule(t, row) {
		c = nil
	}
	return c.render(transitionExpr(c.start(), t, old, req, lifecycle.FormatTime(now)))
}

// transitionExpr builds t's write of old for req at now into e, and returns e with the
// write's condition: the version read, the legal source states, and, for a caller acting
// as the owner, the ownership (byOwner).
func transitionExpr(e *expr, t interview.Transition, old interview.Session, req interview.Request, now string) (*expr, string) {
	w := transitionWrite{
		to:        string(t.To),
		now:       now,
		action:    t.Action,
		actor:     req.Actor,
		corr:      req.CorrelationID,
		stampedAt: t.StampedAt,
		stampedBy: t.StampedBy,
	}
	if t.TakesReason {
		w.reason = req.Reason
	}
	if t.TakesScore {
		w.score = req.Score
	}
	w.apply(e)
	e.set(attr.OwnerStatus, sAV(ownerStatus(old.OwnerID, t.To)))
	if in := req.Interaction; t.TakesInteraction && in != nil {
		if in.Progress != nil {
			e.set(attr.Progress, nAV(*in.Progress))
		}
		if in.Score != nil {
			e.set(attr.Score, nAV(*in.Score))
		}
		e.set(attr.RecentMessages, sAV(string(in.History)))
		e.set(attr.LastMessageID, sAV(in.MessageID))
	}
	// A pause until a time plans the resume; every other transition ends a plan.
	if t.TakesResumeAt && !req.ResumeAt.IsZero() {
		e.set(attr.ResumeAt, sAV(lifecycle.FormatTime(req.ResumeAt)))
	} else {
		e.remove(attr.ResumeAt)
	}
	if byOwner(t, req.Actor) {
		return e, e.and(e.equals(attr.Version, iAV(old.Version)), e.equals(attr.OwnerID, sAV(req.Actor.Sub)), e.in(attr.Status, strs(t.From)))
	}
	return e, e.and(e.equals(attr.Version, iAV(old.Version)), e.in(attr.Status, strs(t.From)))
}

// sameRule reports whether a and b write the same: a compiled write is used only for the
// very transition it was compiled from.
func sameRule(a, b interview.Transition) bool {
	return a.Action == b.Action && a.To == b.To && slices.Equal(a.From, b.From) &&
		a.StampedAt == b.StampedAt && a.StampedBy == b.StampedBy && a.TakesReason == b.TakesReason && a.TakesScore == b.TakesScore &&
		a.TakesInteraction == b.TakesInteraction && a.TakesResumeAt == b.TakesResumeAt && a.Event == b.Event
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
		TopicIDs:          it.strings(attr.TopicIDs),
		TopicLabels:       it.strings(attr.TopicLabels),
		Title:             it.str(attr.Title),
		Progress:          it.num(attr.Progress),
		Score:             it.num(attr.Score),
		TargetScore:       it.optNum(attr.TargetScore),
		CreatedAt:         it.time(attr.CreatedAt),
		UpdatedAt:         it.time(attr.UpdatedAt),
		LastInteractionAt: it.time(attr.LastInteractionAt),
		InterviewerID:     it.str(attr.InterviewerID),
		ConversationID:    it.str(attr.ConversationID),
		Status:            interview.Status(it.str(attr.Status)),
		Labels:            it.strings(attr.Labels),
		Notes:             it.str(attr.Notes),
		Language:          it.str(attr.Language),
		Difficulty:        int(it.int(attr.Difficulty)),
		Version:           it.int(attr.Version),
		PreviousStatus:    interview.Status(it.str(attr.PreviousStatus)),
		CancelledAt:       it.time(attr.CancelledAt),
		CancelledBy:       it.str(attr.CancelledBy),
		CancelReason:      it.str(attr.Reason),
		PausedAt:          it.time(attr.PausedAt),
		ResumeAt:          it.time(attr.ResumeAt),
		ResumedAt:         it.time(attr.ResumedAt),
		CompletedAt:       it.time(attr.CompletedAt),
	}
	if rp, ok := it.mapAttr(attr.RetryPolicy); ok {
		sub := &item{m: rp}
		s.RetryPolicy = &interview.RetryPolicy{
			MinCooldownHours:   sub.optNum(attr.MinCooldownHours),
			AutoSuggestIfBelow: sub.optNum(attr.AutoSuggestIfBelow),
		}
		if sub.err != nil && it.err == nil {
			it.err = fmt.Errorf("%s: %w", attr.RetryPolicy, sub.err)
		}
	}
	if msgs := it.str(attr.RecentMessages); msgs != "" {
		if !json.Valid([]byte(msgs)) {
			it.fail(attr.RecentMessages, "a JSON document")
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
	w[attr.TopicIDs] = listAV(s.TopicIDs)
	w.list(attr.TopicLabels, s.TopicLabels)
	w[attr.Title] = sAV(s.Title)
	w[attr.Progress] = nAV(s.Progress)
	w[attr.Score] = nAV(s.Score)
	w.optNum(attr.TargetScore, s.TargetScore)
	w.time(attr.CreatedAt, s.CreatedAt)
	w.time(attr.UpdatedAt, s.UpdatedAt)
	w.time(attr.LastInteractionAt, s.LastInteractionAt)
	w[attr.InterviewerID] = sAV(s.InterviewerID)
	w.str(attr.ConversationID, s.ConversationID)
	w[attr.Status] = sAV(string(s.Status))
	if rp := s.RetryPolicy; rp != nil {
		m := itemWriter{}
		m.optNum(attr.MinCooldownHours, rp.MinCooldownHours)
		m.optNum(attr.AutoSuggestIfBelow, rp.AutoSuggestIfBelow)
		w[attr.RetryPolicy] = &types.AttributeValueMemberM{Value: m}
	}
	w.list(attr.Labels, s.Labels)
	w.str(attr.Notes, s.Notes)
	w.str(attr.Language, s.Language)
	if s.Difficulty != 0 {
		w[attr.Difficulty] = iAV(int64(s.Difficulty))
	}
	if len(s.RecentMessages) > 0 {
		w[attr.RecentMessages] = sAV(string(s.RecentMessages))
	}
	w[attr.Version] = iAV(s.Version)
	w.str(attr.PreviousStatus, string(s.PreviousStatus))
	w.time(attr.CancelledAt, s.CancelledAt)
	w.str(attr.CancelledBy, s.CancelledBy)
	w.str(attr.Reason, s.CancelReason)
	w.time(attr.PausedAt, s.PausedAt)
	w.time(attr.ResumeAt, s.ResumeAt)
	w.time(attr.ResumedAt, s.ResumedAt)
	w.time(attr.CompletedAt, s.CompletedAt)
	return w
}
