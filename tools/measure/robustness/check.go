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
	failing []string // entities whose history is not linearizable
	html    string   // their visualisation, when some are not
	took    time.Duration
}

// checkLinearizable checks ops; when some entity's history is not linearizable it writes
// those entities' histories, as porcupine's HTML visualisation, to dir/name.
func checkLinearizable(ops []porcupine.Operation, dir, name string) (linearizability, error) {
	start := time.Now()
	var lz linearizability
	lz.result = porcupine.CheckOperationsTimeout(model, ops, checkTimeout)
	if lz.result == porcupine.Ok {
		lz.took = time.Since(start)
		return lz, nil
	}
	// Which entities? Check each alone, and show only those.
	var bad []porcupine.Operation
	for _, part := range model.Partition(ops) {
		if porcupine.CheckOperationsTimeout(model, part, checkTimeout) != porcupine.Ok {
			lz.failing = append(lz.failing, part[0].Input.(opInput).Entity)
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

// stored is an entity as the table holds it.
type stored struct {
	state
	assignment string // a job's assignment's status
}

// readStored reads each entity's item (and a job's assignment), strongly consistent.
func readStored(ctx context.Context, db *dynamodb.Client, table string, ents []*entity) (map[string]stored, error) {
	get := func(pk, sk string) (map[string]types.AttributeValue, error) {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}})
		if err != nil {
			return nil, err
		}
		return out.Item, nil
	}
	m := map[string]stored{}
	for _, e := range ents {
		pk, sk := "INTERVIEW#"+e.id, "INTERVIEW"
		if e.kind == kindJob {
			pk, sk = "JOB#"+e.id, "JOB"
		}
		it, err := get(pk, sk)
		if err != nil {
			return nil, err
		}
		v, _ := strconv.ParseInt(attr(it, "version"), 10, 64)
		s := stored{state: state{Status: attr(it, "status"), Version: v}}
		if e.kind == kindJob {
			a, err := get(pk, "ASSIGNMENT#"+e.assignment)
			if err != nil {
				return nil, err
			}
			s.assignment = attr(a, "status")
		}
		m[e.id] = s
	}
	return m, nil
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
// continuing the one before); a request told 200 has exactly one event, of the version it
// was told (a replayed 200 may have been told a later one); a refused request has none; a
// job is cancelled if and only if its assignment is. It returns the violations and the
// transitions committed.
func verifyEvents(ents []*entity, reqs []*request, st map[string]stored, events []published) ([]string, int) {
	var v []string
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
		case (last.outcome() == refused || last.outcome() == conflict) && len(evs) > 0:
			v = append(v, fmt.Sprintf("%s %s %s: answered %s but committed version %d", r.cor, r.action, r.ent.id, last.answer(), evs[0].Version))
		}
	}
	committed := 0
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
		if ent.kind == kindJob && (s.Status == "Cancelled") != (s.assignment == "Cancelled") {
			v = append(v, fmt.Sprintf("%s: job %s but its assignment %s (not atomic)", ent.id, s.Status, s.assignment))
		}
	}
	return v, committed
}
