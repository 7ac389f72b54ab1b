//go:build lifecycle_extra_transition

package interview

import (
	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/shared/lifecycle"
)

// Hold is a transition added to the declaration and to nothing else, as a newcomer would
// add one: compiled only into the build of tests/mechanism, which checks that it is served
// end to end and that the tests name every place it still needs (ARCHITECTURE.md, "Adding
// a transition").
var Hold = Transition{
	Rule:      lifecycle.Rule[Status]{Action: "hold", From: []Status{Active}, To: Paused},
	Who:       Who{Owner: true},
	StampedAt: "pausedAt",
	Event:     event.TypeInterviewPaused,
	Endpoint:  lifecycle.Endpoint{Function: "hold-interview", Paths: []string{"/interviews/{id}/hold"}},
	Refusals:  lifecycle.Refusals{NotFound: "Interview session not found", Default: "Only an active interview can be held"},
}

func init() { Transitions = append(Transitions, Hold) }
