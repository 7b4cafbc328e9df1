package remediate

import (
	"fmt"

	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// nextSteps is what a person should do after runmedic's remedy: the runbook's code-level fix for
// the diagnosis. runmedic buys time; these remove the cause.
func nextSteps(d decision.Diagnosis, t snapshot.Target) []string {
	switch d {
	case decision.Regression:
		return []string{
			"find what the rolled-back revision changed: the code and dependency updates since the previous image (git log, requirements/go.sum diffs)",
			"reproduce with a memory profiler (tracemalloc, memory_profiler, pprof) and fix the leak; if a library update caused it, pin the last known-good version",
			fmt.Sprintf("deploy the fix, then release runmedic's traffic pin: runmedic unpin --service %s", t.Name()),
		}
	case decision.GradualGrowth:
		return []string{
			"look for unbounded caches (add maxsize or a TTL, or move them to Redis), growing lists, unclosed file handles and async tasks never awaited",
			"a restart or a stopgap raise only buys time: memory grows back until the code is fixed",
		}
	case decision.InsufficientMemory:
		return []string{
			"load test with realistic data sizes and set the limit from the measurement: about 256 MB per instance plus 50 MB per concurrent request",
			"if memory per request can shrink (streaming, smaller buffers), lower the limit again afterwards",
		}
	case decision.RequestSpike:
		return []string{
			"stream large request and response bodies instead of reading them whole; reject oversized requests (413) at a bound",
			"keep max_concurrency at the safe value until large requests are streamed",
		}
	case decision.Recovered:
		return nil
	}
	return []string{"follow RUNBOOK-memory-oom: read the OOM log lines (\"Memory limit of … exceeded\"), the revisions and the memory trend, then choose between more memory and a rollback"}
}

// consoleURL is the service's metrics page in the Cloud Console.
func consoleURL(t snapshot.Target) string {
	return fmt.Sprintf("https://console.cloud.google.com/run/detail/%s/%s/metrics?project=%s", t.Location, t.Service, t.Project)
}
