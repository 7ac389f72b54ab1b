package dynamo

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// jobT0 is a UTC, millisecond-aligned instant, so it survives the stored format exactly.
var jobT0 = time.Date(2024, 3, 5, 9, 30, 15, 250_000_000, time.UTC)

func fullJobAssignment() job.Assignment {
	return job.Assignment{
		ID:             "a-full",
		JobID:          "j-full",
		TechnicianID:   "tech-7",
		ScheduledStart: jobT0.Add(24 * time.Hour),
		ScheduledEnd:   jobT0.Add(26 * time.Hour),
		Status:         job.AssignmentCancelled,
		Version:        5,
		CreatedAt:      jobT0,
		UpdatedAt:      jobT0.Add(time.Hour),
		CancelledAt:    jobT0.Add(time.Hour),
		CancelledBy:    "dana",
		CancelReason:   "customer rescheduled",
	}
}

func minimalJobAssignment() job.Assignment {
	return job.Assignment{ID: "a-min", JobID: "j-min", Status: job.Pending}
}

func fullJob() job.Job {
	a := fullJobAssignment()
	return job.Job{
		ID:             "j-full",
		Title:          "Replace boiler",
		CustomerID:     "cust-1",
		Address:        "1 Main St, Springfield",
		Status:         job.Cancelled,
		PreviousStatus: job.Assigned,
		Version:        9,
		CreatedAt:      jobT0,
		UpdatedAt:      jobT0.Add(time.Hour),
		CancelledAt:    jobT0.Add(time.Hour),
		CancelledBy:    "dana",
		CancelReason:   "customer rescheduled",
		Assignment:     &a,
	}
}

func minimalJob() job.Job {
	return job.Job{ID: "j-min", Title: "t", Status: job.Unassigned}
}

// callNoPanic runs f and fails the test if it panics.
func callNoPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s panicked: %v", what, r)
		}
	}()
	f()
}

