package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
)

func (s *stack) job(t *testing.T, id string) map[string]types.AttributeValue {
	return s.item(t, "JOB#"+id, "JOB")
}

func (s *stack) assignment(t *testing.T, jobID, id string) map[string]types.AttributeValue {
	return s.item(t, "JOB#"+jobID, "ASSIGNMENT#"+id)
}

func TestCancelJobContract(t *testing.T) {
	s := newStack(t)
	dana, adam := s.token(t, "dana", "Dispatcher"), s.token(t, "adam", "Admin")
	tom, alice := s.token(t, "tom", "Technician"), s.token(t, "alice")
	cancel := func(id string) string { return "/jobs/" + id + "/cancel" }
	cases := []struct {
		name, path, token, body string
		status                  int
		want                    map[string]any
		assignment              string // expected assignment status in the response, "" for none
	}{
		{"dispatcher cancels an assigned job", cancel(demodata.JobAssignedPending), dana, `{"reason":"Customer rescheduled"}`, 200,
			map[string]any{"id": demodata.JobAssignedPending, "status": "Cancelled", "cancelReason": "Customer rescheduled", "cancelledBy": "dana"}, "Cancelled"},
		{"admin cancels an unassigned job", "/api/jobs/" + demodata.JobUnassigned + "/cancel", adam, "", 200,
			map[string]any{"status": "Cancelled", "cancelledBy": "adam"}, ""},
		{"an in-progress job", cancel(demodata.JobInProgress), dana, "{}", 200, map[string]any{"status": "Cancelled"}, "Cancelled"},
		{"a job with an earlier cancelled assignment", cancel(demodata.JobReassignedHistoric), dana, "", 200, map[string]any{"status": "Cancelled"}, "Cancelled"},
		{"a completed job", cancel(demodata.JobCompleted), dana, "", 400,
			map[string]any{"error": "Cannot cancel a completed job", "code": "INVALID_TRANSITION", "currentStatus": "Completed"}, ""},
		{"a cancelled job", cancel(demodata.JobCancelled), dana, "", 400,
			map[string]any{"error": "Job is already cancelled", "code": "INVALID_TRANSITION", "currentStatus": "Cancelled"}, ""},
		{"a missing job", cancel(demodata.MissingJob), dana, "", 404, map[string]any{"error": "Job not found", "code": "NOT_FOUND"}, ""},
		{"a technician", cancel(demodata.JobAssignedConfirmed), tom, "", 403, map[string]any{"error": "Forbidden"}, ""},
		{"a user without roles", cancel(demodata.JobAssignedConfirmed), alice, "", 403, map[string]any{"error": "Forbidden"}, ""},
		{"no token", cancel(demodata.JobAssignedConfirmed), "", "", 401, map[string]any{"error": "Unauthorized"}, ""},
		{"a bad id", "/jobs/42/cancel", dana, "", 400, map[string]any{"error": "Invalid request", "details": "id must be a UUID"}, ""},
		{"a malformed body", cancel(demodata.JobAssignedConfirmed), dana, `{"reason":`, 400, map[string]any{"error": "Invalid request"}, ""},
		{"a reason over 500 characters", cancel(demodata.JobAssignedConfirmed), dana, `{"reason":"` + strings.Repeat("r", 501) + `"}`, 400, map[string]any{"error": "Invalid request"}, ""},
		{"a body over 16 KiB", cancel(demodata.JobAssignedConfirmed), dana, `{"reason":"` + strings.Repeat("r", 17<<10) + `"}`, 413, map[string]any{"code": "PAYLOAD_TOO_LARGE"}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.do(t, http.MethodPost, c.path, c.token, c.body)
			if r.status != c.status {
				t.Fatalf("status = %d, want %d: %s", r.status, c.status, r.raw)
			}
			for k, v := range c.want {
				if r.body[k] != v {
					t.Errorf("%s = %v, want %v (%s)", k, r.body[k], v, r.raw)
				}
			}
			if c.status == 200 {
				a, _ := r.body["assignment"].(map[string]any)
				if c.assignment == "" && a != nil && a["status"] != "Cancelled" {
					t.Errorf("unexpected live assignment %v", a)
				}
				if c.assignment != "" && (a == nil || a["status"] != c.assignment) {
					t.Errorf("assignment = %v, want status %s", a, c.assignment)
				}
			}
		})
	}

	// Both items changed, one version step each, with the audit fields.
	aid := demodata.AssignmentID(demodata.JobAssignedPending, 1)
	j, a := s.job(t, demodata.JobAssignedPending), s.assignment(t, demodata.JobAssignedPending, aid)
	for k, v := range map[string]string{"status": "Cancelled", "previousStatus": "Assigned", "version": "3", "cancelledBy": "dana", "cancelReason": "Customer rescheduled", "lastAction": "cancel"} {
		if got := str(j, k); got != v {
			t.Errorf("job %s = %q, want %q", k, got, v)
		}
	}
	for k, v := range map[string]string{"status": "Cancelled", "previousStatus": "Pending", "version": "2", "cancelledBy": "dana", "cancelReason": "Customer rescheduled"} {
		if got := str(a, k); got != v {
			t.Errorf("assignment %s = %q, want %q", k, got, v)
		}
	}
	if str(j, "cancelledAt") == "" || str(j, "cancelledAt") != str(a, "cancelledAt") {
		t.Errorf("cancelledAt job %q assignment %q", str(j, "cancelledAt"), str(a, "cancelledAt"))
	}
	snap, ok := j["cancelledAssignment"].(*types.AttributeValueMemberM)
	if !ok || str(snap.Value, "id") != aid || str(snap.Value, "technicianId") == "" || str(snap.Value, "scheduledStart") == "" {
		t.Errorf("the job does not record the assignment it cancelled: %v", j["cancelledAssignment"])
	}
	// The earlier, already cancelled assignment of the reassigned job was left alone.
	old := s.assignment(t, demodata.JobReassignedHistoric, demodata.AssignmentID(demodata.JobReassignedHistoric, 1))
	if str(old, "version") != "2" || str(old, "cancelReason") != "Rescheduled" {
		t.Errorf("historic assignment changed: %v", old)
	}
	// Refused requests changed nothing.
	if j := s.job(t, demodata.JobAssignedConfirmed); str(j, "status") != "Assigned" || str(j, "version") != "2" {
		t.Errorf("a refused request changed the job: %v", j)
	}
}

