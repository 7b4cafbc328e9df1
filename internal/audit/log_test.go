package audit

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

func TestLogGolden(t *testing.T) {
	var b bytes.Buffer
	l := NewLogger(&b)
	l.Log(Info, "started", nil, nil)
	l.Log(Warning, `guard refused <cooldown> & "budget"`,
		map[string]string{"incident": "0.a", "service": "aiprod-api", "outcome": "refused"},
		map[string]any{"zeta": 1, "alpha": []string{"x"}, "severity": "FORGED", "message": "forged"})
	l.WithTrace(TraceName("aiprod-484120", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")).
		Log(Error, "traced", map[string]string{"incident": "0.a"}, map[string]any{"bad": make(chan int)})
	l.LogEvent(appliedEvent())
	l.LogEvent(refusedEvent())
	golden(t, "log.golden", b.Bytes())

	for i, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("line %d is not one JSON object: %v\n%s", i+1, err, line)
		}
	}
}

func TestLogEventSeverity(t *testing.T) {
	tests := []struct {
		outcome Outcome
		want    string
	}{
		{Applied, Info}, {NoChange, Info}, {Shadow, Info}, {Duplicate, Info}, {Ignored, Info}, {Verified, Info},
		{Refused, Warning}, {Escalated, Warning},
		{Failed, Error}, {VerificationFailed, Error},
	}
	for _, tt := range tests {
		t.Run(string(tt.outcome), func(t *testing.T) {
			var b bytes.Buffer
			NewLogger(&b).LogEvent(Event{Target: target, Incident: "0.a", Outcome: tt.outcome})
			var line struct {
				Severity string            `json:"severity"`
				Labels   map[string]string `json:"logging.googleapis.com/labels"`
			}
			if err := json.Unmarshal(b.Bytes(), &line); err != nil {
				t.Fatal(err)
			}
			if line.Severity != tt.want {
				t.Errorf("LogEvent(outcome %s) severity = %q, want %q", tt.outcome, line.Severity, tt.want)
			}
			if line.Labels["outcome"] != string(tt.outcome) || line.Labels["service"] != "aiprod-api" {
				t.Errorf("LogEvent(outcome %s) labels = %v", tt.outcome, line.Labels)
			}
		})
	}
}

// TestLogConcurrent checks that lines written from many goroutines never interleave.
func TestLogConcurrent(t *testing.T) {
	var b bytes.Buffer
	l := NewLogger(&b)
	traced := l.WithTrace("projects/p/traces/4bf92f3577b34da6a3ce929d0e0e4736")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				lg := l
				if i%2 == 0 {
					lg = traced
				}
				lg.Log(Info, strings.Repeat("x", 500), nil, map[string]any{"g": g, "i": i})
			}
		})
	}
	wg.Wait()
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 8*200 {
		t.Fatalf("got %d lines, want %d", len(lines), 8*200)
	}
	for i, line := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("line %d is not one JSON object: %v", i+1, err)
		}
	}
}

func ExampleLogger_Log() {
	l := NewLogger(os.Stdout).WithTrace(TraceName("aiprod-484120", "105445aa7843bc8bf206b12000100000/1;o=1"))
	l.Log(Info, "raise_memory applied", map[string]string{"incident": "0.a", "service": "aiprod-api", "outcome": "applied"}, map[string]any{"revision": "aiprod-api-00043-xyz"})
	// Output:
	// {"severity":"INFO","message":"raise_memory applied","logging.googleapis.com/labels":{"incident":"0.a","outcome":"applied","service":"aiprod-api"},"logging.googleapis.com/trace":"projects/aiprod-484120/traces/105445aa7843bc8bf206b12000100000","revision":"aiprod-api-00043-xyz"}
}

func ExampleTraceName() {
	fmt.Println(TraceName("p", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"))
	fmt.Println(TraceName("p", "105445aa7843bc8bf206b12000100000/1;o=1"))
	fmt.Printf("%q\n", TraceName("p", "not-a-trace"))
	// Output:
	// projects/p/traces/4bf92f3577b34da6a3ce929d0e0e4736
	// projects/p/traces/105445aa7843bc8bf206b12000100000
	// ""
}

// TestLogEventWarnings: what was dropped from the notification is on the event's one line, at
// WARNING at least.
func TestLogEventWarnings(t *testing.T) {
	for _, tt := range []struct {
		outcome Outcome
		want    string
	}{{Applied, Warning}, {Failed, Error}} {
		var b bytes.Buffer
		NewLogger(&b).LogEvent(Event{Target: target, Incident: "0.a", Outcome: tt.outcome, Warnings: []string{"incident.url dropped: no project"}})
		var line struct {
			Severity string `json:"severity"`
			Message  string `json:"message"`
		}
		if err := json.Unmarshal(b.Bytes(), &line); err != nil || strings.Count(b.String(), "\n") != 1 {
			t.Fatalf("LogEvent wrote %q, want one JSON line: %v", b.String(), err)
		}
		if line.Severity != tt.want || !strings.HasSuffix(line.Message, "; incident.url dropped: no project") {
			t.Errorf("LogEvent(%s with a warning) = %s %q, want %s ending in the warning", tt.outcome, line.Severity, line.Message, tt.want)
		}
	}
}