func TestJobItemRoundTrip(t *testing.T) {
	tests := []struct {
		name        string
		j           job.Job
		wantAbsent  []string
		wantPresent []string
	}{
		{
			name: "full",
			j:    fullJob(),
			wantPresent: []string{
				"pk", "sk", "type", "id", "title", "customerId", "address", "status", "previousStatus",
				"version", "createdAt", "updatedAt", "cancelledAt", "cancelledBy", "cancelReason", "assignmentId",
			},
		},
		{
			name: "minimal",
			j:    minimalJob(),
			wantAbsent: []string{
				"customerId", "address", "previousStatus", "createdAt", "updatedAt", "cancelledAt",
				"cancelledBy", "cancelReason", "assignmentId",
			},
			wantPresent: []string{"pk", "sk", "type", "id", "status", "version"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := JobItem(tt.j)
			for _, k := range tt.wantPresent {
				if _, ok := m[k]; !ok {
					t.Errorf("item lacks %q", k)
				}
			}
			for _, k := range tt.wantAbsent {
				if v, ok := m[k]; ok {
					t.Errorf("item has %q = %#v, want it absent", k, v)
				}
			}
			if got, want := nVal(t, m["version"]), strconv.FormatInt(tt.j.Version, 10); got != want {
				t.Errorf("version = %q, want %q", got, want)
			}

			got, err := JobFromItem(m)
			if err != nil {
				t.Fatalf("JobFromItem: %v", err)
			}
			want := tt.j
			want.Assignment = nil // JobFromItem decodes the job without its assignment
			if !reflect.DeepEqual(got, want) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestJobItemStoredTimeFormat(t *testing.T) {
	j := fullJob()
	m := JobItem(j)
	if got := sVal(t, m["createdAt"]); got != "2024-03-05T09:30:15.250Z" {
		t.Errorf("createdAt = %q", got)
	}
	if got := sVal(t, m["updatedAt"]); got != "2024-03-05T10:30:15.250Z" {
		t.Errorf("updatedAt = %q", got)
	}
	// A non-UTC, sub-millisecond time is stored as the UTC millisecond and decoded as that
	// instant.
	j = minimalJob()
	j.CreatedAt = time.Date(2024, 3, 5, 10, 30, 15, 250_999_999, time.FixedZone("CET", 3600))
	m = JobItem(j)
	if got := sVal(t, m["createdAt"]); got != "2024-03-05T09:30:15.250Z" {
		t.Errorf("createdAt = %q, want 2024-03-05T09:30:15.250Z", got)
	}
	got, err := JobFromItem(m)
	if err != nil {
		t.Fatal(err)
	}
	if !got.CreatedAt.Equal(jobT0) {
		t.Errorf("CreatedAt = %v, want %v", got.CreatedAt, jobT0)
	}
}

func TestJobItemKeys(t *testing.T) {
	pending := job.Assignment{ID: "a-1", JobID: "j-1", Status: job.Pending}
	cancelled := job.Assignment{ID: "a-0", JobID: "j-1", Status: job.AssignmentCancelled}
	tests := []struct {
		name             string
		assignment       *job.Assignment
		wantAssignmentID string // "" means absent
	}{
		{"no assignment", nil, ""},
		{"pending assignment", &pending, "a-1"},
		{"cancelled assignment is still named", &cancelled, "a-0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := JobItem(job.Job{ID: "j-1", Title: "x", Status: job.Assigned, Version: 2, Assignment: tt.assignment})
			if got := sVal(t, m["pk"]); got != "JOB#j-1" {
				t.Errorf("pk = %q, want JOB#j-1", got)
			}
			if got := sVal(t, m["sk"]); got != "JOB" {
				t.Errorf("sk = %q, want JOB", got)
			}
			if got := sVal(t, m["type"]); got != "job" {
				t.Errorf("type = %q, want job", got)
			}
			if got := sVal(t, m["id"]); got != "j-1" {
				t.Errorf("id = %q, want j-1", got)
			}
			if got := sVal(t, m["status"]); got != "Assigned" {
				t.Errorf("status = %q, want Assigned", got)
			}
			v, ok := m["assignmentId"]
			switch {
			case tt.wantAssignmentID == "" && ok:
				t.Errorf("assignmentId = %#v, want absent", v)
			case tt.wantAssignmentID != "" && !ok:
				t.Errorf("assignmentId absent, want %q", tt.wantAssignmentID)
			case tt.wantAssignmentID != "":
				if got := sVal(t, v); got != tt.wantAssignmentID {
					t.Errorf("assignmentId = %q, want %q", got, tt.wantAssignmentID)
				}
			}
		})
	}
}

func TestAssignmentItemRoundTrip(t *testing.T) {
	tests := []struct {
		name        string
		a           job.Assignment
		wantAbsent  []string
		wantPresent []string
	}{
		{
			name: "full",
			a:    fullJobAssignment(),
			wantPresent: []string{
				"pk", "sk", "type", "id", "jobId", "technicianId", "scheduledStart", "scheduledEnd", "status",
				"version", "createdAt", "updatedAt", "cancelledAt", "cancelledBy", "cancelReason",
			},
		},
		{
			name: "minimal",
			a:    minimalJobAssignment(),
			wantAbsent: []string{
				"technicianId", "scheduledStart", "scheduledEnd", "createdAt", "updatedAt", "cancelledAt",
				"cancelledBy", "cancelReason",
			},
			wantPresent: []string{"pk", "sk", "type", "id", "jobId", "status", "version"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := AssignmentItem(tt.a)
			for _, k := range tt.wantPresent {
				if _, ok := m[k]; !ok {
					t.Errorf("item lacks %q", k)
				}
			}
			for _, k := range tt.wantAbsent {
				if v, ok := m[k]; ok {
					t.Errorf("item has %q = %#v, want it absent", k, v)
				}
			}
			got, err := AssignmentFromItem(m)
			if err != nil {
				t.Fatalf("AssignmentFromItem: %v", err)
			}
			if !reflect.DeepEqual(got, tt.a) {
				t.Errorf("round trip:\n got %+v\nwant %+v", got, tt.a)
			}
		})
	}
}

func TestAssignmentItemKeys(t *testing.T) {
	m := AssignmentItem(job.Assignment{ID: "a-3", JobID: "j-9", Status: job.Confirmed, Version: 1})
	for k, want := range map[string]string{
		"pk": "JOB#j-9", "sk": "ASSIGNMENT#a-3", "type": "assignment", "id": "a-3", "jobId": "j-9", "status": "Confirmed",
	} {
		if got := sVal(t, m[k]); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if got := nVal(t, m["version"]); got != "1" {
		t.Errorf("version = %q, want 1", got)
	}
	// The assignment's key is in its job's partition.
	if !reflect.DeepEqual(m["pk"], JobItem(job.Job{ID: "j-9", Status: job.Assigned})["pk"]) {
		t.Errorf("assignment pk %#v is not its job's pk", m["pk"])
	}
}

func TestJobFromItemErrors(t *testing.T) {
	mut := func(f func(m map[string]types.AttributeValue)) map[string]types.AttributeValue {
		m := JobItem(fullJob())
		f(m)
		return m
	}
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	tests := []struct {
		name    string
		item    map[string]types.AttributeValue
		mention string // attribute the error should name ("" to skip)
	}{
		{"id as N", mut(func(m map[string]types.AttributeValue) { m["id"] = n("1") }), "id"},
		{"title as N", mut(func(m map[string]types.AttributeValue) { m["title"] = n("1") }), "title"},
		{"customerId as BOOL", mut(func(m map[string]types.AttributeValue) {
			m["customerId"] = &types.AttributeValueMemberBOOL{Value: true}
		}), "customerId"},
		{"address as M", mut(func(m map[string]types.AttributeValue) {
			m["address"] = &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}
		}), "address"},
		{"status as N", mut(func(m map[string]types.AttributeValue) { m["status"] = n("3") }), "status"},
		{"previousStatus as N", mut(func(m map[string]types.AttributeValue) { m["previousStatus"] = n("3") }), "previousStatus"},
		{"version as S", mut(func(m map[string]types.AttributeValue) { m["version"] = sAV("9") }), "version"},
		{"version 1.5", mut(func(m map[string]types.AttributeValue) { m["version"] = n("1.5") }), "version"},
		{"createdAt not a timestamp", mut(func(m map[string]types.AttributeValue) { m["createdAt"] = sAV("yesterday") }), "createdAt"},
		{"updatedAt as N", mut(func(m map[string]types.AttributeValue) { m["updatedAt"] = n("1700000000") }), "updatedAt"},
		{"cancelledAt bad month", mut(func(m map[string]types.AttributeValue) { m["cancelledAt"] = sAV("2024-13-01T00:00:00.000Z") }), "cancelledAt"},
		{"cancelledBy as L", mut(func(m map[string]types.AttributeValue) { m["cancelledBy"] = &types.AttributeValueMemberL{} }), "cancelledBy"},
		{"cancelReason as N", mut(func(m map[string]types.AttributeValue) { m["cancelReason"] = n("0") }), "cancelReason"},
		{"id missing", mut(func(m map[string]types.AttributeValue) { delete(m, "id") }), ""},
		{"id empty", mut(func(m map[string]types.AttributeValue) { m["id"] = sAV("") }), ""},
		{"status missing", mut(func(m map[string]types.AttributeValue) { delete(m, "status") }), ""},
		{"status empty", mut(func(m map[string]types.AttributeValue) { m["status"] = sAV("") }), ""},
		{"keys only", map[string]types.AttributeValue{"pk": sAV("JOB#x"), "sk": sAV("JOB")}, ""},
		{"empty item", map[string]types.AttributeValue{}, ""},
		{"nil item", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				got job.Job
				err error
			)
			callNoPanic(t, "JobFromItem", func() { got, err = JobFromItem(tt.item) })
			if err == nil {
				t.Fatalf("JobFromItem succeeded: %+v", got)
			}
			if !reflect.DeepEqual(got, job.Job{}) {
				t.Errorf("job on error = %+v, want zero", got)
			}
			if tt.mention != "" && !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not name %q", err, tt.mention)
			}
		})
	}
}