func TestGetJobContract(t *testing.T) {
	s := newStack(t)
	dana := s.token(t, "dana", "Dispatcher")
	r := s.do(t, http.MethodGet, "/jobs/"+demodata.JobAssignedConfirmed, dana, "")
	a, _ := r.body["assignment"].(map[string]any)
	if r.status != 200 || r.body["status"] != "Assigned" || a == nil || a["status"] != "Confirmed" || a["technicianId"] == "" || a["scheduledStart"] == nil {
		t.Fatalf("get = %d %s", r.status, r.raw)
	}
	if r.header.Get("ETag") != `"2"` {
		t.Errorf("ETag = %q", r.header.Get("ETag"))
	}
	r = s.do(t, http.MethodGet, "/api/jobs/"+demodata.JobUnassigned, s.token(t, "adam", "Admin"), "")
	if r.status != 200 || r.body["assignment"] != nil {
		t.Errorf("unassigned job = %d %s", r.status, r.raw)
	}
	for _, c := range []struct {
		path, token string
		status      int
		error       string
	}{
		{"/jobs/" + demodata.MissingJob, dana, 404, "Job not found"},
		{"/jobs/x", dana, 400, "Invalid request"},
		{"/jobs/" + demodata.JobUnassigned, s.token(t, "tom", "Technician"), 403, "Forbidden"},
		{"/jobs/" + demodata.JobUnassigned, "", 401, "Unauthorized"},
	} {
		if r := s.do(t, http.MethodGet, c.path, c.token, ""); r.status != c.status || r.body["error"] != c.error {
			t.Errorf("GET %s = %d %s", c.path, r.status, r.raw)
		}
	}
}

// hookDB is the real DynamoDB client (of moto) with a hook after each Query, to change the
// data between a store's read and its write, and a count of requests per operation.
type hookDB struct {
	*dynamodb.Client
	afterQuery func()
	calls      atomic.Int64
}

func (h *hookDB) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	h.calls.Add(1)
	out, err := h.Client.Query(ctx, in, opts...)
	if h.afterQuery != nil {
		h.afterQuery()
	}
	return out, err
}

func (h *hookDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	h.calls.Add(1)
	return h.Client.GetItem(ctx, in, opts...)
}

func (h *hookDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	h.calls.Add(1)
	return h.Client.UpdateItem(ctx, in, opts...)
}

func (h *hookDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	h.calls.Add(1)
	return h.Client.TransactWriteItems(ctx, in, opts...)
}

// update changes one item directly, as another writer would.
func (s *stack) update(t *testing.T, key map[string]types.AttributeValue, expr string, values map[string]types.AttributeValue) {
	t.Helper()
	_, err := s.db.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table), Key: key, UpdateExpression: aws.String(expr),
		ExpressionAttributeNames: map[string]string{"#s": "status", "#v": "version"}, ExpressionAttributeValues: values,
	})
	if err != nil {
		t.Fatal(err)
	}
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}
}

func sv(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func nv(v int) types.AttributeValue    { return &types.AttributeValueMemberN{Value: strconv.Itoa(v)} }

// TestJobCancelIsAtomic changes the job or its assignment between the store's read and its
// write. The guarded transaction fails as a whole, so neither item takes a cancel decided
// on what it no longer is; the store reads again and decides on what it finds.
func TestJobCancelIsAtomic(t *testing.T) {
	actor := lifecycle.Actor{Sub: "dana", Roles: []string{"Dispatcher"}}
	type want struct {
		err                 func(error) bool
		job, assignment     string // statuses after
		jobV                string // the job's version after: "+n" steps from before
		assignmentV         string // the assignment's version after
		requests            int64
		assignmentCancelled string // the assignment the cancel must have ended, if any
	}
	added := "a5a5a5a5-0000-4000-8000-00000000ffff"
	cases := []struct {
		name   string
		jobID  string
		change func(t *testing.T, s *stack, jobID string)
		want   want
	}{
		{
			name:  "assignment confirmed meanwhile: cancelled as confirmed",
			jobID: demodata.JobAssignedPending,
			change: func(t *testing.T, s *stack, jobID string) {
				s.update(t, key("JOB#"+jobID, "ASSIGNMENT#"+demodata.AssignmentID(jobID, 1)), "SET #s = :s, #v = #v + :one",
					map[string]types.AttributeValue{":s": sv("Confirmed"), ":one": nv(1)})
			},
			// The assignment: 1, confirmed 2, cancelled 3; the job one step. Read, the stale
			// transaction, read, the transaction.
			want: want{err: func(err error) bool { return err == nil }, job: "Cancelled", jobV: "+1", assignment: "Cancelled", assignmentV: "3", requests: 4},
		},
		{
			name:  "job completed meanwhile: refused",
			jobID: demodata.JobInProgress,
			change: func(t *testing.T, s *stack, jobID string) {
				s.update(t, key("JOB#"+jobID, "JOB"), "SET #s = :s, #v = #v + :one",
					map[string]types.AttributeValue{":s": sv("Completed"), ":one": nv(1)})
			},
			want: want{err: func(err error) bool {
				var bad *lifecycle.InvalidTransitionError
				return errors.As(err, &bad) && bad.Current == "Completed"
			}, job: "Completed", assignment: "Confirmed", requests: 3},
		},
		{
			name:  "an assignment added to an unassigned job meanwhile: both cancelled",
			jobID: demodata.JobUnassigned,
			change: func(t *testing.T, s *stack, jobID string) {
				a := job.Assignment{ID: added, JobID: jobID, TechnicianID: "tech-9", Status: job.Pending, Version: 1,
					ScheduledStart: time.Now(), ScheduledEnd: time.Now().Add(time.Hour), CreatedAt: time.Now(), UpdatedAt: time.Now()}
				if _, err := s.db.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(s.table), Item: dynamo.AssignmentItem(a)}); err != nil {
					t.Fatal(err)
				}
				s.update(t, key("JOB#"+jobID, "JOB"), "SET #s = :s, #v = #v + :one, assignmentId = :a",
					map[string]types.AttributeValue{":s": sv("Assigned"), ":one": nv(1), ":a": sv(added)})
			},
			want: want{err: func(err error) bool { return err == nil }, job: "Cancelled", jobV: "+2", requests: 4, assignmentCancelled: added},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newStack(t)
			db := &hookDB{Client: s.db}
			var once sync.Once
			db.afterQuery = func() { once.Do(func() { c.change(t, s, c.jobID) }) }
			store := dynamo.NewJobs(db, s.table, time.Now, lifecycle.NewID)
			before, _ := strconv.Atoi(str(s.job(t, c.jobID), "version"))
			if c.want.jobV != "" {
				steps, _ := strconv.Atoi(c.want.jobV)
				c.want.jobV = strconv.Itoa(before + steps)
			}

			_, _, err := store.Cancel(context.Background(), job.Request{Request: lifecycle.Request{ID: c.jobID, Actor: actor, Reason: "race"}})
			if !c.want.err(err) {
				t.Fatalf("Cancel error = %v", err)
			}
			j := s.job(t, c.jobID)
			if str(j, "status") != c.want.job || c.want.jobV != "" && str(j, "version") != c.want.jobV {
				t.Errorf("job v%s %s, want v%s %s", str(j, "version"), str(j, "status"), c.want.jobV, c.want.job)
			}
			if c.want.assignment != "" {
				a := s.assignment(t, c.jobID, demodata.AssignmentID(c.jobID, 1))
				if str(a, "status") != c.want.assignment || c.want.assignmentV != "" && str(a, "version") != c.want.assignmentV {
					t.Errorf("assignment v%s %s, want v%s %s", str(a, "version"), str(a, "status"), c.want.assignmentV, c.want.assignment)
				}
			}
			if c.want.assignmentCancelled != "" {
				if a := s.assignment(t, c.jobID, c.want.assignmentCancelled); str(a, "status") != "Cancelled" || str(a, "version") != "2" {
					t.Errorf("the assignment added meanwhile is v%s %s, want v2 Cancelled", str(a, "version"), str(a, "status"))
				}
			}
			if err != nil && (str(j, "cancelReason") != "" || str(j, "cancelledAt") != "") {
				t.Errorf("a refused cancel left its reason on the job")
			}
			if n := db.calls.Load(); n != c.want.requests {
				t.Errorf("%d DynamoDB requests, want %d", n, c.want.requests)
			}
		})
	}
}

