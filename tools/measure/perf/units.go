package perf

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
	"github.com/lifecycle-api/lifecycle/tools/measure/capacity"
)

// DynamoDB on-demand list prices, us-east-1, per million request units.
const (
	WriteUnitPrice = 0.625
	ReadUnitPrice  = 0.125
)

// Write-unit targets of a transition: on a session of about 1 KB, every unit together; on
// a session with a long conversation, the units of all indexes together (the table's are
// what the item's size requires, twice in the transaction, and the request's record):
// docs/performance.md.
const (
	SmallSessionWriteTarget = 9
	IndexWriteTarget        = 3
	// requestRecord is the items a transition writes besides its session or job: the
	// request's record (under 1 KB).
	requestRecord = 1
)

// The sessions the units are measured on.
const (
	smallSession = "1 KB session"
	largeSession = "8 KB recentMessages"
	// largeMessages is the least conversation history the large session carries.
	largeMessages = 8 << 10
	// warmTransitions is how many keyed transitions each session has been through before
	// it is measured: a session in use, not one fresh from its creator.
	warmTransitions = 16
	// unitCalls is how many calls of each route are measured.
	unitCalls = 5
)

// UnitRow is what one call of a route consumed, on one kind of entity.
type UnitRow struct {
	Route, Entity string
	// ItemBytes is the size of the item the call wrote or read, after it (for a list, of
	// one listed session).
	ItemBytes int
	// Units is what one call consumed (the mean over the calls measured).
	Units capacity.Units
	// Varied reports that not every call consumed the same.
	Varied bool
	// TableWant is, for a transition, the table write units the item's size requires:
	// its larger size, before or after the write, in 1 KB units, twice (the transaction),
	// and the request's record. 0 for other routes.
	TableWant int
	// Want, when set, is what one call should consume by DynamoDB's rules, worked out from
	// the items it writes and reads (the job routes: units_jobs.go, docs/performance.md).
	Want *Expected
}

// Expected is what a call should consume: write units (table and indexes) and read units.
type Expected struct{ Write, Read float64 }

// matches reports whether u is what e expects (means of identical calls, so to a rounding).
func (e Expected) matches(u capacity.Units) bool {
	return math.Abs(u.Write()-e.Write) < 1e-9 && math.Abs(u.Read()-e.Read) < 1e-9
}

// Cost is the route's DynamoDB cost per million calls, from its units (as DynamoDB bills
// them: a transaction's table writes twice).
func (r UnitRow) Cost() float64 { return r.Units.Write()*WriteUnitPrice + r.Units.Read()*ReadUnitPrice }

// Verdict checks a transition against the write targets, and a row with expected units
// against them: "" for other routes.
func (r UnitRow) Verdict() (string, bool) {
	if e := r.Want; e != nil {
		return fmt.Sprintf("expected %s WCU, %s RCU", unitsNum(e.Write), unitsNum(e.Read)), e.matches(r.Units)
	}
	if r.TableWant == 0 {
		return "", true
	}
	if r.Entity == smallSession {
		return fmt.Sprintf("≤ %d in all", SmallSessionWriteTarget), r.Units.Write() <= SmallSessionWriteTarget
	}
	return fmt.Sprintf("table %d, indexes ≤ %d", r.TableWant, IndexWriteTarget),
		r.Units.TableWrite <= float64(r.TableWant) && r.Units.IndexWrites() <= IndexWriteTarget
}

// unitsRun is what measureUnits needs from the run: the local API, a token maker, a client
// of the local DynamoDB for fixtures, and the meter on the functions' client.
type unitsRun struct {
	base  string
	token func(sub string, roles ...string) string
	db    *dynamodb.Client
	table string
	meter *capacity.Meter
}

// measureUnits calls every route through the local API, on a session of about 1 KB and
// one with a long conversation (and the job routes on jobs booked on technicians'
// calendars), and records the capacity units each call costs by DynamoDB's rules (the
// meter computes them: moto reports a constant).
func measureUnits(ctx context.Context, u unitsRun) ([]UnitRow, error) {
	var calls []call
	for k, entity := range []string{smallSession, largeSession} {
		c, err := u.sessionCalls(ctx, k, entity)
		if err != nil {
			return nil, err
		}
		calls = append(calls, c...)
	}
	c, err := u.jobCalls(ctx)
	if err != nil {
		return nil, err
	}
	calls = append(calls, c...)
	u.meter.Take()
	var rows []UnitRow
	for _, c := range calls {
		row, err := u.measure(ctx, c)
		if err != nil {
			return nil, err
		}
		rows = append(rows, row)
	}
	return rows, checkUnitsCoverage(rows)
}

