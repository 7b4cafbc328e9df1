package replay

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func readFixture(t *testing.T) []Event {
	t.Helper()
	f, err := os.Open("testdata/history.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	evs, err := ReadHistory(f, "history.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestScoreShadow(t *testing.T) {
	type verdict struct {
		Incident string
		Next     Next
		After    time.Duration
	}
	var got []verdict
	for _, s := range ScoreShadow(readFixture(t), 30*time.Minute) {
		got = append(got, verdict{s.Incident, s.Next, s.After})
	}
	// Enforce-mode decisions and shadow decisions without changes are not scored.
	want := []verdict{
		{"0.closed-soon", ClosedByItself, 4*time.Minute + 30*time.Second},
		{"0.rollback-late", ClosedLate, 70 * time.Minute},
		{"0.paged", Escalated, 5 * time.Minute},
		{"0.still-open", Unresolved, 0},
		{"0.fixed-by-hand", ClosedAfterChange, 12 * time.Minute},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ScoreShadow (-want +got):\n%s", diff)
	}
}

func TestScoreShadowWindow(t *testing.T) {
	scores := ScoreShadow(readFixture(t), 2*time.Hour)
	if scores[1].Next != ClosedByItself {
		t.Errorf("with a 2h window, %s = %s, want %s", scores[1].Incident, scores[1].Next, ClosedByItself)
	}
}

func TestWriteScoresGolden(t *testing.T) {
	scores := ScoreShadow(readFixture(t), 30*time.Minute)
	for _, f := range []Format{Text, JSON, CSV, Markdown} {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteScores(&b, scores, 30*time.Minute, f); err != nil {
				t.Fatal(err)
			}
			golden(t, "scores."+string(f)+".golden", b.Bytes())
		})
	}
}

func TestReadHistoryArray(t *testing.T) {
	in := `[{"time":"2026-02-04T10:00:00Z","incident":"0.a","incident_state":"open","target":"t","outcome":"shadow"}]`
	evs, err := ReadHistory(strings.NewReader(in), "h.json")
	if err != nil || len(evs) != 1 || evs[0].Incident != "0.a" {
		t.Fatalf("ReadHistory(array) = %+v, %v; want one event 0.a", evs, err)
	}
}

func TestReadHistoryErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"bad line", "{\"incident\":\"0.a\"}\n\n{not json}\n", "h.jsonl:3:"},
		{"bad time", `{"time":"yesterday"}`, "h.jsonl:1:"},
		{"bad array", `[{"time":1}]`, "h.jsonl:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadHistory(strings.NewReader(tt.in), "h.jsonl")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ReadHistory(%q) error = %v, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}