func TestConcurrentJobCancels(t *testing.T) {
	s := newStack(t)
	dana := s.token(t, "dana", "Dispatcher")
	const n = 50
	results := make([]response, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = s.doAsAClient(t, http.MethodPost, "/jobs/"+demodata.JobAssignedConfirmed+"/cancel", dana, `{"reason":"race `+strconv.Itoa(i)+`"}`)
		}()
	}
	close(start)
	wg.Wait()
	var ok, already, conflict int
	for _, r := range results {
		switch {
		case r.status == 200:
			ok++
		case r.status == 400 && r.body["error"] == "Job is already cancelled":
			already++
		case r.status == 409 && r.body["code"] == "CONFLICT":
			conflict++ // lost the race while the winner's transaction was in flight; a retry gets 400
		default:
			t.Errorf("unexpected %d %s", r.status, r.raw)
		}
	}
	if ok != 1 {
		t.Fatalf("%d successes, want exactly 1 (%d already cancelled, %d conflicts)", ok, already, conflict)
	}
	j := s.job(t, demodata.JobAssignedConfirmed)
	a := s.assignment(t, demodata.JobAssignedConfirmed, demodata.AssignmentID(demodata.JobAssignedConfirmed, 1))
	if str(j, "version") != "3" || str(a, "version") != "2" || str(j, "status") != "Cancelled" || str(a, "status") != "Cancelled" {
		t.Fatalf("job v%s %s, assignment v%s %s; want one version step each", str(j, "version"), str(j, "status"), str(a, "version"), str(a, "status"))
	}
	t.Logf("50 concurrent cancels: 1 ok, %d already cancelled, %d conflicts", already, conflict)
}

// TestDynamoDBRequestsPerCall counts the requests each operation sends.
func TestDynamoDBRequestsPerCall(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	dana := lifecycle.Actor{Sub: "dana", Roles: []string{"Dispatcher"}}
	alice := lifecycle.Actor{Sub: "alice"}
	cases := []struct {
		name string
		max  int64
		call func(db *hookDB) error
	}{
		{"cancel interview", 2, func(db *hookDB) error {
			_, _, err := dynamo.NewInterviews(db, s.table, time.Now, lifecycle.NewID).Apply(ctx, interview.Cancel, interview.Request{Request: lifecycle.Request{ID: demodata.AliceActive, Actor: alice}})
			return err
		}},
		{"pause interview", 2, func(db *hookDB) error {
			_, _, err := dynamo.NewInterviews(db, s.table, time.Now, lifecycle.NewID).Apply(ctx, interview.Pause, interview.Request{Request: lifecycle.Request{ID: demodata.AliceActive2, Actor: alice}})
			return err
		}},
		{"refused resume", 1, func(db *hookDB) error {
			_, _, err := dynamo.NewInterviews(db, s.table, time.Now, lifecycle.NewID).Apply(ctx, interview.Resume, interview.Request{Request: lifecycle.Request{ID: demodata.AliceCompleted, Actor: alice}})
			if err == nil {
				return errors.New("resume of a completed session succeeded")
			}
			return nil
		}},
		{"refused resume with the client's key (its record looked up)", 2, func(db *hookDB) error {
			_, _, err := dynamo.NewInterviews(db, s.table, time.Now, lifecycle.NewID).Apply(ctx, interview.Resume, interview.Request{Request: lifecycle.Request{ID: demodata.AliceCompleted, Actor: alice, Idempotency: lifecycle.Idempotency{Key: "key:k", Fingerprint: "f", Client: true}}})
			if err == nil {
				return errors.New("resume of a completed session succeeded")
			}
			return nil
		}},
		{"get interview", 1, func(db *hookDB) error {
			_, err := dynamo.NewInterviews(db, s.table, time.Now, lifecycle.NewID).Get(ctx, demodata.AlicePaused)
			return err
		}},
		{"cancel job with assignment", 2, func(db *hookDB) error {
			_, _, err := dynamo.NewJobs(db, s.table, time.Now, lifecycle.NewID).Cancel(ctx, job.Request{Request: lifecycle.Request{ID: demodata.JobAssignedConfirmed, Actor: dana}})
			return err
		}},
		{"cancel job without assignment", 2, func(db *hookDB) error {
			_, _, err := dynamo.NewJobs(db, s.table, time.Now, lifecycle.NewID).Cancel(ctx, job.Request{Request: lifecycle.Request{ID: demodata.JobUnassigned, Actor: dana}})
			return err
		}},
		{"refused job cancel", 1, func(db *hookDB) error {
			_, _, err := dynamo.NewJobs(db, s.table, time.Now, lifecycle.NewID).Cancel(ctx, job.Request{Request: lifecycle.Request{ID: demodata.JobCompleted, Actor: dana}})
			if err == nil {
				return errors.New("cancel of a completed job succeeded")
			}
			return nil
		}},
		{"get job", 1, func(db *hookDB) error {
			_, err := dynamo.NewJobs(db, s.table, time.Now, lifecycle.NewID).Get(ctx, demodata.JobInProgress)
			return err
		}},
	}
	for _, c := range cases {
		db := &hookDB{Client: s.db}
		if err := c.call(db); err != nil {
			t.Errorf("%s: %v", c.name, err)
		}
		if got := db.calls.Load(); got != c.max {
			t.Errorf("%s: %d requests, want %d", c.name, got, c.max)
		}
	}
}

