package robustness

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// checkTimeout bounds porcupine's search; a check that does not finish is a failure.
const checkTimeout = 5 * time.Minute

// linearizability is porcupine's verdict on one history.
type linearizability struct {
	result  porcupine.CheckResult
	failing []string // partitions (a session, a booking group) whose history is not linearizable
	html    string   // their visualisation, when some are not
	took    time.Duration
}

// checkLinearizable checks ops; when some partition's history is not linearizable it writes
// those partitions' histories, as porcupine's HTML visualisation, to dir/name.
func checkLinearizable(ops []porcupine.Operation, dir, name string) (linearizability, error) {
	start := time.Now()
	var lz linearizability
	lz.result = porcupine.CheckOperationsTimeout(model, ops, checkTimeout)
	if lz.result == porcupine.Ok {
		lz.took = time.Since(start)
		return lz, nil
	}
	// Which partitions? Check each alone, and show only those.
	var bad []porcupine.Operation
	for _, part := range model.Partition(ops) {
		if porcupine.CheckOperationsTimeout(model, part, checkTimeout) != porcupine.Ok {
			lz.failing = append(lz.failing, part[0].Input.(opInput).Group)
			bad = append(bad, part...)
		}
	}
	_, info := porcupine.CheckOperationsVerbose(model, bad, checkTimeout)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return lz, err
	}
	lz.html = filepath.Join(dir, name)
	lz.took = time.Since(start)
	return lz, porcupine.VisualizePath(model, info, lz.html)
}

// published is one event as the audit table recorded it.
type published struct {
	EventID        string `json:"eventId"`
	CorrelationID  string `json:"correlationId"`
	Version        int64  `json:"version"`
	PreviousStatus string `json:"previousStatus"`
	Status         string `json:"status"`
	SessionID      string `json:"sessionId"`
	JobID          string `json:"jobId"`
	// A job's events: the booking an assignment or a reschedule made (booked), the window
	// a reschedule moved from, the assignment a cancel ended.
	Booked          *window   `json:"booked"`
	RescheduledFrom *struct{} `json:"rescheduledFrom"`
	Assignment      *struct{} `json:"assignment"`
}

func (e published) entity() string { return e.SessionID + e.JobID }

// auditEvents reads the audit table's events (one per eventId) of the entities in want.
func auditEvents(ctx context.Context, db *dynamodb.Client, table string, want map[string]bool) ([]published, error) {
	var out []published
	p := dynamodb.NewScanPaginator(db, &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, it := range page.Items {
			d, _ := it["detail"].(*types.AttributeValueMemberS)
			if d == nil {
				continue
			}
			var e published
			if err := json.Unmarshal([]byte(d.Value), &e); err != nil {
				return nil, err
			}
			if want[e.entity()] {
				out = append(out, e)
			}
		}
	}
	return out, nil
}

// stored is an entity as the table holds it: its status and version, and for a job its
// booking as its technician's calendar holds it (state.Booking), its current assignment and
// every assignment it has had.
type stored struct {
	state
	current     string                      // a job's current assignment's id
	assignments map[string]storedAssignment // a job's assignments, by id
	slots       []slotHeld                  // the calendar's slots that name the job
}

// storedAssignment is an assignment item.
type storedAssignment struct {
	status string
	booking
}

// The calendar as docs/data-model.md ("Calendar integrity: a technician's slots") stores
// it: a technician's partition TECH#<technicianId>, one item per booked quarter-hour,
// SLOT#<UTC start, to the minute>, naming the job and the assignment that hold it. The
// check reads it from that description, not with shared/dynamo's code.
const (
	slotSize   = 15 * time.Minute
	slotLayout = "2006-01-02T15:04Z"
)

// slotHeld is one slot item.
type slotHeld struct {
	tech, job, assignment string
	at                    time.Time
}

