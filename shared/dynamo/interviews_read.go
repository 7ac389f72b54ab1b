package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
	"github.com/lifecycle-api/lifecycle/shared/interview"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// Get reads one session with a strongly consistent GetItem, so a read that follows a
// transition sees it. A missing session is lifecycle.ErrNotFound.
func (s *Interviews) Get(ctx context.Context, id string) (interview.Session, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            interviewKey(id),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return interview.Session{}, storeError("get interview", err)
	}
	if len(out.Item) == 0 {
		return interview.Session{}, lifecycle.ErrNotFound
	}
	return SessionFromItem(out.Item)
}

// List returns one page of an owner's sessions, newest createdAt first, with a single
// Query on byOwner (or byOwnerStatus when a status is asked for). The indexes hold session
// summaries (SummaryAttributes), so the sessions listed have no RecentMessages. The
// query's partition is always the caller's own; a cursor only says where in it to continue.
func (s *Interviews) List(ctx context.Context, q interview.ListQuery) (interview.Page, error) {
	index, partAttr, partValue := IndexByOwner, attr.OwnerID, q.Owner
	if q.Status != "" {
		index, partAttr, partValue = IndexByOwnerStatus, attr.OwnerStatus, ownerStatus(q.Owner, q.Status)
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(index),
		KeyConditionExpression:    aws.String("#p = :p"),
		ExpressionAttributeNames:  map[string]string{"#p": partAttr},
		ExpressionAttributeValues: map[string]types.AttributeValue{":p": sAV(partValue)},
		ScanIndexForward:          aws.Bool(false),
		// One more than the page: if it comes back, there is a next page, and we never
		// hand out a cursor that leads to an empty page.
		Limit: aws.Int32(int32(q.Limit) + 1),
	}
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil || c.Listing != listingOf(q) {
			return interview.Page{}, lifecycle.ErrInvalidCursor
		}
		start := interviewKey(c.ID)
		start[partAttr] = sAV(partValue)
		start[attr.CreatedAt] = sAV(c.CreatedAt)
		in.ExclusiveStartKey = start
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return interview.Page{}, storeError("list interviews", err)
	}
	page := interview.Page{Items: make([]interview.Session, 0, min(len(out.Items), q.Limit))}
	for i, it := range out.Items {
		if i == q.Limit {
			break
		}
		sess, err := SessionFromItem(it)
		if err != nil {
			return interview.Page{}, err
		}
		page.Items = append(page.Items, sess)
	}
	// More remains when the extra item came back, or when DynamoDB stopped early (1 MB).
	if len(out.Items) > q.Limit || (len(out.LastEvaluatedKey) > 0 && len(page.Items) > 0) {
		last := page.Items[len(page.Items)-1]
		page.Next = encodeCursor(cursor{CreatedAt: lifecycle.FormatTime(last.CreatedAt), ID: last.ID, Listing: listingOf(q)})
	}
	return page, nil
}

// cursor is where a listing stopped: the last item's sort key and id, and which listing
// (caller and status filter) issued it. It is opaque to clients (base64url JSON); the
// partition always comes from the caller, never from it, and a cursor another listing
// issued is refused rather than silently continuing this one from a foreign position.
// (Cursors of the earlier design, sorted by updatedAt, had "u" instead of "c"; they are
// refused as invalid rather than read as a creation time.)
type cursor struct {
	CreatedAt string `json:"c"`
	ID        string `json:"i"`
	Listing   string `json:"l"`
}

// listingOf names the listing q asks for, as its cursors carry it.
func listingOf(q interview.ListQuery) string {
	sum := sha256.Sum256([]byte(q.Owner + "\x00" + string(q.Status)))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string) (cursor, error) {
	var c cursor
	if len(s) > 256 {
		return c, lifecycle.ErrInvalidCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil {
		return c, lifecycle.ErrInvalidCursor
	}
	if _, err := time.Parse(lifecycle.TimeLayout, c.CreatedAt); err != nil || !isStoredID(c.ID) {
		return c, lifecycle.ErrInvalidCursor
	}
	return c, nil
}

// isStoredID reports whether id is a lower-case canonical UUID, as ids are stored.
func isStoredID(id string) bool {
	canonical, ok := lifecycle.ParseID(id)
	return ok && canonical == id
}