// TestCreateJobThroughTheAPI (issue 25, part 1): a job starts from nothing but the API, on
// moto: a dispatcher creates it Unassigned at version 1 and may then cancel it; ten
// concurrent retries with the key get the same job; a technician is refused; the create is
// one JobCreated event, with the title and customer and without the address.
func TestCreateJobThroughTheAPI(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	p.drain(t)
	_ = p.received(t, "AuditQueue")
	dana, tom := s.token(t, "dana", "Dispatcher"), s.token(t, "tom", "Technician")
	body := `{"title":"Replace boiler valve","customerId":"cust-77","address":"9 Hidden Road","requestedWindow":{"start":"2026-12-09T09:00:00Z","end":"2026-12-09T11:00:00Z"}}`

	if r := s.do(t, "POST", "/jobs", tom, body); r.status != http.StatusForbidden {
		t.Errorf("a technician creates a job: %d %s", r.status, r.raw)
	}
	var wg sync.WaitGroup
	made := make([]response, 10)
	for i := range made {
		wg.Go(func() {
			made[i] = s.do(t, "POST", "/api/jobs", dana, body, "Idempotency-Key", "dana-job-1", "X-Correlation-Id", "create-job-1")
		})
	}
	wg.Wait()
	id, _ := made[0].body["id"].(string)
	fresh := 0
	for i, r := range made {
		if r.status != http.StatusCreated || r.body["id"] != id || r.body["status"] != "Unassigned" || r.header.Get("Location") != "/api/jobs/"+id {
			t.Errorf("create %d: %d %v %s", i, r.status, r.header, r.raw)
		}
		if r.header.Get("Idempotent-Replayed") != "true" {
			fresh++
		}
	}
	if fresh != 1 {
		t.Errorf("%d of ten concurrent creates with one key made a job, want exactly 1", fresh)
	}
	if r := s.do(t, "GET", "/jobs/"+id, dana, ""); r.status != http.StatusOK || r.body["address"] != "9 Hidden Road" || r.body["version"] != 1.0 {
		t.Errorf("the new job reads %d %s", r.status, r.raw)
	}
	if r := s.do(t, "POST", "/jobs/"+id+"/cancel", dana, `{"reason":"duplicate"}`); r.status != http.StatusOK || r.body["status"] != "Cancelled" {
		t.Errorf("cancelling the new job: %d %s", r.status, r.raw)
	}

	p.drain(t)
	var created []event.Job
	for _, e := range p.received(t, "AuditQueue") {
		if e.DetailType != event.TypeJobCreated {
			continue
		}
		if strings.Contains(string(e.Detail), "Hidden Road") {
			t.Errorf("JobCreated carries the address: %s", e.Detail)
		}
		var d event.Job
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatal(err)
		}
		created = append(created, d)
	}
	if len(created) != 1 {
		t.Fatalf("%d JobCreated events, want 1", len(created))
	}
	if d := created[0]; d.JobID != id || d.Version != 1 || d.Status != "Unassigned" || d.Title != "Replace boiler valve" || d.CustomerID != "cust-77" ||
		d.CorrelationID != "create-job-1" || d.Actor.Sub != "dana" {
		t.Errorf("JobCreated %+v", d)
	}
}

// TestCalendarIntegrity (issue 25, parts 2 and 3): a technician is never booked into two
// overlapping live windows, on moto. Twenty dispatchers race to book tom into overlapping
// windows on twenty jobs: exactly one wins, and every other is a 409 naming the winner's
// job. A window that only touches the booked one is free. Cancelling the winner's job, or
// reassigning it to another window, releases its time; a reassignment that keeps part of
// the window keeps it. Each assignment is one JobAssigned event.
func TestCalendarIntegrity(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	p.drain(t)
	_ = p.received(t, "AuditQueue")
	dana := s.token(t, "dana", "Dispatcher")
	newJob := func(i int) string {
		r := s.do(t, "POST", "/jobs", dana, fmt.Sprintf(`{"title":"Job %d","customerId":"cust-%d","address":"%d Long Road"}`, i, i, i))
		if r.status != http.StatusCreated {
			t.Fatalf("create job %d: %d %s", i, r.status, r.raw)
		}
		return r.body["id"].(string)
	}
	book := func(id, tech, start, end string) response {
		return s.do(t, "POST", "/jobs/"+id+"/assign", dana, fmt.Sprintf(`{"technicianId":%q,"scheduledStart":%q,"scheduledEnd":%q}`, tech, start, end))
	}

	jobs := make([]string, 20)
	for i := range jobs {
		jobs[i] = newJob(i)
	}
	var wg sync.WaitGroup
	answers := make([]response, len(jobs))
	for i, id := range jobs {
		// 09:00-11:00, 09:15-11:15, ...: every pair overlaps.
		start := time.Date(2026, 12, 9, 9, 0, 0, 0, time.UTC).Add(time.Duration(i%4) * 15 * time.Minute)
		wg.Go(func() {
			answers[i] = book(id, "tom", start.Format(time.RFC3339), start.Add(2*time.Hour).Format(time.RFC3339))
		})
	}
	wg.Wait()
	winner := ""
	for i, r := range answers {
		switch r.status {
		case http.StatusOK:
			if winner != "" {
				t.Fatalf("two overlapping bookings of tom committed: %s and %s", winner, jobs[i])
			}
			winner = jobs[i]
		case http.StatusConflict:
		default:
			t.Errorf("booking %d: %d %s", i, r.status, r.raw)
		}
	}
	if winner == "" {
		t.Fatal("no booking of tom committed")
	}
	for i, r := range answers {
		if r.status == http.StatusConflict && (r.body["code"] != "BOOKING_CONFLICT" || r.body["conflictingJobId"] != winner) {
			t.Errorf("booking %d refused with %s, want BOOKING_CONFLICT naming %s", i, r.raw, winner)
		}
	}
	won := s.do(t, "GET", "/jobs/"+winner, dana, "")
	a, _ := won.body["assignment"].(map[string]any)
	start, _ := time.Parse(time.RFC3339, a["scheduledStart"].(string))
	end, _ := time.Parse(time.RFC3339, a["scheduledEnd"].(string))
	if won.body["status"] != "Assigned" || a["technicianId"] != "tom" || a["status"] != "Pending" {
		t.Fatalf("the winner reads %s", won.raw)
	}

	// A window that only touches tom's booking is free; one that overlaps it by a quarter-hour is not.
	free, busy := newJob(100), newJob(101)
	if r := book(free, "tom", end.Format(time.RFC3339), end.Add(time.Hour).Format(time.RFC3339)); r.status != http.StatusOK {
		t.Errorf("a window starting as tom's ends: %d %s", r.status, r.raw)
	}
	if r := book(busy, "tom", start.Add(-time.Hour).Format(time.RFC3339), start.Add(15*time.Minute).Format(time.RFC3339)); r.status != http.StatusConflict || r.body["conflictingJobId"] != winner {
		t.Errorf("a window overlapping tom's by a quarter-hour: %d %s", r.status, r.raw)
	}
	// The winner moved an hour earlier, partly over its own time: its old tail is released.
	if r := book(winner, "tom", start.Add(-time.Hour).Format(time.RFC3339), end.Add(-time.Hour).Format(time.RFC3339)); r.status != http.StatusOK {
		t.Fatalf("reassigning the winner an hour earlier: %d %s", r.status, r.raw)
	}
	// Booked again on tom, the job was taken from no one (its JobAssigned names no
	// unassigned technician).
	if u := s.job(t, winner)["unassignedTechnicianId"]; u != nil {
		t.Errorf("tom booked again on his own job: unassignedTechnicianId %v, want none", u)
	}
	if r := book(busy, "tom", end.Add(-time.Hour).Format(time.RFC3339), end.Format(time.RFC3339)); r.status != http.StatusOK {
		t.Errorf("the hour the reassignment released: %d %s", r.status, r.raw)
	}
	// Cancelling the winner gives its window back.
	if r := s.do(t, "POST", "/jobs/"+winner+"/cancel", dana, ""); r.status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.status, r.raw)
	}
	other := jobs[0]
	if other == winner {
		other = jobs[1]
	}
	if r := book(other, "tom", start.Add(-time.Hour).Format(time.RFC3339), end.Add(-time.Hour).Format(time.RFC3339)); r.status != http.StatusOK {
		t.Errorf("the window the cancel released: %d %s", r.status, r.raw)
	}

	p.drain(t)
	assigned := 0
	for _, e := range p.received(t, "AuditQueue") {
		if e.DetailType == event.TypeJobAssigned {
			assigned++
		}
	}
	if assigned != 5 { // the winner, free, the reassignment, busy, other
		t.Errorf("%d JobAssigned events, want 5", assigned)
	}
}