// sizedSession is a realistic session (the demo's fields) whose conversation history is
// one message, or at least largeMessages bytes.
func sizedSession(id, owner, entity string, created time.Time) interview.Session {
	s := demodata.Sessions()[0]
	s.ID, s.OwnerID, s.Status, s.Version = id, owner, interview.Active, 1
	s.CreatedAt, s.UpdatedAt, s.LastInteractionAt = created, created, created
	s.ConversationID = "conv-" + id[len(id)-12:]
	n := 1
	if entity == largeSession {
		for len(demodata.RecentMessages(s.ConversationID, n)) < largeMessages {
			n++
		}
	}
	s.RecentMessages = demodata.RecentMessages(s.ConversationID, n)
	return s
}

// sessionCalls prepares the sessions of one entity and returns the calls of every
// interview route on them.
func (u unitsRun) sessionCalls(ctx context.Context, k int, entity string) ([]call, error) {
	owner := fmt.Sprintf("units-%d", k)
	tok := u.token(owner)
	// A page of 20 and one more, created a minute apart, each through warmTransitions
	// keyed pause/resume pairs (ending active).
	const n = 21
	t0 := time.Date(2026, 10, 1, 9, 0, 0, 0, time.UTC)
	ids := make([]string, n)
	store := dynamo.NewInterviews(u.db, u.table, time.Now, lifecycle.NewID)
	actor := lifecycle.Actor{Sub: owner}
	for i := range ids {
		ids[i] = fmt.Sprintf("0417%04d-0000-4000-8000-%012d", k, i)
		s := sizedSession(ids[i], owner, entity, t0.Add(time.Duration(i)*time.Minute))
		if _, err := u.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(u.table), Item: dynamo.SessionItem(s)}); err != nil {
			return nil, err
		}
		for w := range warmTransitions {
			t := interview.Pause
			if w%2 == 1 {
				t = interview.Resume
			}
			key := lifecycle.Idempotency{Key: fmt.Sprintf("key:warm-%s-%d", ids[i], w), Fingerprint: "0123456789abcdef0123456789abcdef"}
			if _, _, err := store.Apply(ctx, t, interview.Request{Request: lifecycle.Request{ID: ids[i], Actor: actor, CorrelationID: lifecycle.NewID(), Idempotency: key}}); err != nil {
				return nil, fmt.Errorf("warm %s: %w", ids[i], err)
			}
		}
	}
	transition := func(action string) call {
		return call{route: action + "-interview", method: http.MethodPost, ids: ids[:unitCalls], transition: true,
			path: func(id string) string { return "/interviews/" + id + "/" + action }}
	}
	calls := []call{
		{route: "get-interview", ids: ids[:unitCalls], path: func(id string) string { return "/interviews/" + id }},
		{route: "list-interviews", ids: ids[:1], path: func(string) string { return "/interviews?limit=20" }},
		{route: "list-interviews ?status", ids: ids[:1], path: func(string) string { return "/interviews?status=active&limit=20" }},
		transition("pause"), transition("resume"), transition("cancel"),
	}
	for i := range calls {
		calls[i].entity, calls[i].token, calls[i].key = entity, tok, sessionKey
	}
	return calls, nil
}

// call is one route measured on some entities.
type call struct {
	route, entity, token string
	// method is GET when empty.
	method string
	ids    []string
	path   func(id string) string
	// body, when set, is the JSON body of the call on id (none when nil).
	body func(id string) string
	// status is the answer each call must get: 200 when 0.
	status int
	// key is the key of the item a call on id writes or reads.
	key func(id string) map[string]types.AttributeValue
	// created marks a create: the item is the one whose id the answer names, not id's.
	created bool
	// transition marks a write whose table units are checked against the item's size.
	transition bool
	// wantOf, when set, is what a call should consume given the sizes of the item it
	// writes before and after it (0 before a create): the row's Want is their mean.
	wantOf func(before, after int) Expected
}

