// Package metrics turns a JSON log line into a CloudWatch Embedded Metric Format (EMF)
// document: Lambda ships the line with the logs and CloudWatch extracts the metrics from
// it, with no API call and nothing on the request path but the log line that was written
// anyway.
package metrics

import (
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

// EMF returns the "_aws" attribute declaring metrics, dimensioned by the top-level fields
// named in dimensions. The line must also carry every dimension and metric as a field.
func EMF(now time.Time, dimensions []string, ms ...Metric) slog.Attr {
	return EMFSets(now, [][]string{dimensions}, ms...)
}

// EMFSets is EMF with several dimension sets: CloudWatch extracts each metric once per
// set (a set of fewer dimensions aggregates over the others, for an alarm that must not
// list every function).
func EMFSets(now time.Time, sets [][]string, ms ...Metric) slog.Attr {
	defs := make([]map[string]string, len(ms))
	for i, m := range ms {
		defs[i] = map[string]string{"Name": m.Name, "Unit": m.Unit}
	}
	return slog.Group("_aws",
		slog.Int64("Timestamp", now.UnixMilli()),
		slog.Any("CloudWatchMetrics", []map[string]any{{
			"Namespace":  Namespace,
			"Dimensions": sets,
			"Metrics":    defs,
		}}),
	)
}