// TestTheJobLifecycleThroughTheAPI (issue 25, "done when", all but the screens): from an
// empty partition, through the API alone on moto: a dispatcher creates a job and books tom
// for 09:00-11:00; a second booking of tom for 10:00-12:00 is refused with 409; tom may not
// start before he confirms, another technician may not act on it, and a dispatcher may not
// act as tom; tom confirms, starts and completes; a second job is cancelled; every step is
// one event, in order.
func TestTheJobLifecycleThroughTheAPI(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	p.drain(t)
	_ = p.received(t, "AuditQueue")
	dana, tom, tess := s.token(t, "dana", "Dispatcher"), s.token(t, "tom", "Technician"), s.token(t, "tess", "Technician")
	create := func(title string) string {
		r := s.do(t, "POST", "/jobs", dana, fmt.Sprintf(`{"title":%q,"customerId":"cust-1","address":"1 Low Road"}`, title))
		if r.status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", title, r.status, r.raw)
		}
		return r.body["id"].(string)
	}
	first, second := create("Boiler service"), create("Radiator repair")
	if r := s.do(t, "POST", "/jobs/"+first+"/assign", dana, `{"technicianId":"tom","scheduledStart":"2026-12-10T09:00:00Z","scheduledEnd":"2026-12-10T11:00:00Z"}`); r.status != http.StatusOK {
		t.Fatalf("book tom 09:00-11:00: %d %s", r.status, r.raw)
	}
	if r := s.do(t, "POST", "/jobs/"+second+"/assign", dana, `{"technicianId":"tom","scheduledStart":"2026-12-10T10:00:00Z","scheduledEnd":"2026-12-10T12:00:00Z"}`); r.status != http.StatusConflict ||
		r.body["conflictingJobId"] != first {
		t.Errorf("book tom 10:00-12:00 too: %d %s", r.status, r.raw)
	}
	step := func(who, action string, token string, status int) response {
		t.Helper()
		r := s.do(t, "POST", "/jobs/"+first+"/"+action, token, "")
		if r.status != status {
			t.Fatalf("%s %ss: %d %s, want %d", who, action, r.status, r.raw, status)
		}
		return r
	}
	if r := step("tom", "start", tom, http.StatusBadRequest); r.body["currentStatus"] != "Pending" {
		t.Errorf("starting before confirming: %s", r.raw)
	}
	step("tess", "confirm", tess, http.StatusForbidden)
	step("dana", "confirm", dana, http.StatusForbidden)
	if r := s.do(t, "GET", "/jobs/"+first, tom, ""); r.status != http.StatusOK || strings.Join(actions(r.body), ",") != "confirm" {
		t.Errorf("tom reads his job: %d %s", r.status, r.raw)
	}
	if r := step("tom", "confirm", tom, http.StatusOK); r.body["status"] != "Assigned" || r.body["assignment"].(map[string]any)["status"] != "Confirmed" {
		t.Errorf("confirm: %s", r.raw)
	}
	if r := step("tom", "start", tom, http.StatusOK); r.body["status"] != "InProgress" {
		t.Errorf("start: %s", r.raw)
	}
	if r := step("tom", "complete", tom, http.StatusOK); r.body["status"] != "Completed" || len(actions(r.body)) != 0 {
		t.Errorf("complete: %s", r.raw)
	}
	step("tom", "complete", tom, http.StatusBadRequest)
	if r := s.do(t, "POST", "/jobs/"+second+"/cancel", dana, `{"reason":"Customer away"}`); r.status != http.StatusOK {
		t.Errorf("cancel the second job: %d %s", r.status, r.raw)
	}

	p.drain(t)
	var got []string
	for _, e := range p.received(t, "AuditQueue") {
		var d event.Job
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatal(err)
		}
		if d.JobID == first {
			got = append(got, fmt.Sprintf("%s@%d", e.DetailType, d.Version))
			if e.DetailType != event.TypeJobCreated && (d.Booked == nil || d.Booked.TechnicianID != "tom") {
				t.Errorf("%s does not name tom's booking: %s", e.DetailType, e.Detail)
			}
		}
	}
	slices.SortFunc(got, func(a, b string) int {
		va, _ := strconv.Atoi(a[strings.Index(a, "@")+1:])
		vb, _ := strconv.Atoi(b[strings.Index(b, "@")+1:])
		return va - vb
	})
	want := []string{"JobCreated@1", "JobAssigned@2", "AssignmentConfirmed@3", "JobStarted@4", "JobCompleted@5"}
	if !slices.Equal(got, want) {
		t.Errorf("the first job's events %v, want %v", got, want)
	}
}

