// Package demodata is the documented demo data `make run` loads and the sample events in
// events/ refer to. Ids are fixed so that commands in the README keep working.
package demodata

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/shared/live"
)

// User is a demo caller.
type User struct {
	Sub   string
	Roles []string
	About string
}

// Users are the demo callers `make run` prints tokens for.
var Users = []User{
	{Sub: "alice", About: "candidate; owns the a11ce… sessions"},
	{Sub: "bob", About: "candidate; owns the b0b… sessions"},
	{Sub: "dana", Roles: []string{"Dispatcher"}, About: "dispatcher; creates, books, moves and cancels jobs"},
	{Sub: "adam", Roles: []string{"Admin"}, About: "admin; may do what a dispatcher does"},
	{Sub: "tom", Roles: []string{"Technician"}, About: "technician; confirms, starts and completes his bookings; may not cancel jobs (403)"},
}

// Session ids by owner and status, for tests, events/ and the README.
const (
	AliceActive    = "a11ce000-0000-4000-8000-000000000001"
	AliceActive2   = "a11ce000-0000-4000-8000-000000000002"
	AlicePaused    = "a11ce000-0000-4000-8000-000000000003"
	AliceCompleted = "a11ce000-0000-4000-8000-000000000004"
	AliceCancelled = "a11ce000-0000-4000-8000-000000000005"
	AliceActive3   = "a11ce000-0000-4000-8000-000000000006"
	AlicePaused2   = "a11ce000-0000-4000-8000-000000000007"
	BobActive      = "b0b00000-0000-4000-8000-000000000001"
	BobPaused      = "b0b00000-0000-4000-8000-000000000002"
	BobCompleted   = "b0b00000-0000-4000-8000-000000000003"
	BobCancelled   = "b0b00000-0000-4000-8000-000000000004"
	MissingSession = "00000000-0000-4000-8000-00000000dead"

	// Jobs, by status and assignment.
	JobUnassigned         = "0b000000-0000-4000-8000-000000000001"
	JobAssignedPending    = "0b000000-0000-4000-8000-000000000002"
	JobAssignedConfirmed  = "0b000000-0000-4000-8000-000000000003"
	JobInProgress         = "0b000000-0000-4000-8000-000000000004"
	JobCompleted          = "0b000000-0000-4000-8000-000000000005"
	JobCancelled          = "0b000000-0000-4000-8000-000000000006"
	JobCancelledNoAssign  = "0b000000-0000-4000-8000-000000000007"
	JobReassignedHistoric = "0b000000-0000-4000-8000-000000000008"
	MissingJob            = "0b000000-0000-4000-8000-00000000dead"
	InterviewerAria       = "interviewer-aria"
	InterviewerKai        = "interviewer-kai"

	// Live-channel tickets of alice for events/live-connect, loaded by LoadLive: one a
	// stack's $connect can redeem once, one that has expired.
	SampleTicket        = "sample-ticket-alice-for-events-live-connect"
	SampleExpiredTicket = "sample-ticket-alice-expired-live-connect-00"
)

var base = time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)

func f(v float64) *float64 { return &v }

// RecentMessages is a conversation of n messages shaped as seed 001's recentMessages (about 300
// bytes each).
func RecentMessages(conversationID string, n int) json.RawMessage {
	type msg struct {
		ID             string         `json:"id"`
		ConversationID string         `json:"conversationId"`
		Status         string         `json:"status"`
		Model          string         `json:"model,omitempty"`
		Output         any            `json:"output"`
		Temperature    float64        `json:"temperature,omitempty"`
		Usage          map[string]int `json:"usage"`
		Metadata       map[string]any `json:"metadata"`
		CreatedAt      string         `json:"createdAt"`
	}
	out := make([]msg, n)
	for i := range out {
		out[i] = msg{
			ID:             fmt.Sprintf("msg-%s-%d", conversationID[len(conversationID)-4:], i+1),
			ConversationID: conversationID,
			Status:         "completed",
			Model:          "interviewer-v2",
			Output:         map[string]any{"text": fmt.Sprintf("Question %d: walk me through your approach.", i+1)},
			Temperature:    0.3,
			Usage:          map[string]int{"inputTokens": 420 + i, "outputTokens": 96 + i},
			Metadata:       map[string]any{"turn": i + 1},
			CreatedAt:      base.Add(time.Duration(i) * time.Minute).Format("2006-01-02T15:04:05.000Z"),
		}
	}
	b, _ := json.Marshal(out)
	return b
}

