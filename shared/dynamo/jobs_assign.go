package dynamo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// A technician's calendar: one item per booked quarter-hour (job.SlotSize), in the
// technician's partition, naming the job and the assignment that holds it. A booking puts
// its slots in the same transaction as its assignment, each guarded by attribute_not_exists,
// so two overlapping bookings cannot both commit; cancel and reassignment delete theirs in
// their own transaction. docs/data-model.md, "Calendar integrity".
const (
	skSlot = "SLOT#"
	// slotLayout names a slot: UTC, to the minute.
	slotLayout = "2006-01-02T15:04Z"
	// slotRetention is how long after its end a slot item stays (TTL): long enough for any
	// question about the past, and the calendar does not grow for ever.
	slotRetention = 400 * 24 * time.Hour
)

func technicianPK(id string) types.AttributeValue { return sAV("TECH#" + id) }

func slotKey(technician string, slot time.Time) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attr.PK: technicianPK(technician), attr.SK: sAV(skSlot + slot.UTC().Format(slotLayout))}
}

// slotRef is one slot of one technician's calendar.
type slotRef struct {
	technician string
	at         time.Time
}

func slotsOf(technician string, w job.Window) []slotRef {
	var out []slotRef
	for _, t := range w.Slots() {
		out = append(out, slotRef{technician, t})
	}
	return out
}

// slotItem is the slot's item as a booking by assignment a of job j stores it.
func slotItem(s slotRef, jobID, assignmentID string) map[string]types.AttributeValue {
	it := slotKey(s.technician, s.at)
	it[attr.Type] = sAV(attr.TypeSlot)
	it[attr.TechnicianID] = sAV(s.technician)
	it[attr.JobID] = sAV(jobID)
	it[attr.AssignmentID] = sAV(assignmentID)
	it[attr.ExpiresAt] = slotExpiry(s)
	return it
}

// SlotItems encodes the calendar slots a booking holds, as its booking's transaction puts
// them: for loading assignments with their time (demo data, tests, imports).
func SlotItems(a job.Assignment) []map[string]types.AttributeValue {
	var out []map[string]types.AttributeValue
	for _, r := range slotsOf(a.TechnicianID, job.Window{Start: a.ScheduledStart, End: a.ScheduledEnd}) {
		out = append(out, slotItem(r, a.JobID, a.ID))
	}
	return out
}

// slotExpiry is when a slot item may go (TTL): slotRetention after the slot ends.
func slotExpiry(s slotRef) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(s.at.Add(job.SlotSize+slotRetention).Unix(), 10)}
}

// bookSlot takes a free slot for the assignment: it fails when any booking holds it.
func (s *Jobs) bookSlot(r slotRef, jobID, assignmentID string) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName:                           aws.String(s.table),
		Item:                                slotItem(r, jobID, assignmentID),
		ConditionExpression:                 aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames:            map[string]string{"#pk": attr.PK},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// handOverSlot moves a slot the job's previous assignment holds to its new one (a
// reassignment that keeps the technician and part of the window). A slot that is missing
// (an assignment loaded without its calendar) is taken.
func (s *Jobs) handOverSlot(r slotRef, jobID, from, to string) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                aws.String(s.table),
		Key:                      slotKey(r.technician, r.at),
		UpdateExpression:         aws.String("SET #type = :type, #tech = :tech, #job = :job, #a = :to, #exp = :exp"),
		ConditionExpression:      aws.String("attribute_not_exists(#pk) OR #a = :from"),
		ExpressionAttributeNames: map[string]string{"#pk": attr.PK, "#type": attr.Type, "#tech": attr.TechnicianID, "#job": attr.JobID, "#a": attr.AssignmentID, "#exp": attr.ExpiresAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":type": sAV(attr.TypeSlot), ":tech": sAV(r.technician), ":job": sAV(jobID), ":to": sAV(to), ":from": sAV(from),
			":exp": slotExpiry(r)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// releaseSlot frees a slot the assignment holds; a slot it does not hold (missing, or
// another's) is left as it is.
func (s *Jobs) releaseSlot(r slotRef, assignmentID string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{
		TableName:                 aws.String(s.table),
		Key:                       slotKey(r.technician, r.at),
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #a = :a"),
		ExpressionAttributeNames:  map[string]string{"#pk": attr.PK, "#a": attr.AssignmentID},
		ExpressionAttributeValues: map[string]types.AttributeValue{":a": sAV(assignmentID)},
	}}
}

