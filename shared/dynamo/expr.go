package dynamo

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// expr collects the placeholders of one request's expressions. Every attribute name goes
// through a #placeholder, so reserved words (status, version, …) never need thought, and
// every value through a :placeholder. It does no reflection.
//
// An expression's strings and names depend only on its shape (which clauses it has), its
// values on the request. An expr made by reusing a compiled expression of the same shape
// collects the values alone, under the compiled placeholders, and renders nothing: what a
// store compiled once is not built again for every request (compiled).
type expr struct {
	names   map[string]string
	values  map[string]types.AttributeValue
	sets    []string
	removes []string
	// keys, when reusing, are the compiled expression's value placeholders in the order
	// its values were made.
	keys    []string
	reusing bool
}

func newExpr() *expr {
	return &expr{names: map[string]string{}, values: map[string]types.AttributeValue{}}
}

// name returns the placeholder for attribute a.
func (e *expr) name(a string) string {
	if e.reusing {
		return ""
	}
	k := "#" + a
	e.names[k] = a
	return k
}

// value returns a fresh placeholder for v.
func (e *expr) value(v types.AttributeValue) string {
	if e.reusing {
		e.values[e.keys[len(e.values)]] = v
		return ""
	}
	k := ":v" + strconv.Itoa(len(e.values))
	e.values[k] = v
	return k
}

// set adds "attr = v" to the SET clause.
func (e *expr) set(attr string, v types.AttributeValue) {
	n, p := e.name(attr), e.value(v)
	if !e.reusing {
		e.sets = append(e.sets, n+" = "+p)
	}
}

// setFrom adds "attr = other", copying another attribute's value before the update.
func (e *expr) setFrom(attr, other string) {
	if !e.reusing {
		e.sets = append(e.sets, e.name(attr)+" = "+e.name(other))
	}
}

// setFromOr adds "attr = if_not_exists(other, fallback)": another attribute's value before
// the update, or the value placeholder fallback when the item has no such attribute.
func (e *expr) setFromOr(attr, other, fallback string) {
	if !e.reusing {
		e.sets = append(e.sets, e.name(attr)+" = if_not_exists("+e.name(other)+", "+fallback+")")
	}
}

// increment adds "attr = attr + 1" to the SET clause.
func (e *expr) increment(attr string) {
	n, one := e.name(attr), e.value(&types.AttributeValueMemberN{Value: "1"})
	if !e.reusing {
		e.sets = append(e.sets, n+" = "+n+" + "+one)
	}
}

// remove adds attr to the REMOVE clause.
func (e *expr) remove(attr string) {
	if !e.reusing {
		e.removes = append(e.removes, e.name(attr))
	}
}

// update renders the SET and REMOVE clauses.
func (e *expr) update() string {
	u := "SET " + strings.Join(e.sets, ", ")
	if len(e.removes) > 0 {
		u += " REMOVE " + strings.Join(e.removes, ", ")
	}
	return u
}

// equals renders "attr = v".
func (e *expr) equals(attr string, v types.AttributeValue) string {
	n, p := e.name(attr), e.value(v)
	if e.reusing {
		return ""
	}
	return n + " = " + p
}

// in renders "attr IN (v1, v2, …)" over string values.
func (e *expr) in(attr string, vals []string) string {
	if e.reusing {
		for _, v := range vals {
			e.value(&types.AttributeValueMemberS{Value: v})
		}
		return ""
	}
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = e.value(&types.AttributeValueMemberS{Value: v})
	}
	return e.name(attr) + " IN (" + strings.Join(ph, ", ") + ")"
}

// and renders its conditions joined by AND.
func (e *expr) and(conds ...string) string {
	if e.reusing {
		return ""
	}
	return strings.Join(conds, " AND ")
}

// compiled is an expression rendered once for its shape: the strings and names every
// request of that shape shares (DynamoDB's client only reads them), and the placeholders
// its values take.
type compiled struct {
	update, condition string
	names             map[string]string
	keys              []string
}

// compile keeps what e rendered, with cond its condition.
func compile(e *expr, cond string) *compiled {
	c := &compiled{update: e.update(), condition: cond, names: e.names, keys: make([]string, len(e.values))}
	for i := range c.keys {
		c.keys[i] = ":v" + strconv.Itoa(i)
	}
	return c
}

// start returns the expr to build a write of c's shape into: one that replays c, or, when
// there is no c (a shape nobody compiled), a fresh one.
func (c *compiled) start() *expr {
	if c == nil {
		return newExpr()
	}
	return &expr{values: make(map[string]types.AttributeValue, len(c.keys)), keys: c.keys, reusing: true}
}

// rendered is a write's expressions, as an UpdateItem (or a transaction's Update) takes
// them.
type rendered struct {
	update, condition string
	names             map[string]string
	values            map[string]types.AttributeValue
}

// render returns the write e holds, with cond its condition: the strings and names c
// rendered and the values e collected, or all of it rendered from e when there is no c.
func (c *compiled) render(e *expr, cond string) rendered {
	if c == nil {
		return rendered{e.update(), cond, e.names, e.values}
	}
	return rendered{c.update, c.condition, c.names, e.values}
}

// requestShapes calls f with a request of every shape: with and without a reason, a
// correlation id and a score (sample values; only their presence shapes a write).
func requestShapes(f func(reason, correlationID string, score *float64)) {
	one := 1.0
	for _, reason := range []string{"", "r"} {
		for _, corr := range []string{"", "c"} {
			for _, score := range []*float64{nil, &one} {
				f(reason, corr, score)
			}
		}
	}
}