func actions(body map[string]any) []string {
	var out []string
	list, _ := body["allowedActions"].([]any)
	for _, a := range list {
		out = append(out, fmt.Sprint(a))
	}
	return out
}

// TestRescheduleKeepsTheCalendar (issue 25, part 4): a reschedule moves the booking under
// the same rule as a booking, on moto: onto another job's time it is a 409 naming that
// job; onto a window overlapping its own it keeps the shared quarter-hours, books the new
// ones and releases the rest; a confirmed assignment is Pending again; JobRescheduled
// says the window it moved from.
func TestRescheduleKeepsTheCalendar(t *testing.T) {
	s := newStack(t)
	p := newPipeline(t, s)
	p.drain(t)
	_ = p.received(t, "AuditQueue")
	dana, tom := s.token(t, "dana", "Dispatcher"), s.token(t, "tom", "Technician")
	create := func(title string) string {
		r := s.do(t, "POST", "/jobs", dana, fmt.Sprintf(`{"title":%q,"customerId":"cust-2","address":"2 High Road"}`, title))
		if r.status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", title, r.status, r.raw)
		}
		return r.body["id"].(string)
	}
	window := func(start, end string) string {
		return fmt.Sprintf(`"scheduledStart":"2026-12-11T%s:00Z","scheduledEnd":"2026-12-11T%s:00Z"`, start, end)
	}
	a, b, c := create("A"), create("B"), create("C")
	for _, bk := range []struct{ id, start, end string }{{a, "09:00", "11:00"}, {b, "13:00", "15:00"}} {
		if r := s.do(t, "POST", "/jobs/"+bk.id+"/assign", dana, `{"technicianId":"tom",`+window(bk.start, bk.end)+`}`); r.status != http.StatusOK {
			t.Fatalf("book %s: %d %s", bk.id, r.status, r.raw)
		}
	}
	if r := s.do(t, "POST", "/jobs/"+a+"/confirm", tom, ""); r.status != http.StatusOK {
		t.Fatalf("tom confirms A: %d %s", r.status, r.raw)
	}
	if r := s.do(t, "POST", "/jobs/"+a+"/reschedule", dana, `{`+window("12:00", "14:00")+`}`); r.status != http.StatusConflict || r.body["conflictingJobId"] != b {
		t.Errorf("moving A onto B's time: %d %s", r.status, r.raw)
	}
	moved := s.do(t, "POST", "/jobs/"+a+"/reschedule", dana, `{`+window("10:00", "12:00")+`}`)
	as, _ := moved.body["assignment"].(map[string]any)
	if moved.status != http.StatusOK || moved.body["status"] != "Assigned" || as["status"] != "Pending" || as["technicianId"] != "tom" ||
		as["scheduledStart"] != "2026-12-11T10:00:00.000Z" {
		t.Fatalf("moving A an hour later: %d %s", moved.status, moved.raw)
	}
	if r := s.do(t, "POST", "/jobs/"+c+"/assign", dana, `{"technicianId":"tom",`+window("09:00", "10:00")+`}`); r.status != http.StatusOK {
		t.Errorf("the hour A released: %d %s", r.status, r.raw)
	}
	if r := s.do(t, "POST", "/jobs/"+c+"/assign", dana, `{"technicianId":"tom",`+window("11:45", "12:15")+`}`); r.status != http.StatusConflict || r.body["conflictingJobId"] != a {
		t.Errorf("A's new last quarter-hour: %d %s", r.status, r.raw)
	}

	p.drain(t)
	found := false
	for _, e := range p.received(t, "AuditQueue") {
		if e.DetailType != event.TypeJobRescheduled {
			continue
		}
		var d event.Job
		if err := json.Unmarshal(e.Detail, &d); err != nil {
			t.Fatal(err)
		}
		found = d.JobID == a && d.RescheduledFrom != nil && d.RescheduledFrom.Start.Hour() == 9 && d.Booked != nil && d.Booked.ScheduledStart.Hour() == 10
		if !found {
			t.Errorf("JobRescheduled %s", e.Detail)
		}
	}
	if !found {
		t.Error("no JobRescheduled event")
	}
}

