package template

import (
	"slices"
	"testing"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/shared/event"
	"github.com/lifecycle-api/lifecycle/tools/cfntemplate"
)

// TestTheResumeTimerIsWiredAsDocumented: only pauses with resumeAt reach the planner; its
// schedules go in the stack's own group, invoke resume-scheduled's alias live as a role that
// may do exactly that (and dead-letter), and the role is the only one the planner may pass.
func TestTheResumeTimerIsWiredAsDocumented(t *testing.T) {
	tpl := load(t)
	res := func(id string) func(...string) string {
		return func(path ...string) string {
			return scalar(get(tpl.Root, append([]string{"Resources", id}, path...)...))
		}
	}
	pattern := get(tpl.Root, "Resources", "PlanResumeRule", "Properties", "EventPattern")
	if types := cfntemplate.Scalars(get(pattern, "detail-type")); !slices.Equal(types, []string{event.TypeInterviewPaused}) || get(pattern, "detail", "resumeAt") == nil {
		t.Errorf("PlanResumeRule must select InterviewPaused events with resumeAt, not %v", types)
	}
	targets := get(tpl.Root, "Resources", "PlanResumeRule", "Properties", "Targets").Content
	if len(targets) != 1 || scalar(get(targets[0], "Arn")) != "!Ref PlanResumeFunction.Alias" {
		t.Error("PlanResumeRule must invoke plan-resume's alias live, and only it")
	}
	alias := "!Sub arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:${ResumeScheduledFunction}:live"
	env := func(k string) string { return res("PlanResumeFunction")("Properties", "Environment", "Variables", k) }
	if env(config.ResumeTargetARN) != alias || env(config.ResumeSchedulerRoleARN) != "!GetAtt ResumeSchedulerRole.Arn" ||
		env(config.ResumeScheduleGroup) != "!Ref ResumeScheduleGroup" || env(config.ResumeDeadLetterARN) != "!GetAtt ResumeDLQ.Arn" {
		t.Errorf("plan-resume's schedules must target %s as ResumeSchedulerRole, in ResumeScheduleGroup, dead-lettering to ResumeDLQ", alias)
	}
	assume := get(tpl.Root, "Resources", "ResumeSchedulerRole", "Properties", "AssumeRolePolicyDocument", "Statement").Content
	if len(assume) != 1 || scalar(get(assume[0], "Principal", "Service")) != "scheduler.amazonaws.com" ||
		scalar(get(assume[0], "Condition", "StringEquals", "aws:SourceAccount")) != "!Ref AWS::AccountId" {
		t.Error("only EventBridge Scheduler, for this account, may assume ResumeSchedulerRole")
	}
	policies := get(tpl.Root, "Resources", "ResumeSchedulerRole", "Properties", "Policies").Content
	if len(policies) != 1 {
		t.Fatalf("ResumeSchedulerRole has %d policies, want 1", len(policies))
	}
	got := map[string]string{}
	for _, st := range get(policies[0], "PolicyDocument", "Statement").Content {
		got[scalar(get(st, "Action"))] = scalar(get(st, "Resource"))
	}
	want := map[string]string{"lambda:InvokeFunction": alias, "sqs:SendMessage": "!GetAtt ResumeDLQ.Arn"}
	if len(got) != len(want) || got["lambda:InvokeFunction"] != want["lambda:InvokeFunction"] || got["sqs:SendMessage"] != want["sqs:SendMessage"] {
		t.Errorf("ResumeSchedulerRole may %v, want exactly %v", got, want)
	}
}
