package preflight

import (
	"fmt"
	"strings"

	"github.com/lifecycle-api/lifecycle/tools/cfntemplate"
)

// Template is what the checks read from template.yaml.
type Template struct {
	// Defaults are the parameters' defaults, by name (the value a deploy uses when the
	// environment gives none).
	Defaults map[string]string
	// AlarmTopic is the logical id of the topic the AlarmEmail parameter is subscribed to.
	AlarmTopic string
}

// ReadTemplate finds in the template at path the parameters' defaults and the alarm topic:
// the topic of the AWS::SNS::Subscription whose Endpoint is !Ref AlarmEmail.
func ReadTemplate(path string) (Template, error) {
	t := Template{Defaults: map[string]string{}}
	tpl, err := cfntemplate.Load(path)
	if err != nil {
		return t, err
	}
	ps := cfntemplate.Get(tpl.Root, "Parameters")
	if ps == nil {
		return t, fmt.Errorf("the template has no Parameters")
	}
	for i := 0; i+1 < len(ps.Content); i += 2 {
		if d := cfntemplate.Get(ps.Content[i+1], "Default"); d != nil {
			t.Defaults[ps.Content[i].Value] = cfntemplate.Scalar(d)
		}
	}
	var topics []string
	subs := tpl.Resources("AWS::SNS::Subscription")
	for _, id := range cfntemplate.SortedKeys(subs) {
		sub := subs[id]
		if cfntemplate.Scalar(cfntemplate.Get(sub, "Properties", "Endpoint")) != "!Ref AlarmEmail" {
			continue
		}
		topic, ok := strings.CutPrefix(cfntemplate.Scalar(cfntemplate.Get(sub, "Properties", "TopicArn")), "!Ref ")
		if !ok {
			return t, fmt.Errorf("subscription %s names its topic otherwise than by !Ref", id)
		}
		topics = append(topics, topic)
	}
	if len(topics) != 1 {
		return t, fmt.Errorf("the template has %d subscriptions of AlarmEmail, want one (its topic is the alarm topic)", len(topics))
	}
	t.AlarmTopic = topics[0]
	return t, nil
}
