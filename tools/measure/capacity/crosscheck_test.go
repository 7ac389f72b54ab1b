package capacity

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
	"github.com/lifecycle-api/lifecycle/tools/local/demodata"
)

// The last figures DynamoDB Local measured, before the move to moto (docs/performance.md,
// with ReturnConsumedCapacity: INDEXES), for the previous release's single conditional
// UpdateItem of a session that had been through 16 keyed transitions (its 8 request slots
// full): 5 write units on a 1 KB-class session (the table 2, byOwner 1, byOwnerStatus 2);
// on one with 8 KB of conversation, the table's 10 and 3 on the indexes; and 1.5 read units
// for a page of 20 from byOwner. The calculator, given those items, must say the same.
func TestCalculatorAgreesWithDynamoDBLocal(t *testing.T) {
	schema := SchemaOf(dynamo.CreateTableInput("t"))
	for _, c := range []struct {
		name            string
		messages        int // conversation history, at least this many bytes
		table, byOwner  float64
		byOwnerStatus   float64
		pageOf20ReadsEC float64
	}{
		{"1 KB-class session", 0, 2, 1, 2, 1.5},
		{"8 KB of recentMessages", 8 << 10, 10, 1, 2, 1.5},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := previousReleaseItem(session(c.messages), 17, interview.Active)
			after := previousReleaseItem(session(c.messages), 18, interview.Paused)
			u := schema.Write(before, after, false)
			if u.TableWrite != c.table || u.IndexWrite[dynamo.IndexByOwner] != c.byOwner || u.IndexWrite[dynamo.IndexByOwnerStatus] != c.byOwnerStatus {
				t.Errorf("a pause of the %d-byte item: table %v, byOwner %v, byOwnerStatus %v; DynamoDB Local measured %v, %v, %v",
					ItemSize(after), u.TableWrite, u.IndexWrite[dynamo.IndexByOwner], u.IndexWrite[dynamo.IndexByOwnerStatus], c.table, c.byOwner, c.byOwnerStatus)
			}
			// A page of 20 reads 21 summaries (the extra one says there is a next page).
			page := slices.Repeat([]Item{schema.entry(schema.Indexes[0], after)}, 21)
			if r := schema.Read(page, false, dynamo.IndexByOwner); r.IndexRead[dynamo.IndexByOwner] != c.pageOf20ReadsEC {
				t.Errorf("a page of 20: %v read units, DynamoDB Local measured %v", r.IndexRead[dynamo.IndexByOwner], c.pageOf20ReadsEC)
			}
		})
	}
}

// session is a demo session with a conversation of at least messages bytes, as make
// bench measures them.
func session(messages int) interview.Session {
	s := demodata.Sessions()[0]
	s.ID, s.OwnerID = "04170000-0000-4000-8000-000000000001", "units-0"
	n := 1
	for messages > 0 && len(demodata.RecentMessages(s.ConversationID, n)) < messages {
		n++
	}
	s.RecentMessages = demodata.RecentMessages(s.ConversationID, n)
	return s
}

// previousReleaseItem is s as the previous release stored it after some keyed
// transitions: its audit attributes and its 8 full request slots.
func previousReleaseItem(s interview.Session, version int64, st interview.Status) Item {
	at := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	s.Status, s.Version, s.PreviousStatus = st, version, interview.Paused
	s.UpdatedAt, s.PausedAt, s.ResumedAt = at, at, at
	it := dynamo.SessionItem(s)
	it["lastAction"] = str("pause")
	it["correlationId"] = str(lifecycle.NewID())
	it["actor"] = &types.AttributeValueMemberM{Value: Item{"sub": str(s.OwnerID), "roles": &types.AttributeValueMemberL{}}}
	for i := range 8 {
		it[fmt.Sprintf("applied%d", i)] = str(strings.Repeat("k", 32))
	}
	return it
}