func TestAssignmentFromItemErrors(t *testing.T) {
	mut := func(f func(m map[string]types.AttributeValue)) map[string]types.AttributeValue {
		m := AssignmentItem(fullJobAssignment())
		f(m)
		return m
	}
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	tests := []struct {
		name    string
		item    map[string]types.AttributeValue
		mention string
	}{
		{"id as N", mut(func(m map[string]types.AttributeValue) { m["id"] = n("1") }), "id"},
		{"jobId as N", mut(func(m map[string]types.AttributeValue) { m["jobId"] = n("1") }), "jobId"},
		{"technicianId as BOOL", mut(func(m map[string]types.AttributeValue) {
			m["technicianId"] = &types.AttributeValueMemberBOOL{}
		}), "technicianId"},
		{"scheduledStart not a timestamp", mut(func(m map[string]types.AttributeValue) { m["scheduledStart"] = sAV("tomorrow") }), "scheduledStart"},
		{"scheduledEnd as N", mut(func(m map[string]types.AttributeValue) { m["scheduledEnd"] = n("1700000000") }), "scheduledEnd"},
		{"status as N", mut(func(m map[string]types.AttributeValue) { m["status"] = n("1") }), "status"},
		{"version as S", mut(func(m map[string]types.AttributeValue) { m["version"] = sAV("5") }), "version"},
		{"version not an integer", mut(func(m map[string]types.AttributeValue) { m["version"] = n("5.5") }), "version"},
		{"createdAt as N", mut(func(m map[string]types.AttributeValue) { m["createdAt"] = n("0") }), "createdAt"},
		{"updatedAt garbage", mut(func(m map[string]types.AttributeValue) { m["updatedAt"] = sAV("x") }), "updatedAt"},
		{"cancelledAt as M", mut(func(m map[string]types.AttributeValue) { m["cancelledAt"] = &types.AttributeValueMemberM{} }), "cancelledAt"},
		{"cancelledBy as N", mut(func(m map[string]types.AttributeValue) { m["cancelledBy"] = n("1") }), "cancelledBy"},
		{"cancelReason as N", mut(func(m map[string]types.AttributeValue) { m["cancelReason"] = n("1") }), "cancelReason"},
		{"id missing", mut(func(m map[string]types.AttributeValue) { delete(m, "id") }), ""},
		{"jobId missing", mut(func(m map[string]types.AttributeValue) { delete(m, "jobId") }), ""},
		{"jobId empty", mut(func(m map[string]types.AttributeValue) { m["jobId"] = sAV("") }), ""},
		{"status missing", mut(func(m map[string]types.AttributeValue) { delete(m, "status") }), ""},
		{"empty item", map[string]types.AttributeValue{}, ""},
		{"nil item", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var (
				got job.Assignment
				err error
			)
			callNoPanic(t, "AssignmentFromItem", func() { got, err = AssignmentFromItem(tt.item) })
			if err == nil {
				t.Fatalf("AssignmentFromItem succeeded: %+v", got)
			}
			if !reflect.DeepEqual(got, job.Assignment{}) {
				t.Errorf("assignment on error = %+v, want zero", got)
			}
			if tt.mention != "" && !strings.Contains(err.Error(), tt.mention) {
				t.Errorf("error %q does not name %q", err, tt.mention)
			}
		})
	}
}

