package dynamo

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// stamps are attr's transition stamps. The domain's transition rows name the stamps they
// set by value (the domain imports no adapter), and the store writes a row's stamp under
// the name the row gives it.
var stamps = map[string]bool{
	attr.CancelledAt: true, attr.CancelledBy: true, attr.PausedAt: true, attr.ResumedAt: true,
	attr.CompletedAt: true, attr.LastInteractionAt: true, attr.AssignedAt: true,
	attr.RescheduledAt: true, attr.ConfirmedAt: true, attr.StartedAt: true,
}

// TestTransitionStampsAreAttributes holds every stamp of the transition rows to one of
// attr's, so that renaming a stamp on either side fails here rather than writing an
// attribute no reader reads.
func TestTransitionStampsAreAttributes(t *testing.T) {
	for _, tr := range interview.Transitions {
		// Every interview transition stamps its time (transitionWrite sets it).
		if !stamps[tr.StampedAt] {
			t.Errorf("interview %s: StampedAt %q is not one of attr's stamps", tr.Action, tr.StampedAt)
		}
		if tr.StampedBy != "" && !stamps[tr.StampedBy] {
			t.Errorf("interview %s: StampedBy %q is not one of attr's stamps", tr.Action, tr.StampedBy)
		}
	}
	for _, tr := range job.Transitions {
		// A job's cancel and assignment are stamped by the store itself (attr.CancelledAt and
		// attr.CancelledBy, attr.AssignedAt); every other row names its stamp, which the
		// store writes on the job and, when the row moves it, on its assignment.
		if tr.StampedAt == "" && (tr.Action == job.Cancel.Action || tr.Action == job.Assign.Action) {
			continue
		}
		if !stamps[tr.StampedAt] {
			t.Errorf("job %s: StampedAt %q is not one of attr's stamps", tr.Action, tr.StampedAt)
		}
	}
}

// TestSessionStampsRoundTrip: the session field a transition stamps (Transition.Apply, by
// the row's StampedAt and StampedBy) is the one the store stores and reads under the
// attribute the transition's write sets, so the answer of a write and a later read agree.
func TestSessionStampsRoundTrip(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 8_000_000, time.UTC)
	for _, tr := range interview.Transitions {
		old := interview.Session{ID: "s", OwnerID: "owner", Status: tr.From[0], Version: 1}
		after := tr.Apply(old, interview.Request{Request: lifecycle.Request{ID: "s", Actor: lifecycle.Actor{Sub: "owner"}}}, at)
		it := SessionItem(after)
		if got, ok := it[tr.StampedAt].(*types.AttributeValueMemberS); !ok || got.Value != lifecycle.FormatTime(at) {
			t.Errorf("interview %s: Apply stamps a field the store does not store as %s: %#v", tr.Action, tr.StampedAt, it[tr.StampedAt])
		}
		if tr.StampedBy == "" {
			continue
		}
		if got, ok := it[tr.StampedBy].(*types.AttributeValueMemberS); !ok || got.Value != "owner" {
			t.Errorf("interview %s: Apply stamps a field the store does not store as %s: %#v", tr.Action, tr.StampedBy, it[tr.StampedBy])
		}
	}
}