// moveBooking appends to items the calendar's half of moving a booking of job jobID from
// assignment from's window (nil: none) to assignment to's (nil: none), one transaction's
// worth: the quarter-hours both cover are handed over, the new ones booked (each failing when
// another booking holds it), the old ones released. A cancel moves to none, a first
// assignment from none, a reassignment or a reschedule from one to the other. It returns the
// items and, by item index, the slot each booking item takes (bookingConflict reads them).
func (s *Jobs) moveBooking(items []types.TransactWriteItem, jobID string, from, to *job.Assignment) ([]types.TransactWriteItem, map[int]slotRef) {
	window := func(a *job.Assignment) []slotRef {
		if a == nil {
			return nil
		}
		return slotsOf(a.TechnicianID, job.Window{Start: a.ScheduledStart, End: a.ScheduledEnd})
	}
	held := map[slotRef]bool{}
	for _, r := range window(from) {
		held[r] = true
	}
	slots := map[int]slotRef{}
	for _, r := range window(to) {
		slots[len(items)] = r
		if held[r] {
			items = append(items, s.handOverSlot(r, jobID, from.ID, to.ID))
			delete(held, r)
		} else {
			items = append(items, s.bookSlot(r, jobID, to.ID))
		}
	}
	for _, r := range window(from) {
		if held[r] {
			items = append(items, s.releaseSlot(r, from.ID))
		}
	}
	return items, slots
}

// Apply performs job transition t for req: Cancel, Assign, or a technician's transition
// (Step).
func (s *Jobs) Apply(ctx context.Context, t job.Transition, req job.Request) (job.Job, bool, error) {
	switch t.Action {
	case job.Cancel.Action:
		return s.Cancel(ctx, req)
	case job.Assign.Action:
		return s.Assign(ctx, req)
	case job.Reschedule.Action:
		return s.Reschedule(ctx, req)
	}
	return s.Step(ctx, t, req)
}

// Step performs a technician's transition t (Confirm, Start, Complete): the job's update,
// guarded by its version and t's source states, recording the assignment it concerns (for
// its event), and, when t moves the assignment (Confirm), the assignment's, guarded by its
// version and t's assignment states; with the request's record (apply).
func (s *Jobs) Step(ctx context.Context, t job.Transition, req job.Request) (job.Job, bool, error) {
	return s.apply(ctx, t, req, func(j job.Job, now time.Time) step {
		nowS := lifecycle.FormatTime(now)
		after := j.Stepped(t, now)
		e := newExpr()
		transitionWrite{to: string(t.To), now: nowS, action: t.Action, actor: req.Actor, corr: req.CorrelationID, stampedAt: t.StampedAt}.apply(e)
		if a := j.CurrentAssignment(); a != nil {
			e.set(attr.Booked, bookedAV(*a))
		}
		setBoard(e, after)
		cond := e.and(e.equals(attr.Version, iAV(j.Version)), e.in(attr.Status, strs(t.From)))
		items := []types.TransactWriteItem{{Update: guardedUpdate(s.table, jobKey(j.ID), (*compiled)(nil).render(e, cond))}}
		if a, moved := j.CurrentAssignment(), after.Assignment; a != nil && moved != nil && moved.Status != a.Status {
			ae := newExpr()
			ae.set(attr.Status, sAV(string(moved.Status)))
			ae.increment(attr.Version)
			ae.set(attr.UpdatedAt, sAV(nowS))
			ae.set(t.StampedAt, sAV(nowS))
			acond := ae.and(ae.equals(attr.Version, iAV(a.Version)), ae.in(attr.Status, strs(t.AssignmentFrom)))
			items = append(items, types.TransactWriteItem{Update: guardedUpdate(s.table, assignmentKey(j.ID, a.ID), (*compiled)(nil).render(ae, acond))})
		}
		return step{items: items, after: after}
	})
}

// bookedAV is an assignment as a job records the one its last assignment write concerned
// (booked): its events read the technician and the window from it.
func bookedAV(a job.Assignment) types.AttributeValue {
	booked := itemWriter{}
	booked[attr.ID] = sAV(a.ID)
	booked.str(attr.TechnicianID, a.TechnicianID)
	booked.time(attr.ScheduledStart, a.ScheduledStart)
	booked.time(attr.ScheduledEnd, a.ScheduledEnd)
	return &types.AttributeValueMemberM{Value: booked}
}

