// Package metrics turns a JSON log line into a CloudWatch Embedded Metric Format (EMF)
// document: Lambda ships the line with the logs and CloudWatch extracts the metrics from
// it, with no API call and nothing on the request path but the log line that was written
// anyway.
package metrics

import (
	"encoding/json"
	"log/slog"
	"time"
)

// Namespace is where the metrics land in CloudWatch.
const Namespace = "Lifecycle"

// Metric names a value the line carries (as a top-level field of the same name) and its
// unit ("Count", "Milliseconds").
type Metric struct {
	Name string
	Unit string
}

// EMF declares metrics, dimensioned by top-level fields. Build it once (NewEMF, NewEMFSets);
// Attr is all a log line pays for it.
type EMF struct {
	declaration json.RawMessage
}

// NewEMF declares ms, dimensioned by the top-level fields named in dimensions. The lines
// that carry its Attr must also carry every dimension and metric as a field.
func NewEMF(dimensions []string, ms ...Metric) EMF {
	return NewEMFSets([][]string{dimensions}, ms...)
}

// NewEMFSets is NewEMF with several dimension sets: CloudWatch extracts each metric once
// per set (a set of fewer dimensions aggregates over the others, for an alarm that must not
// list every function).
func NewEMFSets(sets [][]string, ms ...Metric) EMF {
	defs := make([]map[string]string, len(ms))
	for i, m := range ms {
		defs[i] = map[string]string{"Name": m.Name, "Unit": m.Unit}
	}
	// Maps of strings and slices of strings always marshal.
	b, _ := json.Marshal([]map[string]any{{
		"Namespace":  Namespace,
		"Dimensions": sets,
		"Metrics":    defs,
	}})
	return EMF{declaration: b}
}

// Attr returns the "_aws" attribute of a line written at now: the timestamp, and the
// declaration rendered once by NewEMF.
func (e EMF) Attr(now time.Time) slog.Attr {
	return slog.Group("_aws",
		slog.Int64("Timestamp", now.UnixMilli()),
		slog.Any("CloudWatchMetrics", e.declaration),
	)
}
