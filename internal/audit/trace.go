package audit

import "strings"

// TraceID extracts the 32-hex-digit trace id from a W3C traceparent value
// ("00-<trace>-<span>-<flags>") or an X-Cloud-Trace-Context value ("<trace>/<span>;o=1").
// ok is false for anything else, including the all-zero id both formats declare invalid.
func TraceID(header string) (id string, ok bool) {
	header = strings.TrimSpace(header)
	if parts := strings.Split(header, "-"); len(parts) == 4 {
		version, trace, span, flags := parts[0], parts[1], parts[2], parts[3]
		if !isHex(version, 2) || version == "ff" || !isHex(span, 16) || !isHex(flags, 2) {
			return "", false
		}
		return validTrace(trace)
	}
	trace, _, _ := strings.Cut(header, "/")
	trace, _, _ = strings.Cut(trace, ";")
	return validTrace(trace)
}

// TraceName is the Cloud Logging trace field for header in project:
// "projects/P/traces/TRACE_ID", or "" when header holds no valid trace id.
func TraceName(project, header string) string {
	id, ok := TraceID(header)
	if !ok || project == "" {
		return ""
	}
	return "projects/" + project + "/traces/" + id
}

func validTrace(s string) (string, bool) {
	s = strings.ToLower(s)
	if !isHex(s, 32) || strings.Count(s, "0") == 32 {
		return "", false
	}
	return s, true
}

// isHex reports whether s is exactly n hex digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