// measure makes the call on each of its ids and returns the mean units per call.
func (u unitsRun) measure(ctx context.Context, c call) (UnitRow, error) {
	row := UnitRow{Route: c.route, Entity: c.entity}
	var (
		first capacity.Units
		wants Expected
	)
	caller := api{http.DefaultClient, u.base, c.token}
	for i, id := range c.ids {
		// 0 before a create: the id it is called on names no item.
		before := u.itemSize(ctx, c.key(id))
		body := ""
		if c.body != nil {
			body = c.body(id)
		}
		method := cmp.Or(c.method, http.MethodGet)
		answer, _, err := caller.send(ctx, method, c.path(id), body, method == http.MethodPost, cmp.Or(c.status, http.StatusOK))
		if err != nil {
			return row, fmt.Errorf("%s on the %s: %w", c.route, c.entity, err)
		}
		got := u.meter.Take()
		if c.created {
			var made struct{ ID string }
			if err := json.Unmarshal(answer, &made); err != nil || made.ID == "" {
				return row, fmt.Errorf("%s: no id in the answer %s", c.route, answer)
			}
			id = made.ID
		}
		if i == 0 {
			first = got
		} else if !sameUnits(first, got) {
			row.Varied = true
		}
		row.Units = row.Units.Add(got)
		row.ItemBytes = u.itemSize(ctx, c.key(id))
		if c.wantOf != nil {
			w := c.wantOf(before, row.ItemBytes)
			wants.Write, wants.Read = wants.Write+w.Write, wants.Read+w.Read
		}
		if c.transition {
			row.TableWant = max(row.TableWant, 2*(int(capacity.WriteUnitsOf(max(before, row.ItemBytes)))+requestRecord))
		}
	}
	n := float64(len(c.ids))
	row.Units = row.Units.Scale(1 / n)
	if c.wantOf != nil {
		row.Want = &Expected{Write: wants.Write / n, Read: wants.Read / n}
	}
	return row, nil
}

func sessionKey(id string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "INTERVIEW#" + id}, "sk": &types.AttributeValueMemberS{Value: "INTERVIEW"}}
}

// api is the local API as one caller: its address, a client, and the caller's token.
type api struct {
	client      *http.Client
	base, token string
}

// send sends one request with body (JSON; none when empty) and, when keyed, an
// Idempotency-Key; it wants the status want, and returns the answer's body and headers.
func (a api) send(ctx context.Context, method, path, body string, keyed bool, want int) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, strings.NewReader(body))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if keyed {
		req.Header.Set("Idempotency-Key", lifecycle.NewID())
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return nil, nil, fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, answer)
	}
	return answer, resp.Header, nil
}

func (u unitsRun) itemSize(ctx context.Context, key map[string]types.AttributeValue) int {
	out, err := u.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(u.table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0
	}
	return capacity.ItemSize(out.Item)
}

// sameUnits reports whether two calls consumed the same units, table and each index.
func sameUnits(a, b capacity.Units) bool {
	return a.TableWrite == b.TableWrite && a.TableRead == b.TableRead &&
		maps.Equal(a.IndexWrite, b.IndexWrite) && maps.Equal(a.IndexRead, b.IndexRead)
}

// unitsTable renders the units rows: a column for each listing index of the sessions, and
// one for any other index a row wrote to (a job's index, when it has one), so the columns
// always add up to the units billed.
func unitsTable(b *strings.Builder, rows []UnitRow) {
	indexes := []string{dynamo.IndexByOwner, dynamo.IndexByOwnerStatus}
	var others []string
	for _, r := range rows {
		for name := range r.Units.IndexWrite {
			if !slices.Contains(indexes, name) && !slices.Contains(others, name) {
				others = append(others, name)
			}
		}
	}
	slices.Sort(others)
	indexes = append(indexes, others...)
	b.WriteString("\n| route (units computed by DynamoDB's rules from the items written and read: tools/measure/capacity) | entity | item bytes | table WCU |")
	for _, name := range indexes {
		b.WriteString(" " + name + " WCU |")
	}
	b.WriteString(" WCU billed | RCU (table + indexes) | DynamoDB $ per million calls | target |\n|" + strings.Repeat("---|", 8+len(indexes)) + "\n")
	num := unitsNum
	for _, r := range rows {
		verdict := "–"
		if want, pass := r.Verdict(); want != "" {
			verdict = want + " " + ok(pass)
		}
		if r.Varied {
			verdict += " (calls varied)"
		}
		billed := num(r.Units.Write())
		if r.Units.TransactionWrite > 0 {
			billed += " (a transaction: table twice)"
		}
		fmt.Fprintf(b, "| %s | %s | %d | %s |", r.Route, r.Entity, r.ItemBytes, num(r.Units.TableWrite))
		for _, name := range indexes {
			fmt.Fprintf(b, " %s |", num(r.Units.IndexWrite[name]))
		}
		fmt.Fprintf(b, " %s | %s | %.2f | %s |\n", billed, num(r.Units.Read()), r.Cost(), verdict)
	}
}

// unitsNum writes a number of units as the table shows it: at most two decimals, no
// trailing zeros.
func unitsNum(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}