// --- The cancel writes -------------------------------------------------------------------

// jobsFixedNow is a non-UTC, millisecond-aligned clock reading.
var jobsFixedNow = time.Date(2024, 3, 5, 11, 0, 0, 120_000_000, time.FixedZone("CET", 3600))

const jobsWantNow = "2024-03-05T10:00:00.120Z"

func newTestJobs() *Jobs {
	return NewJobs(nil, "tbl", func() time.Time { return jobsFixedNow }, func() string { return "tok" })
}

// updateAsInput views a transaction's Update as an UpdateItemInput, so resolveInput
// (expr_test.go) can resolve its placeholders.
func updateAsInput(u *types.Update) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName:                           u.TableName,
		Key:                                 u.Key,
		UpdateExpression:                    u.UpdateExpression,
		ConditionExpression:                 u.ConditionExpression,
		ExpressionAttributeNames:            u.ExpressionAttributeNames,
		ExpressionAttributeValues:           u.ExpressionAttributeValues,
		ReturnValuesOnConditionCheckFailure: u.ReturnValuesOnConditionCheckFailure,
	}
}

type cancelWriteWant struct {
	version int64 // the version read, guarded by the condition
	from    []string
	reason  string // "" means cancelReason must be absent
	corr    string // "" means correlationId must be absent
	actor   lifecycle.Actor
	extra   map[string]bool // further attributes the update may set
}