// TestTechnicianSchedule (issue 25, part 6): tom's schedule is read from his calendar on
// moto: each booking whole, in time order, a cancelled one gone; for dana, or for tom as
// "me"; not for tess. A range that cuts a booking shows exactly its part of it.
func TestTechnicianSchedule(t *testing.T) {
	s := newStack(t)
	dana, tom, tess := s.token(t, "dana", "Dispatcher"), s.token(t, "tom", "Technician"), s.token(t, "tess", "Technician")
	book := func(title, start, end string) string {
		r := s.do(t, "POST", "/jobs", dana, fmt.Sprintf(`{"title":%q,"customerId":"c","address":"a"}`, title))
		id := r.body["id"].(string)
		if r := s.do(t, "POST", "/jobs/"+id+"/assign", dana, fmt.Sprintf(`{"technicianId":"tom","scheduledStart":%q,"scheduledEnd":%q}`, start, end)); r.status != http.StatusOK {
			t.Fatalf("book %s: %d %s", title, r.status, r.raw)
		}
		return id
	}
	late := book("late", "2026-12-14T13:00:00Z", "2026-12-14T17:30:00Z")
	early := book("early", "2026-12-14T08:00:00Z", "2026-12-14T09:15:00Z")
	gone := book("gone", "2026-12-15T08:00:00Z", "2026-12-15T09:00:00Z")
	if r := s.do(t, "POST", "/jobs/"+gone+"/cancel", dana, ""); r.status != http.StatusOK {
		t.Fatalf("cancel: %d", r.status)
	}
	q := "?from=2026-12-14T00:00:00Z&to=2026-12-21T00:00:00Z"
	for who, tok := range map[string]string{"dana": dana, "tom as me": tom} {
		path := "/technicians/tom/assignments" + q
		if who == "tom as me" {
			path = "/api/technicians/me/assignments" + q
		}
		r := s.do(t, "GET", path, tok, "")
		b, _ := r.body["bookings"].([]any)
		var got []string
		for _, x := range b {
			m := x.(map[string]any)
			got = append(got, fmt.Sprint(m["jobId"], " ", m["start"], " ", m["end"]))
		}
		want := []string{early + " 2026-12-14T08:00:00.000Z 2026-12-14T09:15:00.000Z", late + " 2026-12-14T13:00:00.000Z 2026-12-14T17:30:00.000Z"}
		if r.status != http.StatusOK || !slices.Equal(got, want) {
			t.Errorf("%s reads tom's week: %d %v, want %v", who, r.status, got, want)
		}
	}
	if r := s.do(t, "GET", "/technicians/tom/assignments"+q, tess, ""); r.status != http.StatusForbidden {
		t.Errorf("tess reads tom's schedule: %d", r.status)
	}
	// The calendar holds quarter-hours, but a range that cuts one shows only its part of
	// the booking: late's 13:00-17:30 read from 13:07 to 17:20, or 13:07 to 13:08.
	for _, c := range []struct{ from, to, start, end string }{
		{"2026-12-14T13:07:00Z", "2026-12-14T17:20:00Z", "2026-12-14T13:07:00.000Z", "2026-12-14T17:20:00.000Z"},
		{"2026-12-14T13:07:00Z", "2026-12-14T13:08:00Z", "2026-12-14T13:07:00.000Z", "2026-12-14T13:08:00.000Z"},
		{"2026-12-14T09:15:00Z", "2026-12-14T13:00:00.001Z", "2026-12-14T13:00:00.000Z", "2026-12-14T13:00:00.001Z"},
	} {
		r := s.do(t, "GET", "/technicians/tom/assignments?from="+c.from+"&to="+c.to, dana, "")
		b, _ := r.body["bookings"].([]any)
		if r.status != http.StatusOK || len(b) != 1 || b[0].(map[string]any)["jobId"] != late ||
			b[0].(map[string]any)["start"] != c.start || b[0].(map[string]any)["end"] != c.end {
			t.Errorf("tom's schedule from %s to %s: %d %s, want late from %s to %s", c.from, c.to, r.status, r.raw, c.start, c.end)
		}
	}
}

// TestTheDispatchersBoard (issue 25, part 6): GET /jobs on moto lists every job by its time
// on the board, each as GET /jobs/{id} shows it after whatever writes it went through
// (create, assign, reassign, reschedule, confirm, start, complete, cancel), filtered by
// status and span, page by page; for dispatchers and admins only.
func TestTheDispatchersBoard(t *testing.T) {
	s := newStack(t)
	dana, root, tom, tess := s.token(t, "dana", "Dispatcher"), s.token(t, "root", "Admin"), s.token(t, "tom", "Technician"), s.token(t, "tess", "Technician")
	ok := func(r response, what string) response {
		t.Helper()
		if r.status != http.StatusOK && r.status != http.StatusCreated {
			t.Fatalf("%s: %d %s", what, r.status, r.raw)
		}
		return r
	}
	at := func(day, hm string) string { return "2027-03-" + day + "T" + hm + ":00Z" }
	create := func(title, requested string) string {
		body := fmt.Sprintf(`{"title":%q,"customerId":"c","address":"a"}`, title)
		if requested != "" {
			body = fmt.Sprintf(`{"title":%q,"customerId":"c","address":"a","requestedWindow":{"start":%q,"end":%q}}`, title, requested, requested[:11]+"23:00:00Z")
		}
		return ok(s.do(t, "POST", "/jobs", dana, body), "create "+title).body["id"].(string)
	}
	book := func(id, tech, start, end string) {
		ok(s.do(t, "POST", "/jobs/"+id+"/assign", dana, fmt.Sprintf(`{"technicianId":%q,"scheduledStart":%q,"scheduledEnd":%q}`, tech, start, end)), "assign "+id)
	}
	// Board times: requested 2nd 08:00; booked 3rd 09:00 then reassigned; booked 1st then
	// rescheduled to the 4th; booked 5th and carried through; booked 6th and cancelled.
	requested := create("requested", at("02", "08:00"))
	reassigned := create("reassigned", "")
	book(reassigned, "tom", at("03", "09:00"), at("03", "10:00"))
	book(reassigned, "tess", at("03", "09:00"), at("03", "11:00"))
	if u := str(s.job(t, reassigned), "unassignedTechnicianId"); u != "tom" {
		t.Errorf("reassigned from tom to tess: unassignedTechnicianId %q, want tom", u)
	}
	moved := create("moved", at("01", "07:00"))
	book(moved, "tom", at("01", "09:00"), at("01", "10:00"))
	ok(s.do(t, "POST", "/jobs/"+moved+"/reschedule", root, fmt.Sprintf(`{"scheduledStart":%q,"scheduledEnd":%q}`, at("04", "09:00"), at("04", "10:00"))), "reschedule")
	done := create("done", "")
	book(done, "tom", at("05", "09:00"), at("05", "10:00"))
	for _, step := range []string{"confirm", "start", "complete"} {
		ok(s.do(t, "POST", "/jobs/"+done+"/"+step, tom, ""), step)
	}
	cancelled := create("cancelled", "")
	book(cancelled, "tess", at("06", "09:00"), at("06", "10:00"))
	ok(s.do(t, "POST", "/jobs/"+cancelled+"/confirm", tess, ""), "tess confirms")
	ok(s.do(t, "POST", "/jobs/"+cancelled+"/cancel", dana, `{"reason":"Customer away"}`), "cancel")

	march := "from=2027-03-01T00:00:00Z&to=2027-04-01T00:00:00Z"
	list := func(token, query string) ([]map[string]any, string) {
		t.Helper()
		r := ok(s.do(t, "GET", "/jobs?"+query, token, ""), "list "+query)
		var out []map[string]any
		for _, it := range r.body["items"].([]any) {
			out = append(out, it.(map[string]any))
		}
		next, _ := r.body["nextCursor"].(string)
		return out, next
	}
	ids := func(items []map[string]any) []string {
		var out []string
		for _, it := range items {
			out = append(out, it["id"].(string))
		}
		return out
	}
	items, next := list(dana, march)
	// moved stands at its booking (the 4th), not at its request (the 1st).
	if want := []string{requested, reassigned, moved, done, cancelled}; !slices.Equal(ids(items), want) || next != "" {
		t.Fatalf("March's board: %v (next %q), want %v", ids(items), next, want)
	}
	for _, it := range items {
		// Each as GET /jobs/{id} shows it, with the assignment the last write left.
		one := ok(s.do(t, "GET", "/jobs/"+it["id"].(string), dana, ""), "get")
		if a, b := fmt.Sprint(it), fmt.Sprint(one.body); a != b {
			t.Errorf("the board's %s:\n%s\nGET /jobs/{id}:\n%s", it["title"], a, b)
		}
	}
	if a := items[1]["assignment"].(map[string]any); a["technicianId"] != "tess" || a["scheduledEnd"] != "2027-03-03T11:00:00.000Z" {
		t.Errorf("the reassigned job's assignment: %v", a)
	}

	// One status, one span, page by page.
	if got, _ := list(dana, march+"&status=Assigned"); !slices.Equal(ids(got), []string{reassigned, moved}) {
		t.Errorf("Assigned in March: %v", ids(got))
	}
	if got, _ := list(root, "from=2027-03-03T09:00:00Z&to=2027-03-05T09:00:00Z"); !slices.Equal(ids(got), []string{reassigned, moved}) {
		t.Errorf("the 3rd 09:00 to the 5th 09:00: %v", ids(got))
	}
	var paged []string
	for q, i := march+"&limit=2", 0; ; i++ {
		got, next := list(dana, q)
		paged = append(paged, ids(got)...)
		if next == "" || i > 5 {
			break
		}
		q = march + "&limit=2&cursor=" + next
	}
	if !slices.Equal(paged, ids(items)) {
		t.Errorf("pages of two: %v, want %v", paged, ids(items))
	}
	if _, next := list(dana, march+"&limit=1"); next != "" {
		if r := s.do(t, "GET", "/jobs?status=Completed&"+march+"&limit=1&cursor="+next, dana, ""); r.status != http.StatusBadRequest {
			t.Errorf("a cursor of another listing: %d %s", r.status, r.raw)
		}
	} else {
		t.Error("a page of one has no next")
	}
	for who, tok := range map[string]string{"tom": tom, "tess": tess} {
		if r := s.do(t, "GET", "/jobs", tok, ""); r.status != http.StatusForbidden {
			t.Errorf("%s reads the board: %d", who, r.status)
		}
	}
}

