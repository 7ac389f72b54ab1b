package dynamo

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/auditlog"
)

// capturePut records the PutItem it is asked for.
type capturePut struct{ in *dynamodb.PutItemInput }

func (c *capturePut) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.in = in
	return &dynamodb.PutItemOutput{}, nil
}

// TestAuditRecordsExpireAfterTheRetention: with a retention (the AuditRetentionDays
// parameter), a record carries the TTL attribute, that long after its event occurred; with
// none it carries no TTL and is kept for ever.
func TestAuditRecordsExpireAfterTheRetention(t *testing.T) {
	occurred := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	r := auditlog.Record{EventID: "e-1", DetailType: "InterviewCancelled", Source: "lifecycle.interviews", OccurredAt: occurred, ReceivedAt: occurred.Add(time.Second)}
	for _, c := range []struct {
		retention time.Duration
		want      string
	}{
		{365 * 24 * time.Hour, "1826791200"}, // 2027-11-21T10:00:00Z
		{0, ""},
	} {
		db := &capturePut{}
		if _, err := NewAuditLog(db, "audit", c.retention).Put(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		got, ok := db.in.Item[AuditExpiresAt].(*types.AttributeValueMemberN)
		switch {
		case c.want == "" && db.in.Item[AuditExpiresAt] != nil:
			t.Errorf("retention 0: the record has %s = %v, want none", AuditExpiresAt, db.in.Item[AuditExpiresAt])
		case c.want != "" && (!ok || got.Value != c.want):
			t.Errorf("retention %v: %s = %v, want %s", c.retention, AuditExpiresAt, db.in.Item[AuditExpiresAt], c.want)
		}
	}
}