type spec struct {
	id, owner, title string
	status           interview.Status
	hours            int
	progress, score  float64
}

// Sessions returns the demo sessions: several per owner, in every status.
func Sessions() []interview.Session {
	specs := []spec{
		{AliceActive, "alice", "System design: URL shortener", interview.Active, 1, 0.4, 62},
		{AliceActive2, "alice", "Behavioral: handling conflict", interview.Active, 2, 0.2, 55},
		{AlicePaused, "alice", "Go concurrency deep dive", interview.Paused, 3, 0.6, 71},
		{AliceCompleted, "alice", "SQL fundamentals", interview.Completed, 4, 1, 88},
		{AliceCancelled, "alice", "Kubernetes basics", interview.Cancelled, 5, 0.1, 20},
		{AliceActive3, "alice", "Distributed systems: consensus", interview.Active, 6, 0.3, 47},
		{AlicePaused2, "alice", "Algorithms: graphs", interview.Paused, 7, 0.5, 66},
		{BobActive, "bob", "Frontend performance", interview.Active, 1, 0.3, 58},
		{BobPaused, "bob", "API design review", interview.Paused, 2, 0.5, 64},
		{BobCompleted, "bob", "Data modelling", interview.Completed, 3, 1, 91},
		{BobCancelled, "bob", "Incident response", interview.Cancelled, 4, 0.2, 30},
	}
	out := make([]interview.Session, 0, len(specs))
	for i, sp := range specs {
		created := base.Add(-time.Duration(24*(i+1)) * time.Hour)
		updated := base.Add(-time.Duration(sp.hours) * time.Hour)
		conv := "conv-" + sp.id[len(sp.id)-12:]
		s := interview.Session{
			ID:                sp.id,
			OwnerID:           sp.owner,
			TopicIDs:          []string{"topic-" + fmt.Sprint(i%3+1), "topic-" + fmt.Sprint(i%4+4)},
			TopicLabels:       []string{"Core", "Practice"},
			Title:             sp.title,
			Progress:          sp.progress,
			Score:             sp.score,
			TargetScore:       f(80),
			CreatedAt:         created,
			UpdatedAt:         updated,
			LastInteractionAt: updated,
			InterviewerID:     InterviewerAria,
			ConversationID:    conv,
			Status:            sp.status,
			RetryPolicy:       &interview.RetryPolicy{MinCooldownHours: f(24), AutoSuggestIfBelow: f(60)},
			Labels:            []string{"demo"},
			Language:          "en",
			Difficulty:        i%5 + 1,
			RecentMessages:    RecentMessages(conv, 2),
			Version:           1,
		}
		if i%2 == 1 {
			s.InterviewerID = InterviewerKai
			s.Language = "ko"
			s.Notes = "Prefers whiteboard-style questions."
		}
		switch sp.status {
		case interview.Cancelled:
			s.CancelledAt, s.CancelledBy, s.CancelReason = updated, sp.owner, "Scheduling conflict"
		case interview.Paused:
			s.PausedAt = updated
		}
		out = append(out, s)
	}
	return out
}

// AssignmentID is the id of a demo job's n-th assignment.
func AssignmentID(jobID string, n int) string {
	return "a5a5a5a5-0000-4000-8000-" + jobID[len(jobID)-4:] + fmt.Sprintf("%08d", n)
}

