package dynamo

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/dynamo/attr"
	"github.com/lifecycle-api/lifecycle/shared/job"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// The dispatchers' board (GET /jobs): one sparse index, byBoardTime, whose partition is the
// same for every job (attr.Board) and whose sort key is the job's board time and id
// (attr.BoardAt). Every job write sets the job's entry in its own update (setBoard), so the
// board never disagrees with a write that committed; the entry holds a copy of the job's
// assignment, so a page is one Query with no read of the jobs' partitions.
// docs/data-model.md, "Listing jobs".

// boardAt is a job's sort key on the board: its board time, then its id (the key is unique,
// and a cursor names one job).
func boardAt(j job.Job) string { return lifecycle.FormatTime(job.BoardTime(j)) + "#" + j.ID }

// boardEntry is the job's board attributes, as a whole item carries them (JobItem).
func boardEntry(j job.Job) map[string]types.AttributeValue {
	m := map[string]types.AttributeValue{attr.Board: sAV(attr.BoardJobs), attr.BoardAt: sAV(boardAt(j))}
	if j.Assignment != nil {
		m[attr.BoardAssignment] = boardAssignmentAV(*j.Assignment)
	}
	return m
}

// setBoard adds the job's board attributes, as after (the job as the write leaves it) has
// them, to a job write. A job without an assignment keeps whatever copy it has (none).
func setBoard(e *expr, after job.Job) {
	e.set(attr.Board, sAV(attr.BoardJobs))
	e.set(attr.BoardAt, sAV(boardAt(after)))
	if after.Assignment != nil {
		e.set(attr.BoardAssignment, boardAssignmentAV(*after.Assignment))
	}
}

// boardAssignmentAV is the copy of an assignment a job's board entry holds: what the API
// says of a job's assignment.
func boardAssignmentAV(a job.Assignment) types.AttributeValue {
	w := itemWriter{}
	w[attr.ID] = sAV(a.ID)
	w.str(attr.TechnicianID, a.TechnicianID)
	w.time(attr.ScheduledStart, a.ScheduledStart)
	w.time(attr.ScheduledEnd, a.ScheduledEnd)
	w[attr.Status] = sAV(string(a.Status))
	w[attr.Version] = iAV(a.Version)
	w.time(attr.CancelledAt, a.CancelledAt)
	return &types.AttributeValueMemberM{Value: w}
}

// jobFromBoard decodes a board entry: the job with the copy of its assignment.
func jobFromBoard(m map[string]types.AttributeValue) (job.Job, error) {
	j, err := JobFromItem(m)
	if err != nil {
		return job.Job{}, err
	}
	if v, ok := m[attr.BoardAssignment].(*types.AttributeValueMemberM); ok {
		it := &item{m: v.Value}
		a := job.Assignment{
			ID:             it.str(attr.ID),
			JobID:          j.ID,
			TechnicianID:   it.str(attr.TechnicianID),
			ScheduledStart: it.time(attr.ScheduledStart),
			ScheduledEnd:   it.time(attr.ScheduledEnd),
			Status:         job.AssignmentStatus(it.str(attr.Status)),
			Version:        it.int(attr.Version),
			CancelledAt:    it.time(attr.CancelledAt),
		}
		if it.err == nil && (a.ID == "" || a.Status == "") {
			it.err = errors.New("no id or status")
		}
		if it.err != nil {
			return job.Job{}, fmt.Errorf("decode job %q: its board assignment: %w", j.ID, it.err)
		}
		j.Assignment = &a
	}
	return j, nil
}

// Listing reads: how many entries one Query of a filtered listing evaluates at most, and
// how many Queries one page may take. An unfiltered page is one Query of limit+1 entries; a
// status filter is applied to the entries DynamoDB reads (a FilterExpression: they are
// billed whether they match or not), so a page of a rare status in a long span stops after
// maxBoardQueries and is answered short, with a cursor to go on from.
const (
	boardFilteredRead = 100
	maxBoardQueries   = 4
)

