package dynamo

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// Items are read and written by hand, attribute by attribute: no reflection in the hot
// path, and a wrong type in a stored item is a clear error instead of a silent zero.

// item is a DynamoDB item being read; the first type error sticks and is reported by err.
type item struct {
	m   map[string]types.AttributeValue
	err error
}

func (it *item) fail(name, want string) {
	if it.err == nil {
		it.err = fmt.Errorf("attribute %q is not %s", name, want)
	}
}

func (it *item) str(name string) string {
	switch v := it.m[name].(type) {
	case nil:
		return ""
	case *types.AttributeValueMemberS:
		return v.Value
	default:
		it.fail(name, "a string")
		return ""
	}
}

func (it *item) num(name string) float64 {
	switch v := it.m[name].(type) {
	case nil:
		return 0
	case *types.AttributeValueMemberN:
		f, err := strconv.ParseFloat(v.Value, 64)
		if err != nil {
			it.fail(name, "a number")
		}
		return f
	default:
		it.fail(name, "a number")
		return 0
	}
}

func (it *item) optNum(name string) *float64 {
	if _, ok := it.m[name]; !ok {
		return nil
	}
	f := it.num(name)
	return &f
}

func (it *item) int(name string) int64 {
	switch v := it.m[name].(type) {
	case nil:
		return 0
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err != nil {
			it.fail(name, "an integer")
		}
		return n
	default:
		it.fail(name, "an integer")
		return 0
	}
}

func (it *item) time(name string) time.Time {
	s := it.str(name)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		it.fail(name, "an RFC 3339 timestamp")
	}
	return t
}

// epoch reads a time stored as whole seconds since the epoch (zero when absent).
func (it *item) epoch(name string) time.Time {
	if _, ok := it.m[name]; !ok {
		return time.Time{}
	}
	return time.Unix(it.int(name), 0).UTC()
}

// strings reads a string set or a list of strings.
func (it *item) strings(name string) []string {
	switch v := it.m[name].(type) {
	case nil:
		return nil
	case *types.AttributeValueMemberSS:
		return v.Value
	case *types.AttributeValueMemberL:
		out := make([]string, 0, len(v.Value))
		for _, e := range v.Value {
			s, ok := e.(*types.AttributeValueMemberS)
			if !ok {
				it.fail(name, "a list of strings")
				return nil
			}
			out = append(out, s.Value)
		}
		return out
	default:
		it.fail(name, "a list of strings")
		return nil
	}
}

func (it *item) mapAttr(name string) (map[string]types.AttributeValue, bool) {
	switch v := it.m[name].(type) {
	case nil:
		return nil, false
	case *types.AttributeValueMemberM:
		return v.Value, true
	default:
		it.fail(name, "a map")
		return nil, false
	}
}

// Writers. Empty optional values are left out of the item.

func sAV(s string) types.AttributeValue { return &types.AttributeValueMemberS{Value: s} }

// nAV is a number as DynamoDB stores it. DynamoDB holds magnitudes down to 1E-130 only (a
// smaller one is a ValidationException); below that a value is stored as 0, the nearest it
// can hold.
func nAV(f float64) types.AttributeValue {
	if math.Abs(f) < minNumber {
		f = 0
	}
	return &types.AttributeValueMemberN{Value: strconv.FormatFloat(f, 'f', -1, 64)}
}

// minNumber is the smallest magnitude DynamoDB's numbers hold, besides 0.
const minNumber = 1e-130

func iAV(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func listAV(ss []string) types.AttributeValue {
	l := make([]types.AttributeValue, len(ss))
	for i, s := range ss {
		l[i] = sAV(s)
	}
	return &types.AttributeValueMemberL{Value: l}
}

type itemWriter map[string]types.AttributeValue

func (w itemWriter) str(name, v string) {
	if v != "" {
		w[name] = sAV(v)
	}
}

func (w itemWriter) time(name string, t time.Time) {
	if !t.IsZero() {
		w[name] = sAV(lifecycle.FormatTime(t))
	}
}

// epoch writes t as whole seconds since the epoch (a TTL attribute's form).
func (w itemWriter) epoch(name string, t time.Time) {
	if !t.IsZero() {
		w[name] = iAV(t.Unix())
	}
}

func (w itemWriter) list(name string, v []string) {
	if len(v) > 0 {
		w[name] = listAV(v)
	}
}

func (w itemWriter) optNum(name string, v *float64) {
	if v != nil {
		w[name] = nAV(*v)
	}
}