// Jobs returns the demo jobs, each with its assignments (current last): every job status,
// with and without an assignment, and one job whose earlier assignment was cancelled.
func Jobs() []JobWithAssignments {
	type spec struct {
		id, title, customer, address string
		status                       job.Status
		assignments                  []job.AssignmentStatus
	}
	specs := []spec{
		{JobUnassigned, "Replace boiler pressure valve", "cust-1001", "12 Harbour St, Leeds", job.Unassigned, nil},
		{JobAssignedPending, "Annual HVAC service", "cust-1002", "4 Mill Lane, York", job.Assigned, []job.AssignmentStatus{job.Pending}},
		{JobAssignedConfirmed, "Install smart thermostat", "cust-1003", "88 Park Road, Hull", job.Assigned, []job.AssignmentStatus{job.Confirmed}},
		{JobInProgress, "Repair leaking radiator", "cust-1004", "7 Castle Close, Bath", job.InProgress, []job.AssignmentStatus{job.Confirmed}},
		{JobCompleted, "Fit new extractor fan", "cust-1005", "21 River View, Derby", job.Completed, []job.AssignmentStatus{job.Confirmed}},
		{JobCancelled, "Inspect gas meter", "cust-1006", "3 High Street, Ely", job.Cancelled, []job.AssignmentStatus{job.AssignmentCancelled}},
		{JobCancelledNoAssign, "Quote for loft insulation", "cust-1007", "15 Elm Grove, Kent", job.Cancelled, nil},
		{JobReassignedHistoric, "Bleed radiators", "cust-1008", "9 Quay Side, Poole", job.Assigned, []job.AssignmentStatus{job.AssignmentCancelled, job.Pending}},
	}
	var out []JobWithAssignments
	for i, sp := range specs {
		created := base.Add(-time.Duration(48*(i+1)) * time.Hour)
		updated := base.Add(-time.Duration(i+1) * time.Hour)
		j := job.Job{
			ID: sp.id, Title: sp.title, CustomerID: sp.customer, Address: sp.address,
			Status: sp.status, Version: int64(1 + len(sp.assignments)), CreatedAt: created, UpdatedAt: updated,
		}
		if sp.status == job.Cancelled {
			j.CancelledAt, j.CancelledBy, j.CancelReason = updated, "dana", "Customer cancelled"
		}
		jw := JobWithAssignments{Job: j}
		for n, st := range sp.assignments {
			start := base.Add(time.Duration(24*(i+1)+n) * time.Hour)
			a := job.Assignment{
				ID: AssignmentID(sp.id, n+1), JobID: sp.id, TechnicianID: fmt.Sprintf("tech-%d", 10+i+n),
				ScheduledStart: start, ScheduledEnd: start.Add(2 * time.Hour),
				Status: st, Version: 1, CreatedAt: created, UpdatedAt: updated,
			}
			if st == job.AssignmentCancelled {
				a.Version, a.CancelledAt, a.CancelledBy, a.CancelReason = 2, updated, "dana", "Rescheduled"
			}
			jw.Assignments = append(jw.Assignments, a)
		}
		if len(jw.Assignments) > 0 {
			cur := jw.Assignments[len(jw.Assignments)-1]
			jw.Job.Assignment = &cur
		}
		out = append(out, jw)
	}
	return out
}

// JobWithAssignments is a demo job and every assignment it has had.
type JobWithAssignments struct {
	Job         job.Job
	Assignments []job.Assignment
}

// Load creates table (if absent) with the schema from shared/dynamo and writes the demo
// data into it.
func Load(ctx context.Context, db *dynamodb.Client, table string) error {
	if err := createTable(ctx, db, dynamo.CreateTableInput(table)); err != nil {
		return err
	}
	return each(func(item map[string]types.AttributeValue) error {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
		return err
	})
}

// Reset puts every demo session, job and assignment back as Load wrote it, in place, while
// the stack runs (`make reset`). Each item is deleted and written anew, so the table's
// stream carries a REMOVE and an INSERT, which announce no transition; and each gets a
// version one above the one it had, so that the next transition's eventId (entity, id,
// version) can never repeat one consumers have already seen. What the demo entities
// gathered since goes first (clearGathered).
func Reset(ctx context.Context, db *dynamodb.Client, table string) error {
	if err := clearGathered(ctx, db, table); err != nil {
		return err
	}
	return each(func(item map[string]types.AttributeValue) error {
		key := map[string]types.AttributeValue{attr.PK: item[attr.PK], attr.SK: item[attr.SK]}
		out, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(table), Key: key, ReturnValues: types.ReturnValueAllOld,
		})
		if err != nil {
			return err
		}
		if old, ok := out.Attributes[attr.Version].(*types.AttributeValueMemberN); ok {
			v, err := strconv.ParseInt(old.Value, 10, 64)
			if err != nil {
				return fmt.Errorf("version %q: %w", old.Value, err)
			}
			item[attr.Version] = &types.AttributeValueMemberN{Value: strconv.FormatInt(v+1, 10)}
		}
		_, err = db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item})
		return err
	})
}

