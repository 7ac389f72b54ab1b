package job

import "time"

// The dispatchers' board: every job, in the order of its time on the board (BoardTime),
// optionally one status and a span of time. docs/data-model.md, "Listing jobs".

// ListQuery asks for a page of the board.
type ListQuery struct {
	// Status, when set, keeps only jobs in that status.
	Status Status
	// From and To, when set, keep only jobs whose board time is in [From, To).
	From, To time.Time
	// Limit is the page size.
	Limit int
	// Cursor continues a previous page; "" starts at the earliest.
	Cursor string
}

// Page is one page of the board; Next continues it ("" on the last page).
type Page struct {
	Items []Job
	Next  string
}

// BoardTime is when a job stands on the board: the start of its booking (the current one,
// or the last one a cancel ended), else the start of the window its customer asked for,
// else its creation. Only assign and reschedule move it.
func BoardTime(j Job) time.Time {
	switch {
	case j.Assignment != nil && !j.Assignment.ScheduledStart.IsZero():
		return j.Assignment.ScheduledStart
	case j.RequestedWindow != nil:
		return j.RequestedWindow.Start
	}
	return j.CreatedAt
}

// ParseStatus returns the status named s, if it is one.
func ParseStatus(s string) (Status, bool) {
	for _, st := range Statuses {
		if string(st) == s {
			return st, true
		}
	}
	return "", false
}
