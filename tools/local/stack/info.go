package stack

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	"github.com/lifecycle-api/lifecycle/shared/config"
	"github.com/lifecycle-api/lifecycle/tools/local/wiring"
	"github.com/lifecycle-api/lifecycle/tools/repo"
)

// Info is what clients of a running stack need (`make invoke`, `make events` and
// `make reset` read it from .local/stack.json while `make run` runs).
type Info struct {
	// API is the local API's base URL, as `make run` serves it.
	API        string `json:"api,omitempty"`
	DynamoDB   string `json:"dynamodb"`
	Moto       string `json:"moto"`
	Table      string `json:"table"`
	AuditTable string `json:"auditTable"`
	LiveTable  string `json:"liveTable"`
	Bus        string `json:"bus"`
	// Connections is the live channel's @connections management endpoint.
	Connections string `json:"connections"`
	// ResumeGroup is the schedule group (in moto's EventBridge Scheduler, at Moto) the
	// planned resumes go in; ResumeDLQ the ARN of the queue they are dead-lettered to.
	ResumeGroup string `json:"resumeGroup,omitempty"`
	ResumeDLQ   string `json:"resumeDeadLetterArn,omitempty"`
}

// The local stack's region and fake credentials (the access key is also the secret).
// moto keeps one set of tables per account and region: every client uses these.
const (
	Region    = "us-east-1"
	AccessKey = "local"
)

// Env is the environment a function process needs to run against the stack described by
// i: fake credentials, the endpoints, and its tables and bus.
func (i Info) Env() []string {
	return append([]string{
		"AWS_ACCESS_KEY_ID=" + AccessKey, "AWS_SECRET_ACCESS_KEY=" + AccessKey, "AWS_REGION=" + Region, "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ENDPOINT_URL_DYNAMODB=" + i.DynamoDB, "AWS_ENDPOINT_URL_DYNAMODB_STREAMS=" + i.DynamoDB,
		"AWS_ENDPOINT_URL_EVENTBRIDGE=" + i.Moto, "AWS_ENDPOINT_URL_SQS=" + i.Moto,
		"TABLE_NAME=" + i.Table, "AUDIT_TABLE_NAME=" + i.AuditTable, "EVENT_BUS_NAME=" + i.Bus,
		"AUDIT_RETENTION_DAYS=0",
		"LIVE_TABLE_NAME=" + i.LiveTable, "AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI=" + i.Connections,
		"AWS_ENDPOINT_URL_SCHEDULER=" + i.Moto, config.ResumeScheduleGroup + "=" + i.ResumeGroup,
		config.ResumeTargetARN + "=" + wiring.ResumeScheduledARN, config.ResumeSchedulerRoleARN + "=" + wiring.ResumeSchedulerRoleARN,
		config.ResumeDeadLetterARN + "=" + i.ResumeDLQ,
	}, wiring.Env(wiring.Defaults())...)
}

// ErrNotRunning is returned by clients of a local stack that is not up.
var ErrNotRunning = errors.New("the local stack is not running (start it with `make run`)")

// InfoFile is where `make run` records the running stack's Info.
func InfoFile() (string, error) { return repo.Path(".local", "stack.json") }

// Running returns the Info of the stack `make run` is serving, or ErrNotRunning when none
// answers.
func Running() (Info, error) {
	var info Info
	path, err := InfoFile()
	if err != nil {
		return info, err
	}
	raw, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(raw, &info) != nil {
		return info, ErrNotRunning
	}
	for _, endpoint := range []string{info.API, info.DynamoDB} {
		if endpoint == "" {
			continue
		}
		u, err := url.Parse(endpoint)
		if err != nil {
			return info, ErrNotRunning
		}
		conn, err := net.DialTimeout("tcp", u.Host, 300*time.Millisecond)
		if err != nil {
			return info, fmt.Errorf("%w (.local/stack.json names %s, which does not answer)", ErrNotRunning, endpoint)
		}
		conn.Close()
	}
	return info, nil
}