// Assign books req.Booking for the job req.ID: one read, then one transaction that sets the
// job Assigned with a new Pending assignment, cancels its current assignment (a
// reassignment), books the new window's slots and releases the old one's, and records the
// request. A slot another job holds refuses it with a *job.BookingConflictError naming that
// job; a job that changes between the read and the write is read again (as Cancel).
func (s *Jobs) Assign(ctx context.Context, req job.Request) (job.Job, bool, error) {
	if req.Booking == nil {
		return job.Job{}, false, errors.New("assign: no booking")
	}
	b := *req.Booking
	return s.apply(ctx, job.Assign, req, func(j job.Job, now time.Time) step {
		a := job.Assignment{ID: s.newToken(), TechnicianID: b.TechnicianID, ScheduledStart: b.Window.Start, ScheduledEnd: b.Window.End}
		after := j.Assigned(a, now, req.Actor.Sub)
		items, slots := s.assignItems(j, after, req, now)
		return step{items: items, after: after, refused: func(e *types.TransactionCanceledException) error {
			return bookingConflict(e, slots, j.ID, b.TechnicianID)
		}}
	})
}

// assignItems is the assignment's transaction (apply adds the request's record): the job's
// update, the previous assignment's cancel, the new assignment's put, the calendar's slots.
// It returns, by item index, the slot each booking item takes.
func (s *Jobs) assignItems(j, after job.Job, req job.Request, now time.Time) ([]types.TransactWriteItem, map[int]slotRef) {
	nowS := lifecycle.FormatTime(now)
	a := *after.Assignment
	old := j.CurrentAssignment()

	e := newExpr()
	transitionWrite{to: string(job.Assign.To), now: nowS, action: job.Assign.Action, actor: req.Actor, corr: req.CorrelationID, stampedAt: attr.AssignedAt}.apply(e)
	e.set(attr.AssignmentID, sAV(a.ID))
	e.set(attr.Booked, bookedAV(a))
	// The technician a reassignment took the job from: not the one it books again (a new
	// window for the same technician takes nothing from them).
	if old != nil && old.TechnicianID != a.TechnicianID {
		e.set(attr.UnassignedTechnicianID, sAV(old.TechnicianID))
	} else {
		e.remove(attr.UnassignedTechnicianID)
	}
	setBoard(e, after)
	cond := e.and(e.equals(attr.Version, iAV(j.Version)), e.in(attr.Status, strs(job.Assign.From)))
	items := []types.TransactWriteItem{{Update: guardedUpdate(s.table, jobKey(j.ID), (*compiled)(nil).render(e, cond))}}

	if old != nil {
		items = append(items, types.TransactWriteItem{Update: s.cancelAssignmentUpdate(*old, job.Request{Request: lifecycle.Request{Actor: req.Actor, CorrelationID: req.CorrelationID}}, now)})
	}
	put := AssignmentItem(a)
	put[attr.LastAction] = sAV(job.Assign.Action)
	put[attr.Actor] = actorAV(req.Actor)
	items = append(items, types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(s.table), Item: put,
		ConditionExpression: aws.String("attribute_not_exists(#pk)"), ExpressionAttributeNames: map[string]string{"#pk": attr.PK},
	}})

	return s.moveBooking(items, j.ID, old, &a)
}

// bookingConflict reads a cancelled assignment's reasons: a slot the booking needed that
// another job holds is a *job.BookingConflictError naming that job, when every other guard
// held (the job and its assignment are as the booking was decided on, and the request had
// not applied); nil otherwise: a race, which the store decides afresh on a new read (the
// job may have moved on, or its own earlier attempt may hold the time).
func bookingConflict(e *types.TransactionCanceledException, slots map[int]slotRef, jobID, technician string) error {
	for i, r := range e.CancellationReasons {
		if _, slot := slots[i]; !slot {
			if code := aws.ToString(r.Code); code != "None" && code != "" {
				return nil
			}
		}
	}
	for i, r := range e.CancellationReasons {
		ref, ok := slots[i]
		if !ok || aws.ToString(r.Code) != "ConditionalCheckFailed" || len(r.Item) == 0 {
			continue
		}
		holder := (&item{m: r.Item}).str(attr.JobID)
		if holder != "" && holder != jobID {
			return &job.BookingConflictError{TechnicianID: technician, JobID: holder, Slot: ref.at}
		}
	}
	return nil
}

