package robustness

import (
	"slices"

	"github.com/lifecycle-api/lifecycle/shared/auditlog"
	"github.com/lifecycle-api/lifecycle/shared/eventbus"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/shared/resumetimer"
)

// What the run does with a function.
const (
	// byLoad: the load's clients call it over HTTP; with Bootstraps it runs as its real
	// bootstrap and is killed.
	byLoad = "the load calls it"
	// byScheduler: the scheduler fires it (timers.go); with Bootstraps, as above.
	byScheduler = "the scheduler fires it"
	// onStream: it publishes the table's stream; with Bootstraps, as above.
	onStream = "it publishes the stream"
)

// coverage says, for every function of functions/ (repo.Functions), what the reliability
// run does with it: one of the roles above, or why the run leaves it out.
// TestTheRunAccountsForEveryFunction holds it to functions/, so a function added without a
// line here fails `make test`, where it would be silently left out of `make reliability`.
var coverage = map[string]string{
	httpapi.FnPauseInterview:           byLoad,
	httpapi.FnResumeInterview:          byLoad,
	httpapi.FnCancelInterview:          byLoad,
	httpapi.FnAssignJob:                byLoad,
	job.Reschedule.Function:            byLoad,
	httpapi.FnCancelJob:                byLoad,
	interview.ScheduledResume.Function: byScheduler,
	eventbus.FnPublishEvents:           onStream,

	auditlog.FnAuditLog: "in process: the stack's audit consumer, the run's record of what was published",
	resumetimer.FnPlan:  "in process on its rule: it plans the timed pauses' schedules an hour ahead, which the harness fires itself",
	httpapi.FnCreateInterview: "left out: the run loads its entities as items; a create's retries are held by TestCreateInterviewIsSafeToRetry " +
		"and TestCreateInterviewThroughTheAPI (ten concurrent retries, one session)",
	httpapi.FnCreateJob:         "left out: as create-interview (TestCreateJob, TestCreateJobThroughTheAPI)",
	interview.Complete.Function: "not yet in the mix: a terminal transition guarded as cancel is (TestCompleteInterviewThroughTheAPI)",
	interview.Record.Function:   "not yet in the mix: the conversation service's answers race pauses in TestRecordInteractionsThroughTheAPI",
	job.Confirm.Function:        "not yet in the mix: the technician's steps (TestTheJobLifecycleThroughTheAPI)",
	job.Start.Function:          "not yet in the mix: the technician's steps (TestTheJobLifecycleThroughTheAPI)",
	job.Complete.Function:       "not yet in the mix: the technician's steps (TestTheJobLifecycleThroughTheAPI)",
	httpapi.FnGetInterview:      "a read: the run reads the table itself at the end",
	httpapi.FnListInterviews:    "a read: the run reads the table itself at the end",
	httpapi.FnGetJob:            "a read: the run reads the table itself at the end",
	httpapi.FnListJobs:          "a read: the run reads the table itself at the end",
	httpapi.FnGetSchedule:       "a read: the run reads the calendars itself at the end",
	httpapi.FnLiveTicket:        "the live channel: TestLiveEndToEnd, make bench ONLY=live",
	live.FnConnect:              "the live channel: TestLiveEndToEnd, make bench ONLY=live",
	live.FnDisconnect:           "the live channel: TestLiveEndToEnd, make bench ONLY=live",
	live.FnDefault:              "the live channel: TestLiveEndToEnd, make bench ONLY=live",
	live.FnNotify:               "the live channel: TestLiveEndToEnd, make bench ONLY=live",
}

// functionsFor are the functions the run gives role, sorted.
func functionsFor(role string) []string {
	var out []string
	for fn, r := range coverage {
		if r == role {
			out = append(out, fn)
		}
	}
	slices.Sort(out)
	return out
}
