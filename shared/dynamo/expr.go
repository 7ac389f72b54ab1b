package dynamo

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// expr collects the placeholders of one request's expressions. Every attribute name goes
// through a #placeholder, so reserved words (status, version, …) never need thought, and
// every value through a :placeholder. It does no reflection.
type expr struct {
	names   map[string]string
	values  map[string]types.AttributeValue
	sets    []string
	removes []string
}

func newExpr() *expr {
	return &expr{names: map[string]string{}, values: map[string]types.AttributeValue{}}
}

// name returns the placeholder for attribute a.
func (e *expr) name(a string) string {
	k := "#" + a
	e.names[k] = a
	return k
}

// value returns a fresh placeholder for v.
func (e *expr) value(v types.AttributeValue) string {
	k := ":v" + strconv.Itoa(len(e.values))
	e.values[k] = v
	return k
}

// set adds "attr = v" to the SET clause.
func (e *expr) set(attr string, v types.AttributeValue) {
	e.sets = append(e.sets, e.name(attr)+" = "+e.value(v))
}

// setFrom adds "attr = other", copying another attribute's value before the update.
func (e *expr) setFrom(attr, other string) {
	e.sets = append(e.sets, e.name(attr)+" = "+e.name(other))
}

// setFromOr adds "attr = if_not_exists(other, fallback)": another attribute's value before
// the update, or the value placeholder fallback when the item has no such attribute.
func (e *expr) setFromOr(attr, other, fallback string) {
	e.sets = append(e.sets, e.name(attr)+" = if_not_exists("+e.name(other)+", "+fallback+")")
}

// increment adds "attr = attr + 1" to the SET clause.
func (e *expr) increment(attr string) {
	n := e.name(attr)
	e.sets = append(e.sets, n+" = "+n+" + "+e.value(&types.AttributeValueMemberN{Value: "1"}))
}

// remove adds attr to the REMOVE clause.
func (e *expr) remove(attr string) {
	e.removes = append(e.removes, e.name(attr))
}

// update renders the SET and REMOVE clauses.
func (e *expr) update() string {
	u := "SET " + strings.Join(e.sets, ", ")
	if len(e.removes) > 0 {
		u += " REMOVE " + strings.Join(e.removes, ", ")
	}
	return u
}

// notContains renders "NOT contains(attr, v)" (true when attr is absent).
func (e *expr) notContains(attr string, v types.AttributeValue) string {
	return "NOT contains(" + e.name(attr) + ", " + e.value(v) + ")"
}

// equals renders "attr = v".
func (e *expr) equals(attr string, v types.AttributeValue) string {
	return e.name(attr) + " = " + e.value(v)
}

// in renders "attr IN (v1, v2, …)" over string values.
func (e *expr) in(attr string, vals []string) string {
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = e.value(&types.AttributeValueMemberS{Value: v})
	}
	return e.name(attr) + " IN (" + strings.Join(ph, ", ") + ")"
}

func and(conds ...string) string { return strings.Join(conds, " AND ") }