// readStored reads each entity's item (a job's whole partition: the job and its
// assignments) and the round's technicians' calendars, strongly consistent. A job's
// booking is the one its slots make: one technician, quarter-hours end to end, one
// assignment; slots that make no such window are a booking no state has ("inconsistent
// calendar"), which the check of the final state reports. It returns the slots that name
// none of ents too.
func readStored(ctx context.Context, db *dynamodb.Client, table string, ents []*entity, techs []string) (map[string]stored, []slotHeld, error) {
	query := func(pk string) ([]map[string]types.AttributeValue, error) {
		var out []map[string]types.AttributeValue
		p := dynamodb.NewQueryPaginator(db, &dynamodb.QueryInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: pk}}})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return nil, err
			}
			out = append(out, page.Items...)
		}
		return out, nil
	}
	m := map[string]stored{}
	for _, e := range ents {
		pk, sk := "INTERVIEW#"+e.id, "INTERVIEW"
		if e.kind == kindJob {
			pk, sk = "JOB#"+e.id, "JOB"
		}
		items, err := query(pk)
		if err != nil {
			return nil, nil, err
		}
		s := stored{assignments: map[string]storedAssignment{}}
		for _, it := range items {
			switch k := attr(it, "sk"); {
			case k == sk:
				s.Version, _ = strconv.ParseInt(attr(it, "version"), 10, 64)
				s.Status, s.current = attr(it, "status"), attr(it, "assignmentId")
			case strings.HasPrefix(k, "ASSIGNMENT#"):
				s.assignments[attr(it, "id")] = storedAssignment{status: attr(it, "status"),
					booking: booking{Tech: attr(it, "technicianId"), Start: unix(attr(it, "scheduledStart")), End: unix(attr(it, "scheduledEnd"))}}
			}
		}
		m[e.id] = s
	}
	var strays []slotHeld
	for _, t := range techs {
		items, err := query("TECH#" + t)
		if err != nil {
			return nil, nil, err
		}
		for _, it := range items {
			k, ok := strings.CutPrefix(attr(it, "sk"), "SLOT#")
			if !ok {
				continue
			}
			at, err := time.Parse(slotLayout, k)
			if err != nil {
				return nil, nil, fmt.Errorf("TECH#%s: unreadable slot %q", t, k)
			}
			sl := slotHeld{tech: t, job: attr(it, "jobId"), assignment: attr(it, "assignmentId"), at: at}
			s, ok := m[sl.job]
			if !ok {
				strays = append(strays, sl)
				continue
			}
			s.slots = append(s.slots, sl)
			m[sl.job] = s
		}
	}
	for id, s := range m {
		s.Booking = calendarBooking(s.slots)
		m[id] = s
	}
	return m, strays, nil
}

// calendarBooking joins a job's slots into its booking: none without slots; an
// "inconsistent calendar" technician when they are not one assignment's quarter-hours, end
// to end, of one technician.
func calendarBooking(slots []slotHeld) booking {
	if len(slots) == 0 {
		return booking{}
	}
	sort.Slice(slots, func(i, j int) bool { return slots[i].at.Before(slots[j].at) })
	first := slots[0]
	for i, sl := range slots {
		if sl.tech != first.tech || sl.assignment != first.assignment || !sl.at.Equal(first.at.Add(time.Duration(i)*slotSize)) {
			return booking{Tech: "inconsistent calendar", Start: first.at.Unix(), End: sl.at.Add(slotSize).Unix()}
		}
	}
	return booking{Tech: first.tech, Start: first.at.Unix(), End: slots[len(slots)-1].at.Add(slotSize).Unix()}
}

func unix(ts string) int64 {
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return 0
	}
	return t.Unix()
}