// clearGathered deletes what the demo entities gathered since Load wrote them: in their
// partitions, every item Load did not write (assignments booked since, the records of
// requests), and the calendar slots those assignments hold. Left behind, a job put back to
// Unassigned would still hold a technician's time: another booking there would be refused
// in its name, and booking it again would meet its own slots.
func clearGathered(ctx context.Context, db *dynamodb.Client, table string) error {
	key := func(item map[string]types.AttributeValue) (pk, sk string) {
		p, _ := item[attr.PK].(*types.AttributeValueMemberS)
		s, _ := item[attr.SK].(*types.AttributeValueMemberS)
		if p == nil || s == nil {
			return "", ""
		}
		return p.Value, s.Value
	}
	loaded, partitions := map[[2]string]bool{}, map[string]bool{}
	_ = each(func(item map[string]types.AttributeValue) error {
		pk, sk := key(item)
		loaded[[2]string{pk, sk}] = true
		if t, _ := item[attr.Type].(*types.AttributeValueMemberS); t == nil || t.Value != attr.TypeSlot {
			partitions[pk] = true
		}
		return nil
	})
	demoJobs := map[string]bool{}
	for _, jw := range Jobs() {
		demoJobs[jw.Job.ID] = true
	}
	// One read of the whole table (a local table, reset by hand): a slot lives in its
	// technician's partition, which any booking of a demo job may have used.
	gathered := func(item map[string]types.AttributeValue) bool {
		pk, sk := key(item)
		if loaded[[2]string{pk, sk}] {
			return false
		}
		j, ok := item[attr.JobID].(*types.AttributeValueMemberS)
		t, _ := item[attr.Type].(*types.AttributeValueMemberS)
		return partitions[pk] || (t != nil && t.Value == attr.TypeSlot && ok && demoJobs[j.Value])
	}
	pages := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("read the table: %w", err)
		}
		for _, item := range page.Items {
			if !gathered(item) {
				continue
			}
			if _, err := db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table),
				Key: map[string]types.AttributeValue{attr.PK: item[attr.PK], attr.SK: item[attr.SK]}}); err != nil {
				pk, sk := key(item)
				return fmt.Errorf("clear %s %s: %w", pk, sk, err)
			}
		}
	}
	return nil
}

// each calls put with every demo item: sessions, then each job and its assignments.
func each(put func(map[string]types.AttributeValue) error) error {
	for _, s := range Sessions() {
		if err := put(dynamo.SessionItem(s)); err != nil {
			return fmt.Errorf("load session %s: %w", s.ID, err)
		}
	}
	for _, jw := range Jobs() {
		if err := put(dynamo.JobItem(jw.Job)); err != nil {
			return fmt.Errorf("load job %s: %w", jw.Job.ID, err)
		}
		for _, a := range jw.Assignments {
			if err := put(dynamo.AssignmentItem(a)); err != nil {
				return fmt.Errorf("load assignment %s: %w", a.ID, err)
			}
			// The technician's calendar holds the bookings that kept their time: the live
			// ones and the completed job's (a cancel released its).
			if a.Status == job.AssignmentCancelled || jw.Job.Status == job.Cancelled {
				continue
			}
			for _, slot := range dynamo.SlotItems(a) {
				if err := put(slot); err != nil {
					return fmt.Errorf("load assignment %s's calendar: %w", a.ID, err)
				}
			}
		}
	}
	return nil
}

// LoadLive creates the live channel's table and stores the sample tickets in it.
func LoadLive(ctx context.Context, db *dynamodb.Client, table string) error {
	if err := createTable(ctx, db, dynamo.CreateLiveTableInput(table)); err != nil {
		return err
	}
	now := time.Now()
	store := dynamo.NewLive(db, table, func() time.Time { return now }, live.NewTicketSecret, live.UserLimits{})
	alice := lifecycle.Actor{Sub: "alice"}
	for _, t := range []live.Ticket{
		{Secret: SampleTicket, ExpiresAt: now.Add(24 * time.Hour)},
		{Secret: SampleExpiredTicket, ExpiresAt: now.Add(-time.Minute)},
	} {
		if err := store.StoreTicket(ctx, alice, time.Time{}, t); err != nil {
			return err
		}
	}
	return nil
}

// createTable creates in's table, unless it exists, and waits until it is active.
func createTable(ctx context.Context, db *dynamodb.Client, in *dynamodb.CreateTableInput) error {
	if _, err := db.CreateTable(ctx, in); err != nil && !alreadyCreated(err) {
		return fmt.Errorf("create table %s: %w", aws.ToString(in.TableName), err)
	}
	return dynamodb.NewTableExistsWaiter(db).Wait(ctx, &dynamodb.DescribeTableInput{TableName: in.TableName}, 30*time.Second)
}

// alreadyCreated reports whether a CreateTable failed only because the table exists: the
// SDK's retry of a create whose first answer was lost (seen on a loaded machine), or
// another start that got there first. Either way the table is there to use.
func alreadyCreated(err error) bool {
	_, ok := errors.AsType[*types.ResourceInUseException](err)
	return ok
}
