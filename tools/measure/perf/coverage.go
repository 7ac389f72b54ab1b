package perf

import (
	"fmt"
	"slices"
	"strings"

	"github.com/lifecycle-api/lifecycle/shared/auditlog"
	"github.com/lifecycle-api/lifecycle/shared/eventbus"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/live"
	"github.com/lifecycle-api/lifecycle/shared/resumetimer"
)

// measured: `make bench ONLY=units` measures the function's capacity units per call.
const measured = "measured"

// unitsCoverage says, for every function of functions/ (repo.Functions), whether make
// bench measures its capacity units per call, or why not. Every function's cold start,
// size and memory are measured whatever it says (measureStarts takes functions/ itself).
// TestBenchAccountsForEveryFunction holds it to functions/, and measureUnits to the rows
// it measured, so a function added without a line here fails `make test`, where it would be
// silently left out of `make bench`.
var unitsCoverage = map[string]string{
	httpapi.FnGetInterview:      measured,
	httpapi.FnListInterviews:    measured,
	httpapi.FnPauseInterview:    measured,
	httpapi.FnResumeInterview:   measured,
	httpapi.FnCancelInterview:   measured,
	httpapi.FnGetJob:            measured,
	httpapi.FnListJobs:          measured,
	httpapi.FnCreateJob:         measured,
	httpapi.FnAssignJob:         measured,
	job.Reschedule.Function:     measured,
	job.Confirm.Function:        measured,
	job.Start.Function:          measured,
	job.Complete.Function:       measured,
	httpapi.FnCancelJob:         measured,
	httpapi.FnGetSchedule:       measured,
	httpapi.FnCreateInterview:   "not yet: a put of the session and its request record, priced in docs/cost.md",
	interview.Complete.Function: "not yet: the same write as cancel-interview (a transition with a stamp), priced by its row",
	interview.Record.Function:   "not yet: a transition that appends to the conversation; TestItemStaysBounded holds its item's size",
	interview.ScheduledResume.Function: "not yet: the same write as resume-interview, made by the scheduler " +
		"(a stale timer reads and writes nothing)",
	eventbus.FnPublishEvents: "not a route: it reads the stream (no table units) and puts events",
	auditlog.FnAuditLog:      "not a route: one conditional put per event, in the audit table",
	resumetimer.FnPlan:       "not a route: it writes no table, it creates a schedule",
	httpapi.FnLiveTicket:     "the live channel's units are measured by make bench ONLY=live",
	live.FnConnect:           "the live channel's units are measured by make bench ONLY=live",
	live.FnDisconnect:        "the live channel's units are measured by make bench ONLY=live",
	live.FnDefault:           "the live channel: it reads and writes no table",
	live.FnNotify:            "the live channel's units are measured by make bench ONLY=live",
}

// checkUnitsCoverage reports a measured function without a row, or a row of a function
// unitsCoverage does not say is measured. A row's route is its function's name, then a
// variant ("list-jobs ?status", "assign-job (reassign)").
func checkUnitsCoverage(rows []UnitRow) error {
	var missing, unexpected []string
	have := map[string]bool{}
	for _, r := range rows {
		fn, _, _ := strings.Cut(r.Route, " ")
		have[fn] = true
		if unitsCoverage[fn] != measured && !slices.Contains(unexpected, fn) {
			unexpected = append(unexpected, fn)
		}
	}
	for fn, c := range unitsCoverage {
		if c == measured && !have[fn] {
			missing = append(missing, fn)
		}
	}
	if len(missing)+len(unexpected) == 0 {
		return nil
	}
	slices.Sort(missing)
	return fmt.Errorf("units: measured but not in unitsCoverage: %v; in unitsCoverage as measured, but no row: %v", unexpected, missing)
}