// verifyCalendar checks the jobs' items against the calendar's: an Assigned job's current
// assignment is live and its window is exactly the slots that name the job, each naming
// that assignment; an Unassigned or Cancelled job holds no slot, and a cancelled job's
// assignment is cancelled with it; every assignment but the current one is cancelled (a
// reassignment cancels the one it replaces); no slot names a job that is not the round's.
// It returns the violations and the slots booked.
func verifyCalendar(ents []*entity, st map[string]stored, strays []slotHeld) ([]string, int) {
	var v []string
	slots := 0
	for _, e := range ents {
		if e.kind != kindJob {
			continue
		}
		s := st[e.id]
		slots += len(s.slots)
		cur, hasCur := s.assignments[s.current]
		switch {
		case s.current != "" && !hasCur:
			v = append(v, fmt.Sprintf("%s: its current assignment %s is not in its partition", e.id, s.current))
		case s.Status == "Assigned" && (cur.status == "Cancelled" || !hasCur):
			v = append(v, fmt.Sprintf("%s: Assigned, but its current assignment is %q", e.id, cur.status))
		case s.Status == "Assigned" && cur.booking != s.Booking:
			v = append(v, fmt.Sprintf("%s: its assignment books %s, its technician's calendar holds %s for it (not atomic)", e.id, cur.booking, s.Booking))
		case s.Status != "Assigned" && len(s.slots) > 0:
			v = append(v, fmt.Sprintf("%s: %s, but %d slots of %s's calendar name it (a window not released)", e.id, s.Status, len(s.slots), s.slots[0].tech))
		case s.Status == "Cancelled" && hasCur && cur.status != "Cancelled":
			v = append(v, fmt.Sprintf("%s: job Cancelled but its assignment %s (not atomic)", e.id, cur.status))
		}
		for _, sl := range s.slots {
			if sl.assignment != s.current {
				v = append(v, fmt.Sprintf("%s: %s's slot %s names assignment %s, not its current one %s", e.id, sl.tech, sl.at.Format(slotLayout), sl.assignment, s.current))
				break
			}
		}
		for id, a := range s.assignments {
			if id != s.current && a.status != "Cancelled" {
				v = append(v, fmt.Sprintf("%s: a former assignment %s is %s, not cancelled", e.id, id, a.status))
			}
		}
	}
	for _, sl := range strays {
		v = append(v, fmt.Sprintf("%s's slot %s names job %q, none of the round's", sl.tech, sl.at.Format(slotLayout), sl.job))
	}
	return v, slots
}

func attr(m map[string]types.AttributeValue, k string) string {
	switch v := m[k].(type) {
	case *types.AttributeValueMemberS:
		return v.Value
	case *types.AttributeValueMemberN:
		return v.Value
	}
	return ""
}

// complete reports whether the audit table holds an event for every committed transition
// of every entity (versions 2 to the stored one).
func complete(ents []*entity, st map[string]stored, events []published) bool {
	have := map[string]int{}
	for _, e := range events {
		have[e.entity()]++
	}
	for _, e := range ents {
		if int64(have[e.id]) < st[e.id].Version-e.seeded.Version {
			return false
		}
	}
	return true
}

var terminal = map[string]bool{"cancelled": true, "Cancelled": true, "completed": true, "Completed": true}

