// Package livetest builds the lifecycle events the live channel's tests deliver (the
// rules' in shared/live, the handlers' in shared/liveapi): an interview's transition and
// a job's cancel, each a detail as EventBridge carries it. Only tests import it.
package livetest

import (
	"encoding/json"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/event"
)

// Session and Job are the entities the events are about.
const (
	Session = "a11ce000-0000-4000-8000-000000000002"
	Job     = "0b000000-0000-4000-8000-000000000003"
)

// statuses are the statuses each interview detail-type leaves and enters.
var statuses = map[string][2]string{
	event.TypeInterviewPaused:    {"active", "paused"},
	event.TypeInterviewResumed:   {"paused", "active"},
	event.TypeInterviewCancelled: {"paused", "cancelled"},
}

// InterviewEvent is the detail of Session's transition of detail-type dt (InterviewPaused,
// InterviewResumed or InterviewCancelled) to version, owned and made by owner.
func InterviewEvent(dt, owner string, version int64) json.RawMessage {
	d := event.Interview{
		Transition: event.Transition{
			EventID: event.ID("interview", Session, version), OccurredAt: event.Time{Time: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)},
			Actor: event.Actor{Sub: owner, Roles: []string{"Candidate"}}, Version: version, PreviousStatus: statuses[dt][0], Status: statuses[dt][1],
			CorrelationID: "corr-1",
		},
		SessionID: Session, OwnerID: owner,
	}
	b, _ := json.Marshal(d)
	return b
}

// JobEvent is the detail of Job's cancel by an admin, to version, which ended tom's
// confirmed assignment.
func JobEvent(version int64) json.RawMessage {
	d := event.Job{
		Transition: event.Transition{
			EventID: event.ID("job", Job, version), OccurredAt: event.Time{Time: time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)},
			Actor: event.Actor{Sub: "adam", Roles: []string{"Admin"}}, Version: version, PreviousStatus: "Assigned", Status: "Cancelled",
			CorrelationID: "corr-2", Reason: "Customer cancelled",
		},
		JobID: Job,
		Assignment: &event.Assignment{ID: "a5500000-0000-4000-8000-000000000001", TechnicianID: "tom", PreviousStatus: "Confirmed",
			ScheduledStart: event.Time{Time: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}, ScheduledEnd: event.Time{Time: time.Date(2026, 11, 22, 11, 0, 0, 0, time.UTC)}},
	}
	b, _ := json.Marshal(d)
	return b
}
