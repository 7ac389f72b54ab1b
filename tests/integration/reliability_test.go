package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
	"github.com/lifecycle-api/lifecycle/shared/httpapi"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/tools/measure/robustness"
	"github.com/lifecycle-api/lifecycle/tools/testsupport/prereq"
)

// ReliabilitySeedsEnv names the seeds TestReliability runs, comma-separated: set it to
// replay a failing run (its table names the seed) as closely as timing allows.
const ReliabilitySeedsEnv = "RELIABILITY_SEEDS"

// reliabilitySeeds are the seeds make test runs: each a different draw of requests,
// faults and crashes.
var reliabilitySeeds = []uint64{7, 11, 23}

// TestReliability is `make reliability` at a size that suits `make test`, once per seed:
// concurrent random transitions under injected faults (sessions paused, resumed and
// cancelled; jobs assigned, reassigned, rescheduled and cancelled on two technicians, so
// that bookings conflict), with the functions and the publisher running as their real
// bootstraps and killed at random points; the history checked for linearizability with
// porcupine against the lifecycle and the technicians' calendars, and every answer
// against what was committed, booked and published. A violation comes with the trace of
// each request behind it.
func TestReliability(t *testing.T) {
	prereq.Need(t, prereq.Bootstraps)
	seeds := reliabilitySeeds
	if v := os.Getenv(ReliabilitySeedsEnv); v != "" {
		seeds = nil
		for _, f := range strings.Split(v, ",") {
			n, err := strconv.ParseUint(strings.TrimSpace(f), 10, 64)
			if err != nil {
				t.Fatalf("%s=%q: want seeds, comma-separated", ReliabilitySeedsEnv, v)
			}
			seeds = append(seeds, n)
		}
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprintf("seed-%d", seed), func(t *testing.T) { reliabilityRun(t, seed) })
	}
}

func reliabilityRun(t *testing.T, seed uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := robustness.Run(ctx, robustness.Options{
		Clients: 8, Requests: 260, Sessions: 8, Jobs: 4, Technicians: 2, FaultRate: 0.08, ClientRetries: 5, Seed: seed,
		// Half the publisher batches are killed once, with part or all of the batch on the
		// bus, then retried. (Killing every batch made the publisher fall behind the
		// calendars' stream records and doubled the run's time.)
		Bootstraps: true, CrashRate: 0.05, PublisherCrashRate: 0.5,
	})
	if err != nil {
		t.Fatal(err)
	}
	table := rep.Table()
	t.Log("\n" + table)
	_ = os.WriteFile(filepath.Join(repoRoot(t), "test-output", fmt.Sprintf("reliability-seed%d.txt", seed)), []byte(table), 0o644)
	if len(rep.Violations) > 0 {
		t.Fatalf("%d violations (replay with %s=%d)", len(rep.Violations), ReliabilitySeedsEnv, seed)
	}
	if rep.Linearizable != "yes" || rep.Operations+rep.LeftOut < rep.Attempts {
		t.Fatalf("linearizable %q after checking %d operations (%d attempts left out) for %d attempts", rep.Linearizable, rep.Operations, rep.LeftOut, rep.Attempts)
	}
	if rep.Successes == 0 || rep.Committed == 0 || rep.Events != rep.Committed {
		t.Fatalf("successes %d, committed %d, events %d", rep.Successes, rep.Committed, rep.Events)
	}
	faults, kills := 0, map[string]int{}
	for _, n := range rep.Faults {
		faults += n
	}
	for k, n := range rep.Crashes {
		kills[k[strings.Index(k, ": ")+2:]] += n
	}
	if faults == 0 {
		t.Error("no fault was injected: the run proves nothing")
	}
	for _, where := range []string{"before its write", "after its write, before the answer"} {
		if kills[where] == 0 {
			t.Errorf("no function was killed %s: the run proves nothing about it (kills: %v)", where, rep.Crashes)
		}
	}
	// The publisher died with part of a batch on the bus, the stream redelivered the
	// batch, the bus took those events twice, and the audit consumer still holds each once
	// (Events == Committed, above).
	if rep.BusTwice == 0 {
		t.Errorf("the bus took no event twice after %v: the publisher's crashes proved nothing", rep.Crashes)
	}
	// The calendars were exercised: jobs booked and moved, and bookings refused for time
	// another job held.
	if rep.Bookings["first assignments"]+rep.Bookings["reassignments"] == 0 || rep.Bookings["reschedules"] == 0 || rep.Outcomes["409 BOOKING_CONFLICT"] == 0 {
		t.Errorf("bookings committed %v, final answers %v: the run proves nothing about the calendars", rep.Bookings, rep.Outcomes)
	}
	// The scheduler was a client: timers resumed their pauses, others found them gone
	// stale, and some were delivered more than once.
	if rep.Timers["resumed its pause"] == 0 || rep.Timers["stale (the session had moved on)"] == 0 || rep.Timers["delivered or attempted more than once"] == 0 {
		t.Errorf("timers %v: the run proves nothing about the scheduled resumes", rep.Timers)
	}
}