// List returns one page of the board: jobs in board-time order, earliest first, with Query
// on byBoardTime (between q.From and q.To when given), filtered to q.Status when given.
func (s *Jobs) List(ctx context.Context, q job.ListQuery) (job.Page, error) {
	listing := boardListingOf(q)
	names := map[string]string{"#b": attr.Board}
	values := map[string]types.AttributeValue{":b": sAV(attr.BoardJobs)}
	cond := "#b = :b"
	// A key "<time>#<id>" is at or after "<from>" when its time is, and before "<to>" when
	// its time is (the id's "#" sorts after the end of a bare time).
	switch from, to := q.From, q.To; {
	case !from.IsZero() && !to.IsZero():
		cond += " AND #at BETWEEN :from AND :to"
		values[":from"], values[":to"] = sAV(lifecycle.FormatTime(from)), sAV(lifecycle.FormatTime(to))
	case !from.IsZero():
		cond += " AND #at >= :from"
		values[":from"] = sAV(lifecycle.FormatTime(from))
	case !to.IsZero():
		cond += " AND #at < :to"
		values[":to"] = sAV(lifecycle.FormatTime(to))
	}
	if len(values) > 1 {
		names["#at"] = attr.BoardAt
	}
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(IndexByBoardTime),
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
		ScanIndexForward:          aws.Bool(true),
		// One more than the page: if it comes back, there is a next page.
		Limit: aws.Int32(int32(q.Limit) + 1),
	}
	if q.Status != "" {
		in.FilterExpression = aws.String("#st = :st")
		names["#st"] = attr.Status
		values[":st"] = sAV(string(q.Status))
		in.Limit = aws.Int32(int32(max(q.Limit+1, boardFilteredRead)))
	}
	if q.Cursor != "" {
		at, err := decodeBoardCursor(q.Cursor, listing)
		if err != nil {
			return job.Page{}, err
		}
		in.ExclusiveStartKey = boardKey(at)
	}
	var (
		page job.Page
		// last is the sort key of the last entry the queries evaluated.
		last string
	)
	for n := 0; ; n++ {
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return job.Page{}, storeError("list jobs", err)
		}
		for _, m := range out.Items {
			if len(page.Items) == q.Limit {
				// The extra entry: there is a next page, after the last one returned.
				page.Next = encodeBoardCursor(boardAt(page.Items[q.Limit-1]), listing)
				return page, nil
			}
			j, err := jobFromBoard(m)
			if err != nil {
				return job.Page{}, err
			}
			page.Items = append(page.Items, j)
		}
		if len(out.LastEvaluatedKey) == 0 {
			return page, nil
		}
		last = (&item{m: out.LastEvaluatedKey}).str(attr.BoardAt)
		if n+1 == maxBoardQueries || last == "" {
			// A short page: the entries read so far held fewer matches than a page.
			page.Next = encodeBoardCursor(last, listing)
			return page, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// boardKey is the index key of the entry whose sort key is at: the board's partition, at,
// and the job's table key (the id after the "#").
func boardKey(at string) map[string]types.AttributeValue {
	_, id, _ := strings.Cut(at, "#")
	k := jobKey(id)
	k[attr.Board] = sAV(attr.BoardJobs)
	k[attr.BoardAt] = sAV(at)
	return k
}

// boardCursor is where a page of the board stopped: the sort key of the last entry it
// evaluated, and which listing (status and span) issued it. Opaque to clients (base64url
// JSON); one from another listing is refused rather than continued from a foreign place.
type boardCursor struct {
	At      string `json:"a"`
	Listing string `json:"l"`
}

func boardListingOf(q job.ListQuery) string {
	sum := sha256.Sum256([]byte("board\x00" + string(q.Status) + "\x00" + optFormat(q.From) + "\x00" + optFormat(q.To)))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

func optFormat(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return lifecycle.FormatTime(t)
}

func encodeBoardCursor(at, listing string) string {
	b, _ := json.Marshal(boardCursor{At: at, Listing: listing})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeBoardCursor returns the sort key a cursor of listing continues after, or
// lifecycle.ErrInvalidCursor.
func decodeBoardCursor(s, listing string) (string, error) {
	var c boardCursor
	if len(s) > 256 {
		return "", lifecycle.ErrInvalidCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.Listing != listing {
		return "", lifecycle.ErrInvalidCursor
	}
	at, id, ok := strings.Cut(c.At, "#")
	if _, err := time.Parse(lifecycle.TimeLayout, at); err != nil || !ok || !isStoredID(id) {
		return "", lifecycle.ErrInvalidCursor
	}
	return c.At, nil
}
