package loggingtest

import (
	"fmt"
	"strconv"
	"time"

	"cloud.google.com/go/logging/apiv2/loggingpb"
	"google.golang.org/genproto/googleapis/api/monitoredres"
	ltype "google.golang.org/genproto/googleapis/logging/type"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// systemLog is the log Cloud Run writes its platform messages to, URL-escaped as in log_name.
const systemLog = "run.googleapis.com%2Fvarlog%2Fsystem"

// OOMText is the message Cloud Run logs when an instance of a revision exceeds its memory limit.
func OOMText(limitMiB, usedMiB float64) string {
	return fmt.Sprintf("Memory limit of %s MiB exceeded with %s MiB used. Consider increasing the memory limit, "+
		"see https://cloud.google.com/run/docs/configuring/memory-limits", mib(limitMiB), mib(usedMiB))
}

func mib(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Entry is a text entry of target's revision at the given time, as Cloud Run writes it on the
// cloud_run_revision resource.
func Entry(target snapshot.Target, revision string, at time.Time, text string) *loggingpb.LogEntry {
	return &loggingpb.LogEntry{
		LogName: "projects/" + target.Project + "/logs/" + systemLog,
		Resource: &monitoredres.MonitoredResource{Type: "cloud_run_revision", Labels: map[string]string{
			"project_id": target.Project, "location": target.Location, "service_name": target.Service,
			"configuration_name": target.Service, "revision_name": revision,
		}},
		Timestamp: timestamppb.New(at),
		Severity:  ltype.LogSeverity_ERROR,
		InsertId:  fmt.Sprintf("%s-%d", revision, at.UnixNano()),
		Payload:   &loggingpb.LogEntry_TextPayload{TextPayload: text},
	}
}

// SeedFromSnapshot stores the OOM-kill entries a snapshot's logs summarise, so that reading them
// back yields the same summary: for each revision, count entries spread evenly from first to last,
// the newest reporting max_used_mib and the others halfway between the limit and it. Logs that
// were not available make every read fail with PermissionDenied; a snapshot without logs stores
// nothing. A truncated summary is served in full, so the read back is not truncated.
func (s *Server) SeedFromSnapshot(snap snapshot.Snapshot) {
	if snap.Logs == nil {
		return
	}
	if !snap.Logs.Available {
		s.FailNext(codes.PermissionDenied, -1)
		return
	}
	for _, k := range snap.Logs.OOMKills {
		other := k.MaxUsedMiB
		if k.MaxUsedMiB > k.LimitMiB {
			other = (k.LimitMiB + k.MaxUsedMiB) / 2
		}
		for i := range k.Count {
			at, used := k.Last, k.MaxUsedMiB
			if i < k.Count-1 {
				at, used = k.First.Add(k.Last.Sub(k.First)*time.Duration(i)/time.Duration(k.Count-1)), other
			}
			e := Entry(snap.Target, k.Revision, at, OOMText(k.LimitMiB, used))
			e.InsertId += "-" + strconv.Itoa(i) // kills at one instant stay apart
			s.Add(e)
		}
	}
}