// TestReliabilityCatchesAStaleTimer proves the checker bites on the scheduler: the same
// run, sessions only, on an interview store whose scheduled resume drops its version guard,
// so a timer whose pause was resumed and paused again resumes the later pause, must be
// found out. It is caught only when a stale timer lands while a later pause is still the
// session's latest transition: on four sessions, 160 requests caught it 0 to 5 times a run
// and missed once in ten runs; on eight, 480 requests caught it 5 to 11 times in each of 15.
func TestReliabilityCatchesAStaleTimer(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := robustness.Run(ctx, robustness.Options{
		Clients: 4, Requests: 480, Sessions: 8, ClientRetries: 5, Seed: 13,
		BatchWindow: 250 * time.Millisecond, Settle: 20 * time.Second,
		Stores: func(db *dynamodb.Client, table string) httpapi.Stores {
			return httpapi.Stores{
				Interviews: unguardedTimer{dynamo.NewInterviews(db, table, time.Now, lifecycle.NewID)},
				Jobs:       dynamo.NewJobs(db, table, time.Now, lifecycle.NewID),
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.Table())
	if rep.Linearizable != "no" || !slices.ContainsFunc(rep.Violations, func(v string) bool { return strings.Contains(v, "the timer of the pause that made version") }) {
		t.Fatalf("a timer without its version guard passed the check (linearizable %q): %v", rep.Linearizable, rep.Violations)
	}
}

// unguardedTimer is the stale-timer store: the scheduled resume applies to whatever
// pause the session is in, not only the one its timer was set for.
type unguardedTimer struct{ *dynamo.Interviews }

func (s unguardedTimer) Apply(ctx context.Context, t interview.Transition, req interview.Request) (interview.Session, bool, error) {
	t.ExpectsVersion = false
	return s.Interviews.Apply(ctx, t, req)
}

// TestReliabilityCatchesALostUpdate proves the checker bites: the same run on a store that
// reads the session, checks the transition in Go and then writes without a condition (seed
// 000's check-then-act) must be found not linearizable, with porcupine's visualisation of
// the failing history written to test-output.
func TestReliabilityCatchesALostUpdate(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := robustness.Run(ctx, robustness.Options{
		Clients: 8, Requests: 80, Sessions: 2, ClientRetries: 5, Seed: 3,
		// Its lost updates can leave versions no event announces: wait for the rest a while,
		// well inside this test's deadline, then check.
		Settle: 20 * time.Second,
		Stores: func(db *dynamodb.Client, table string) httpapi.Stores {
			return httpapi.Stores{
				Interviews: checkThenAct{InterviewStore: dynamo.NewInterviews(db, table, time.Now, lifecycle.NewID), db: db, table: table},
				Jobs:       dynamo.NewJobs(db, table, time.Now, lifecycle.NewID),
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.Table())
	if rep.Linearizable != "no" {
		t.Fatalf("a store with lost updates passed the linearizability check (%q)", rep.Linearizable)
	}
	if b, err := os.ReadFile(rep.History); err != nil || !strings.Contains(string(b), "Porcupine") {
		t.Fatalf("no visualisation of the failing history at %q: %v", rep.History, err)
	}
	if !strings.HasPrefix(rep.History, filepath.Join(repoRoot(t), "test-output")) {
		t.Errorf("the visualisation is at %s, not under test-output/", rep.History)
	}
}

// TestReliabilityCatchesADoubleBooking proves the checker bites on the calendars: the same
// run, jobs only, on a job store whose bookings put their slots without the guard
// (attribute_not_exists), so a booking over another job's time overwrites that job's slots
// instead of being refused, must be found not linearizable.
func TestReliabilityCatchesADoubleBooking(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	rep, err := robustness.Run(ctx, robustness.Options{
		Clients: 4, Requests: 24, Jobs: 4, Technicians: 1, ClientRetries: 5, Seed: 5,
		// In process, nothing killed: the stream can be read more often.
		BatchWindow: 250 * time.Millisecond, Settle: 20 * time.Second,
		Stores: func(db *dynamodb.Client, table string) httpapi.Stores {
			return httpapi.Stores{
				Interviews: dynamo.NewInterviews(db, table, time.Now, lifecycle.NewID),
				Jobs:       dynamo.NewJobs(unguardedSlots{db}, table, time.Now, lifecycle.NewID),
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + rep.Table())
	if rep.Linearizable != "no" || !strings.Contains(strings.Join(rep.Violations, "\n"), "bookings-round0") {
		t.Fatalf("a store that double-books passed the linearizability check (%q): %v", rep.Linearizable, rep.Violations)
	}
}

// unguardedSlots is the double-booking store's table: a booking's put of a slot of the
// technician's calendar goes without its condition.
type unguardedSlots struct{ *dynamodb.Client }

func (c unguardedSlots) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, opts ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	for _, it := range in.TransactItems {
		if p := it.Put; p != nil {
			if pk, ok := p.Item[attr.PK].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "TECH#") {
				p.ConditionExpression, p.ExpressionAttributeNames = nil, nil
			}
		}
	}
	return c.Client.TransactWriteItems(ctx, in, opts...)
}

// checkThenAct is the broken store: a read, the transition checked in Go, and a write
// without a condition. Two requests that read the same status both write.
type checkThenAct struct {
	httpapi.InterviewStore
	db    *dynamodb.Client
	table string
}

func (s checkThenAct) Apply(ctx context.Context, t interview.Transition, req interview.Request) (interview.Session, bool, error) {
	old, err := s.Get(ctx, req.ID)
	if err != nil {
		return interview.Session{}, false, err
	}
	if err := t.Decide(old, req.Actor); err != nil {
		return interview.Session{}, false, err
	}
	time.Sleep(5 * time.Millisecond) // widen the race a slow network would open
	out, err := s.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(s.table),
		Key: map[string]types.AttributeValue{
			attr.PK: &types.AttributeValueMemberS{Value: "INTERVIEW#" + req.ID}, attr.SK: &types.AttributeValueMemberS{Value: "INTERVIEW"},
		},
		UpdateExpression: aws.String("SET #status = :to, #version = :version, #updatedAt = :now, #actor = :actor, #corr = :corr, #action = :action"),
		ExpressionAttributeNames: map[string]string{
			"#status": attr.Status, "#version": attr.Version, "#updatedAt": attr.UpdatedAt, "#actor": attr.Actor, "#corr": attr.CorrelationID,
			"#action": attr.LastAction,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":to":      &types.AttributeValueMemberS{Value: string(t.To)},
			":version": &types.AttributeValueMemberN{Value: strconv.FormatInt(old.Version+1, 10)},
			":now":     &types.AttributeValueMemberS{Value: lifecycle.FormatTime(time.Now())},
			":actor": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
				attr.ActorSub: &types.AttributeValueMemberS{Value: req.Actor.Sub}, attr.ActorRoles: &types.AttributeValueMemberL{},
			}},
			":corr":   &types.AttributeValueMemberS{Value: req.CorrelationID},
			":action": &types.AttributeValueMemberS{Value: t.Action},
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err != nil {
		return interview.Session{}, false, err
	}
	s2, err := dynamo.SessionFromItem(out.Attributes)
	return s2, false, err
}