// TestTheBoardReadsARareStatusInShortPages: a status filtered from many entries (moto, the
// real index) comes back in pages that may be short, each with a cursor on from the last
// entry read, until every match has been returned once, in order, and no page reads more
// than a bounded number of entries.
func TestTheBoardReadsARareStatusInShortPages(t *testing.T) {
	s := newStack(t)
	ctx := context.Background()
	t0 := time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	var want []string
	var reqs []types.WriteRequest
	flush := func() {
		if len(reqs) == 0 {
			return
		}
		if _, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: map[string][]types.WriteRequest{s.table: reqs}}); err != nil {
			t.Fatal(err)
		}
		reqs = nil
	}
	for i := range 900 {
		j := job.Job{ID: fmt.Sprintf("0b0a0d00-0000-4000-8000-%012d", i), Title: "t", Status: job.Completed, Version: 1,
			CreatedAt: t0.Add(time.Duration(i) * time.Minute), UpdatedAt: t0}
		if i%300 == 7 {
			j.Status = job.Unassigned
			want = append(want, j.ID)
		}
		reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: dynamo.JobItem(j)}})
		if len(reqs) == 25 {
			flush()
		}
	}
	flush()

	dana := s.token(t, "dana", "Dispatcher")
	q := "status=Unassigned&from=2028-01-01T00:00:00Z&to=2028-02-01T00:00:00Z&limit=2"
	var got []string
	pages, short := 0, 0
	for cursor := ""; ; pages++ {
		r := s.do(t, "GET", "/jobs?"+q+cursor, dana, "")
		if r.status != http.StatusOK || pages > 20 {
			t.Fatalf("page %d: %d %s", pages, r.status, r.raw)
		}
		items := r.body["items"].([]any)
		for _, it := range items {
			got = append(got, it.(map[string]any)["id"].(string))
		}
		next, _ := r.body["nextCursor"].(string)
		if next == "" {
			break
		}
		if len(items) < 2 {
			short++
		}
		cursor = "&cursor=" + next
	}
	if !slices.Equal(got, want) {
		t.Errorf("Unassigned, page by page: %v, want %v", got, want)
	}
	if short == 0 {
		t.Errorf("%d pages and none short: a page read every entry it needed, however many", pages)
	}
}

// TestTheDemoCalendar: the demo data's bookings hold their technicians' time, as bookings
// made through the API do: tech-12's confirmed job is on their schedule, and booking another
// job over it is a 409 naming it.
func TestTheDemoCalendar(t *testing.T) {
	s := newStack(t)
	dana, tech12 := s.token(t, "dana", "Dispatcher"), s.token(t, "tech-12", "Technician")
	demo := demodata.Jobs()[2].Job // Assigned, its booking confirmed by tech-12
	a := demo.Assignment
	q := "?from=" + lifecycle.FormatTime(a.ScheduledStart.Add(-24*time.Hour)) + "&to=" + lifecycle.FormatTime(a.ScheduledEnd.Add(24*time.Hour))
	r := s.do(t, "GET", "/technicians/me/assignments"+q, tech12, "")
	b, _ := r.body["bookings"].([]any)
	if r.status != http.StatusOK || len(b) != 1 || b[0].(map[string]any)["jobId"] != demo.ID ||
		b[0].(map[string]any)["start"] != lifecycle.FormatTime(a.ScheduledStart) || b[0].(map[string]any)["end"] != lifecycle.FormatTime(a.ScheduledEnd) {
		t.Errorf("tech-12's demo schedule: %d %s", r.status, r.raw)
	}
	id := s.do(t, "POST", "/jobs", dana, `{"title":"t","customerId":"c","address":"a"}`).body["id"].(string)
	over := fmt.Sprintf(`{"technicianId":"tech-12","scheduledStart":%q,"scheduledEnd":%q}`, lifecycle.FormatTime(a.ScheduledStart), lifecycle.FormatTime(a.ScheduledEnd))
	if r := s.do(t, "POST", "/jobs/"+id+"/assign", dana, over); r.status != http.StatusConflict || r.body["conflictingJobId"] != demo.ID {
		t.Errorf("booking tech-12 over their demo job: %d %s", r.status, r.raw)
	}
}