// checkCancelWrite asserts the semantics every cancel write shares.
func checkCancelWrite(t *testing.T, u *types.Update, w cancelWriteWant) resolved {
	t.Helper()
	if u == nil {
		t.Fatal("update is nil")
	}
	if aws.ToString(u.TableName) != "tbl" {
		t.Errorf("TableName = %q, want tbl", aws.ToString(u.TableName))
	}
	if u.ReturnValuesOnConditionCheckFailure != types.ReturnValuesOnConditionCheckFailureAllOld {
		t.Errorf("ReturnValuesOnConditionCheckFailure = %q, want ALL_OLD", u.ReturnValuesOnConditionCheckFailure)
	}
	r := resolveInput(t, updateAsInput(u))

	// Condition: version = <read> AND status IN exactly the rule's sources.
	if r.clauses != 2 {
		t.Errorf("condition %q has %d clauses, want 2", aws.ToString(u.ConditionExpression), r.clauses)
	}
	v, ok := r.equals["version"]
	if !ok || v.val == nil {
		t.Fatalf("condition does not compare version to a value: %q", aws.ToString(u.ConditionExpression))
	}
	if got, want := nVal(t, v.val), strconv.FormatInt(w.version, 10); got != want {
		t.Errorf("condition version = %s, want %s", got, want)
	}
	if len(r.equals) != 1 {
		t.Errorf("condition equalities = %+v, want version only", r.equals)
	}
	from, ok := r.in["status"]
	if !ok {
		t.Fatalf("condition has no status IN: %q", aws.ToString(u.ConditionExpression))
	}
	if got, want := slices.Sorted(slices.Values(from)), slices.Sorted(slices.Values(w.from)); !slices.Equal(got, want) {
		t.Errorf("condition status IN %q, want exactly %q", from, w.from)
	}

	// Update.
	if got := r.setString(t, "status"); got != "Cancelled" {
		t.Errorf("status = %q, want Cancelled", got)
	}
	if ops := r.sets["previousStatus"]; len(ops) != 1 || ops[0].name != "status" {
		t.Errorf("previousStatus = %+v, want the old status attribute", ops)
	}
	if ops := r.sets["version"]; len(ops) != 2 || ops[0].name != "version" || ops[1].val == nil || nVal(t, ops[1].val) != "1" {
		t.Errorf("version = %+v, want version + 1", ops)
	}
	if got := r.setString(t, "updatedAt"); got != jobsWantNow {
		t.Errorf("updatedAt = %q, want %q", got, jobsWantNow)
	}
	if got := r.setString(t, "cancelledAt"); got != jobsWantNow {
		t.Errorf("cancelledAt = %q, want %q", got, jobsWantNow)
	}
	if got := r.setString(t, "cancelledBy"); got != w.actor.Sub {
		t.Errorf("cancelledBy = %q, want %q", got, w.actor.Sub)
	}
	if got := r.setString(t, "lastAction"); got != "cancel" {
		t.Errorf("lastAction = %q, want cancel", got)
	}
	if w.reason != "" {
		if got := r.setString(t, "cancelReason"); got != w.reason {
			t.Errorf("cancelReason = %q, want %q", got, w.reason)
		}
	} else if ops, ok := r.sets["cancelReason"]; ok {
		t.Errorf("cancelReason set to %+v without a reason", ops)
	}
	if w.corr != "" {
		if got := r.setString(t, "correlationId"); got != w.corr {
			t.Errorf("correlationId = %q, want %q", got, w.corr)
		}
	} else if ops, ok := r.sets["correlationId"]; ok {
		t.Errorf("correlationId set to %+v without one being given", ops)
	}
	if ops := r.sets["actor"]; len(ops) != 1 {
		t.Errorf("actor not set to a single value: %+v", ops)
	} else if m, ok := ops[0].val.(*types.AttributeValueMemberM); !ok {
		t.Errorf("actor = %#v, want a map", ops[0].val)
	} else {
		if got := sVal(t, m.Value["sub"]); got != w.actor.Sub {
			t.Errorf("actor.sub = %q, want %q", got, w.actor.Sub)
		}
		l, ok := m.Value["roles"].(*types.AttributeValueMemberL)
		if !ok {
			t.Fatalf("actor.roles = %#v, want a list", m.Value["roles"])
		}
		var roles []string
		for _, e := range l.Value {
			roles = append(roles, sVal(t, e))
		}
		if len(roles) != len(w.actor.Roles) || !slices.Equal(roles, w.actor.Roles) {
			t.Errorf("actor.roles = %q, want %q", roles, w.actor.Roles)
		}
	}

	allowed := map[string]bool{
		"previousStatus": true, "status": true, "version": true, "updatedAt": true, "cancelledAt": true,
		"cancelledBy": true, "lastAction": true, "actor": true,
		"cancelReason": w.reason != "", "correlationId": w.corr != "",
	}
	maps.Copy(allowed, w.extra)
	for a := range r.sets {
		if !allowed[a] {
			t.Errorf("unexpected attribute %q in the update", a)
		}
	}
	return r
}