// Reschedule moves the job's current assignment to req.Booking's window, in one
// transaction (apply): the job's update (recording the window it moved from, for its
// event), the assignment's (the window, back to Pending), and the calendar: the quarter-hours
// both windows cover stay the assignment's, the new ones are booked (a *job.BookingConflictError
// when another job holds one), the old ones released.
func (s *Jobs) Reschedule(ctx context.Context, req job.Request) (job.Job, bool, error) {
	if req.Booking == nil {
		return job.Job{}, false, errors.New("reschedule: no window")
	}
	w := req.Booking.Window
	return s.apply(ctx, job.Reschedule, req, func(j job.Job, now time.Time) step {
		nowS := lifecycle.FormatTime(now)
		a := *j.CurrentAssignment() // apply's check: an Assigned job with a live assignment
		after := j.Rescheduled(w, now)
		moved := *after.Assignment

		e := newExpr()
		transitionWrite{to: string(job.Reschedule.To), now: nowS, action: job.Reschedule.Action, actor: req.Actor, corr: req.CorrelationID,
			stampedAt: job.Reschedule.StampedAt}.apply(e)
		e.set(attr.Booked, bookedAV(moved))
		from := itemWriter{}
		from.time(attr.RescheduledFromStart, a.ScheduledStart)
		from.time(attr.RescheduledFromEnd, a.ScheduledEnd)
		e.set(attr.RescheduledFrom, &types.AttributeValueMemberM{Value: from})
		setBoard(e, after)
		cond := e.and(e.equals(attr.Version, iAV(j.Version)), e.in(attr.Status, strs(job.Reschedule.From)))
		items := []types.TransactWriteItem{{Update: guardedUpdate(s.table, jobKey(j.ID), (*compiled)(nil).render(e, cond))}}

		ae := newExpr()
		ae.set(attr.ScheduledStart, sAV(lifecycle.FormatTime(w.Start)))
		ae.set(attr.ScheduledEnd, sAV(lifecycle.FormatTime(w.End)))
		ae.set(attr.Status, sAV(string(moved.Status)))
		ae.increment(attr.Version)
		ae.set(attr.UpdatedAt, sAV(nowS))
		ae.set(job.Reschedule.StampedAt, sAV(nowS))
		acond := ae.and(ae.equals(attr.Version, iAV(a.Version)), ae.in(attr.Status, strs(job.Reschedule.AssignmentFrom)))
		items = append(items, types.TransactWriteItem{Update: guardedUpdate(s.table, assignmentKey(j.ID, a.ID), (*compiled)(nil).render(ae, acond))})

		items, slots := s.moveBooking(items, j.ID, &a, &moved)
		return step{items: items, after: after, refused: func(e *types.TransactionCanceledException) error {
			return bookingConflict(e, slots, j.ID, a.TechnicianID)
		}}
	})
}

// Schedule returns the technician's bookings that meet [from, to): one Query of the
// technician's calendar partition between the two slots (page after page), its quarter-
// hours joined back into each assignment's window, in time order. The windows are whole
// slots, so the first and last may reach outside the range; the handler clips them.
func (s *Jobs) Schedule(ctx context.Context, technician string, from, to time.Time) ([]job.Booked, error) {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :from AND :to"),
		ExpressionAttributeNames: map[string]string{"#pk": attr.PK, "#sk": attr.SK},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":   technicianPK(technician),
			":from": sAV(skSlot + from.UTC().Truncate(job.SlotSize).Format(slotLayout)),
			// The last slot that starts before to.
			":to": sAV(skSlot + to.UTC().Add(-time.Nanosecond).Truncate(job.SlotSize).Format(slotLayout)),
		},
		ConsistentRead: aws.Bool(true),
	}
	var out []job.Booked
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, storeError("read schedule", err)
		}
		for _, m := range page.Items {
			it := &item{m: m}
			sk, _ := strings.CutPrefix(it.str(attr.SK), skSlot)
			at, err := time.Parse(slotLayout, sk)
			if err != nil || it.err != nil {
				return nil, fmt.Errorf("read schedule: unreadable slot %q", it.str(attr.SK))
			}
			jobID, assignmentID := it.str(attr.JobID), it.str(attr.AssignmentID)
			if n := len(out); n > 0 && out[n-1].AssignmentID == assignmentID && out[n-1].Window.End.Equal(at) {
				out[n-1].Window.End = at.Add(job.SlotSize)
				continue
			}
			out = append(out, job.Booked{JobID: jobID, AssignmentID: assignmentID, Window: job.Window{Start: at, End: at.Add(job.SlotSize)}})
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}
