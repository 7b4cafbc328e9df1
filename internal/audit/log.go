package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
)

// Severities Cloud Logging understands in the "severity" field.
const (
	Info    = "INFO"
	Warning = "WARNING"
	Error   = "ERROR"
)

// Keys Cloud Logging lifts out of a JSON log line into the entry's own fields.
const (
	keySeverity = "severity"
	keyMessage  = "message"
	keyLabels   = "logging.googleapis.com/labels"
	keyTrace    = "logging.googleapis.com/trace"
)

// Logger writes one JSON object per line in the format Cloud Logging parses from a Cloud Run or
// Cloud Functions container's stdout: severity, message, labels and trace become entry fields;
// everything else lands in jsonPayload. Lines from concurrent callers never interleave.
type Logger struct {
	mu    *sync.Mutex // shared with loggers derived by WithTrace: one writer, one lock
	w     io.Writer
	trace string
}

// NewLogger writes to w, typically os.Stdout.
func NewLogger(w io.Writer) *Logger {
	return &Logger{mu: new(sync.Mutex), w: w}
}

// WithTrace returns a logger writing to the same place whose lines carry trace, a full trace
// resource name as TraceName returns it. An empty trace adds nothing.
func (l *Logger) WithTrace(trace string) *Logger {
	return &Logger{mu: l.mu, w: l.w, trace: trace}
}

// Log writes one line. Keys are ordered: severity, message, labels, trace, then fields sorted by
// name. A field named like one of the first four is dropped, so a caller cannot forge them; a
// field that cannot be JSON-encoded is written as a string saying why. Write errors are dropped:
// there is nowhere left to report them.
func (l *Logger) Log(severity, message string, labels map[string]string, fields map[string]any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	b.WriteByte('{')
	put := func(key string, v any) {
		if b.Len() > 1 {
			b.WriteByte(',')
		}
		enc.Encode(key)
		b.Truncate(b.Len() - 1) // Encode ends with a newline
		b.WriteByte(':')
		mark := b.Len()
		if err := enc.Encode(v); err != nil {
			b.Truncate(mark)
			enc.Encode(fmt.Sprintf("!unencodable %T: %v", v, err))
		}
		b.Truncate(b.Len() - 1)
	}
	put(keySeverity, severity)
	put(keyMessage, message)
	if len(labels) > 0 {
		put(keyLabels, labels)
	}
	if l.trace != "" {
		put(keyTrace, l.trace)
	}
	for _, k := range slices.Sorted(maps.Keys(fields)) {
		switch k {
		case keySeverity, keyMessage, keyLabels, keyTrace:
			continue
		}
		put(k, fields[k])
	}
	b.WriteString("}\n")
	l.mu.Lock()
	defer l.mu.Unlock()
	l.w.Write(b.Bytes())
}

// LogEvent writes the one line that closes a run: its severity follows the outcome, its labels
// are incident, service (the short name) and outcome, and the whole Event is the "event" field.
func (l *Logger) LogEvent(e Event) {
	service := e.Target[strings.LastIndexByte(e.Target, '/')+1:]
	msg := fmt.Sprintf("%s: %s %s for incident %s", e.Outcome, service, e.Step, e.Incident)
	if e.Error != "" {
		msg += ": " + e.Error
	}
	severity := eventSeverity(e.Outcome)
	if len(e.Warnings) > 0 {
		msg += "; " + strings.Join(e.Warnings, "; ")
		if severity == Info {
			severity = Warning
		}
	}
	labels := map[string]string{"incident": e.Incident, "service": service, "outcome": string(e.Outcome)}
	l.Log(severity, msg, labels, map[string]any{"event": e})
}

// eventSeverity makes failures errors and blocked or escalated runs warnings.
func eventSeverity(o Outcome) string {
	switch o {
	case Failed, VerificationFailed:
		return Error
	case Refused, Escalated:
		return Warning
	default:
		return Info
	}
}