// verifyEvents checks what was committed and published against the answers: every
// transition the table committed has exactly its event and every event its committed
// transition (the versions step by one from the seed to the stored item, each event
// continuing the one before); a timer resumes only the pause it was set for (the version
// after it); a request told 200 has exactly one event, of the version it
// was told (a replayed 200 may have been told a later one), and a booking's event the
// booking it was told; a refused request has none. It returns the violations and the
// transitions committed.
func verifyEvents(ents []*entity, reqs []*request, st map[string]stored, events []published) (v []string, committed int) {
	byCorr := map[string]*request{}
	for _, r := range reqs {
		byCorr[r.cor] = r
	}
	eventsOf := map[string][]published{}
	ofRequest := map[string][]published{}
	for _, e := range events {
		eventsOf[e.entity()] = append(eventsOf[e.entity()], e)
		ofRequest[e.CorrelationID] = append(ofRequest[e.CorrelationID], e)
	}
	for _, r := range reqs {
		evs := ofRequest[r.cor]
		last := r.attempts[len(r.attempts)-1]
		fresh := slices.IndexFunc(r.attempts, func(a attempt) bool { return a.outcome() == applied && !a.replayed })
		switch {
		case len(evs) > 1:
			v = append(v, fmt.Sprintf("%s %s %s: %d transitions for one request", r.cor, r.action, r.ent.id, len(evs)))
		case last.outcome() == applied && len(evs) == 0:
			v = append(v, fmt.Sprintf("%s %s %s: answered %s but no event of it was recorded", r.cor, r.action, r.ent.id, last.answer()))
		case fresh >= 0 && evs[0].Version != r.attempts[fresh].version:
			v = append(v, fmt.Sprintf("%s %s %s: told version %d, committed version %d", r.cor, r.action, r.ent.id, r.attempts[fresh].version, evs[0].Version))
		case last.outcome() == applied && last.replayed && evs[0].Version > last.version:
			v = append(v, fmt.Sprintf("%s %s %s: a replay told version %d, before its own transition (version %d)", r.cor, r.action, r.ent.id, last.version, evs[0].Version))
		case r.action == actionTimer && len(evs) > 0 && (evs[0].Version != r.expect+1 || evs[0].PreviousStatus != "paused"):
			v = append(v, fmt.Sprintf("%s %s %s: the timer of the pause that made version %d committed version %d from %q",
				r.cor, r.action, r.ent.id, r.expect, evs[0].Version, evs[0].PreviousStatus))
		case (last.outcome() == refused || last.outcome() == conflict || last.outcome() == clash) && len(evs) > 0:
			v = append(v, fmt.Sprintf("%s %s %s: answered %s but committed version %d", r.cor, r.action, r.ent.id, last.answer(), evs[0].Version))
		case fresh >= 0 && r.ask.End != 0 && evs[0].Booked.booking() != r.attempts[fresh].booked:
			v = append(v, fmt.Sprintf("%s %s %s: told %s, its event booked %s", r.cor, r.action, r.ent.id, r.attempts[fresh].booked, evs[0].Booked.booking()))
		}
	}
	for _, ent := range ents {
		es := eventsOf[ent.id]
		sort.Slice(es, func(i, j int) bool { return es[i].Version < es[j].Version })
		prev, version := ent.seeded.Status, ent.seeded.Version
		for _, e := range es {
			switch {
			case e.Version != version+1:
				v = append(v, fmt.Sprintf("%s: event version %d after %d", ent.id, e.Version, version))
			case e.PreviousStatus != prev:
				v = append(v, fmt.Sprintf("%s v%d: previousStatus %q, but the transition before left %q", ent.id, e.Version, e.PreviousStatus, prev))
			case terminal[prev]:
				v = append(v, fmt.Sprintf("%s v%d: a transition after the terminal status %q", ent.id, e.Version, prev))
			}
			if byCorr[e.CorrelationID] == nil {
				v = append(v, fmt.Sprintf("%s v%d: an event nobody asked for (%s)", ent.id, e.Version, e.CorrelationID))
			}
			prev, version = e.Status, e.Version
		}
		s := st[ent.id]
		committed += int(s.Version - ent.seeded.Version)
		if s.Version != version || s.Status != prev {
			v = append(v, fmt.Sprintf("%s: stored v%d %s, but the last event is v%d %s (a committed transition without its event, or an event without its transition)",
				ent.id, s.Version, s.Status, version, prev))
		}
	}
	return v, committed
}

// bookingKinds counts the committed job transitions that moved a calendar, from their
// events.
func bookingKinds(events []published) map[string]int {
	out := map[string]int{}
	for _, e := range events {
		switch {
		case e.JobID == "":
		case e.RescheduledFrom != nil:
			out["reschedules"]++
		case e.Booked != nil && e.PreviousStatus == "Unassigned":
			out["first assignments"]++
		case e.Booked != nil:
			out["reassignments"]++
		case e.Status == "Cancelled" && e.Assignment != nil:
			out["cancels that released a booking"]++
		}
	}
	return out
}