func checkKey(t *testing.T, key map[string]types.AttributeValue, pk, sk string) {
	t.Helper()
	if len(key) != 2 {
		t.Errorf("Key = %v, want pk and sk only", key)
	}
	if got := sVal(t, key["pk"]); got != pk {
		t.Errorf("pk = %q, want %q", got, pk)
	}
	if got := sVal(t, key["sk"]); got != sk {
		t.Errorf("sk = %q, want %q", got, sk)
	}
}

func TestCancelJobUpdate(t *testing.T) {
	s := newTestJobs()
	actor := lifecycle.Actor{Sub: "dana", Roles: []string{"Dispatcher", "Admin"}}
	assignment := func(st job.AssignmentStatus) *job.Assignment {
		return &job.Assignment{
			ID: "a-1", JobID: "j-1", TechnicianID: "tech-7",
			ScheduledStart: jobT0, ScheduledEnd: jobT0.Add(2 * time.Hour),
			Status: st, Version: 3,
		}
	}
	tests := []struct {
		name       string
		status     job.Status
		version    int64
		assignment *job.Assignment
		req        job.Request
		wantSnap   bool
	}{
		{
			name: "unassigned, no assignment, with reason and correlation", status: job.Unassigned, version: 1,
			req: job.Request{Request: lifecycle.Request{ID: "j-1", Actor: actor, Reason: "not needed", CorrelationID: "corr-1"}},
		},
		{
			name: "unassigned, no assignment, bare", status: job.Unassigned, version: 0,
			req: job.Request{Request: lifecycle.Request{ID: "j-1", Actor: lifecycle.Actor{Sub: "adam", Roles: []string{"Admin"}}}},
		},
		{
			name: "assigned, pending assignment", status: job.Assigned, version: 2, assignment: assignment(job.Pending),
			req: job.Request{Request: lifecycle.Request{ID: "j-1", Actor: actor, Reason: "customer rescheduled", CorrelationID: "corr-2"}}, wantSnap: true,
		},
		{
			name: "in progress, confirmed assignment, no reason", status: job.InProgress, version: 12, assignment: assignment(job.Confirmed),
			req: job.Request{Request: lifecycle.Request{ID: "j-1", Actor: actor}}, wantSnap: true,
		},
		{
			name: "unassigned, earlier assignment already cancelled", status: job.Unassigned, version: 4, assignment: assignment(job.AssignmentCancelled),
			req: job.Request{Request: lifecycle.Request{ID: "j-1", Actor: actor, Reason: "r"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := job.Job{ID: "j-1", Title: "t", Status: tt.status, Version: tt.version, Assignment: tt.assignment}
			u := s.cancelJobUpdate(j, j.Cancelled(jobsFixedNow, tt.req.Actor.Sub, tt.req.Reason), tt.req, jobsFixedNow)
			checkKey(t, u.Key, "JOB#j-1", "JOB")
			r := checkCancelWrite(t, u, cancelWriteWant{
				version: tt.version,
				from:    []string{"Unassigned", "Assigned", "InProgress"},
				reason:  tt.req.Reason, corr: tt.req.CorrelationID, actor: tt.req.Actor,
				extra: map[string]bool{"cancelledAssignment": tt.wantSnap, "board": true, "boardAt": true, "boardAssignment": tt.wantSnap},
			})

			ops, ok := r.sets["cancelledAssignment"]
			if !tt.wantSnap {
				if ok {
					t.Errorf("cancelledAssignment = %+v, want absent", ops)
				}
				return
			}
			if !ok || len(ops) != 1 {
				t.Fatalf("cancelledAssignment = %+v, want a single value", ops)
			}
			snap, ok := ops[0].val.(*types.AttributeValueMemberM)
			if !ok {
				t.Fatalf("cancelledAssignment = %#v, want a map", ops[0].val)
			}
			want := map[string]string{
				"id":             "a-1",
				"technicianId":   "tech-7",
				"scheduledStart": "2024-03-05T09:30:15.250Z",
				"scheduledEnd":   "2024-03-05T11:30:15.250Z",
				"status":         string(tt.assignment.Status), // the status it had when cancelled
			}
			// Besides the strings, the version the cancel gives the assignment (read + 1), so a
			// replayed response can show it.
			if v, ok := snap.Value["version"].(*types.AttributeValueMemberN); !ok || v.Value != strconv.FormatInt(tt.assignment.Version+1, 10) {
				t.Errorf("cancelledAssignment.version = %#v, want %d", snap.Value["version"], tt.assignment.Version+1)
			}
			if len(snap.Value) != len(want)+1 {
				t.Errorf("cancelledAssignment has %d attributes %v, want %d", len(snap.Value), slices.Sorted(maps.Keys(snap.Value)), len(want)+1)
			}
			for k, v := range want {
				av, ok := snap.Value[k]
				if !ok {
					t.Errorf("cancelledAssignment lacks %q", k)
					continue
				}
				if got := sVal(t, av); got != v {
					t.Errorf("cancelledAssignment.%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestCancelAssignmentUpdate(t *testing.T) {
	s := newTestJobs()
	actor := lifecycle.Actor{Sub: "dana", Roles: []string{"Dispatcher"}}
	tests := []struct {
		name string
		a    job.Assignment
		req  job.Request
	}{
		{
			name: "pending, with reason and correlation",
			a:    job.Assignment{ID: "a-1", JobID: "j-1", TechnicianID: "tech-7", Status: job.Pending, Version: 1},
			req:  job.Request{Request: lifecycle.Request{ID: "j-1", Actor: actor, Reason: "customer rescheduled", CorrelationID: "corr-1"}},
		},
		{
			name: "confirmed, bare",
			a:    job.Assignment{ID: "a-2", JobID: "j-2", Status: job.Confirmed, Version: 41},
			req:  job.Request{Request: lifecycle.Request{ID: "j-2", Actor: lifecycle.Actor{Sub: "adam"}}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := s.cancelAssignmentUpdate(tt.a, tt.req, jobsFixedNow)
			checkKey(t, u.Key, "JOB#"+tt.a.JobID, "ASSIGNMENT#"+tt.a.ID)
			r := checkCancelWrite(t, u, cancelWriteWant{
				version: tt.a.Version,
				from:    []string{"Pending", "Confirmed"},
				reason:  tt.req.Reason, corr: tt.req.CorrelationID, actor: tt.req.Actor,
			})
			if _, ok := r.sets["cancelledAssignment"]; ok {
				t.Error("assignment update sets cancelledAssignment")
			}
		})
	}
}

// The conditions follow the domain rules, not a copy of them.
func TestCancelUpdatesFollowRules(t *testing.T) {
	s := newTestJobs()
	req := job.Request{Request: lifecycle.Request{ID: "j-1", Actor: lifecycle.Actor{Sub: "u"}}}
	r := resolveInput(t, updateAsInput(s.cancelJobUpdate(job.Job{ID: "j-1", Status: job.Assigned}, job.Job{ID: "j-1", Status: job.Cancelled}, req, jobsFixedNow)))
	for _, st := range job.Statuses {
		if slices.Contains(r.in["status"], string(st)) != job.Cancel.Allows(st) {
			t.Errorf("job condition and job.Cancel disagree about %q", st)
		}
	}
	r = resolveInput(t, updateAsInput(s.cancelAssignmentUpdate(job.Assignment{ID: "a", JobID: "j-1", Status: job.Pending}, req, jobsFixedNow)))
	for _, st := range job.AssignmentStatuses {
		if slices.Contains(r.in["status"], string(st)) != job.CancelAssignment.Allows(st) {
			t.Errorf("assignment condition and job.CancelAssignment disagree about %q", st)
		}
	}
}

// TestABookingConflictIsDecidedOnTheJobAsItIs: a cancelled booking names the job holding the
// time only when every other guard held; when the job (or the request's record) failed too,
// the job moved on or the request had applied, so it is a race to decide afresh, not a
// conflict (the reliability run found the store telling an applied booking "busy").
func TestABookingConflictIsDecidedOnTheJobAsItIs(t *testing.T) {
	at := time.Date(2026, 12, 9, 9, 0, 0, 0, time.UTC)
	slots := map[int]slotRef{2: {"tom", at}}
	held := map[string]types.AttributeValue{attr.PK: sAV("TECH#tom"), "jobId": sAV("other-job"), "assignmentId": sAV("a-9")}
	reason := func(code string, item map[string]types.AttributeValue) types.CancellationReason {
		return types.CancellationReason{Code: aws.String(code), Item: item}
	}
	onlySlot := &types.TransactionCanceledException{CancellationReasons: []types.CancellationReason{
		reason("None", nil), reason("None", nil), reason("ConditionalCheckFailed", held), reason("None", nil)}}
	var conflict *job.BookingConflictError
	if err := bookingConflict(onlySlot, slots, "this-job", "tom"); !errors.As(err, &conflict) || conflict.JobID != "other-job" {
		t.Errorf("only the slot failed: %v, want a conflict naming other-job", err)
	}
	for name, r := range map[string]types.CancellationReason{
		"the job changed":         reason("ConditionalCheckFailed", map[string]types.AttributeValue{attr.Version: iAV(9)}),
		"the request had applied": reason("ConditionalCheckFailed", map[string]types.AttributeValue{attr.PK: sAV("JOB#this-job")}),
		"another transaction":     reason("TransactionConflict", nil),
	} {
		reasons := slices.Clone(onlySlot.CancellationReasons)
		if name == "the request had applied" {
			reasons[3] = r
		} else {
			reasons[0] = r
		}
		if err := bookingConflict(&types.TransactionCanceledException{CancellationReasons: reasons}, slots, "this-job", "tom"); err != nil {
			t.Errorf("%s, and the slot held: %v, want a race (nil)", name, err)
		}
	}
}
