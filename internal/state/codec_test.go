package state

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/runmedic/runmedic/internal/snapshot"
)

var update = flag.Bool("update", false, "rewrite golden files")

// sample uses only JSON-stable change values (strings), so it survives a round trip unchanged.
func sample() State {
	s := State{}.Record(action("0.older", "raise_memory", t0.Add(-12*time.Hour)))
	s = s.Record(snapshot.Action{
		Incident: "0.nrwotmyokd9n", Action: "rollback", At: t0, Outcome: OutcomeApplied,
		Revision: "aiprod-api-00041-xyz",
		Changes:  []snapshot.Change{{Path: snapshot.PathTraffic, Before: snapshot.TextValue("LATEST"), After: snapshot.TextValue("aiprod-api-00041-xyz")}},
	})
	s = s.MarkPublished(Key("0.older", "raise_memory"))
	s.Pending = &Verification{
		Incident: "0.nrwotmyokd9n", Action: "rollback", AppliedAt: t0, VerifyAt: t0.Add(10 * time.Minute),
		Baseline: Baseline{Memory: 0.93, ErrorRate: 0.02}, Revision: "aiprod-api-00041-xyz",
		Changes: s.Actions[0].Changes,
	}
	s.Pin = &Pin{Revision: "aiprod-api-00041-xyz", Since: t0, Incident: "0.nrwotmyokd9n"}
	return s.MarkEscalated("0.nrwotmyokd9n", "step0", "backend-lead@aiprod.ai", t0.Add(5*time.Minute))
}

func TestEncodeGolden(t *testing.T) {
	got, err := Encode(sample())
	if err != nil {
		t.Fatalf("Encode(sample) error: %v", err)
	}
	path := filepath.Join("testdata", "sample.golden")
	if *update {
		if err := os.WriteFile(path, []byte(got+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if diff := cmp.Diff(strings.TrimSuffix(string(want), "\n"), got); diff != "" {
		t.Errorf("Encode(sample) (-want +got):\n%s", diff)
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   State
	}{
		{"empty", State{}},
		{"sample", sample()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := Encode(tt.in)
			if err != nil {
				t.Fatalf("Encode error: %v", err)
			}
			got, err := Decode(enc)
			if err != nil {
				t.Fatalf("Decode(%s) error: %v", enc, err)
			}
			want := tt.in
			want.Version = Version
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Decode(Encode(x)) (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeAbsent(t *testing.T) {
	got, err := Decode("")
	if err != nil {
		t.Fatalf(`Decode("") error: %v, want nil`, err)
	}
	if diff := cmp.Diff(State{Version: Version}, got); diff != "" {
		t.Errorf(`Decode("") (-want +got):\n%s`, diff)
	}
}

func TestDecodeUnreadable(t *testing.T) {
	tests := []struct {
		name, in string
	}{
		{"truncated", `{"v":1,"actions":[`},
		{"not an object", `[1,2]`},
		{"null", `null`},
		{"no version", `{"actions":[]}`},
		{"foreign version", `{"v":2,"actions":[]}`},
		{"wrong field type", `{"v":1,"actions":"many"}`},
		{"bad time", `{"v":1,"actions":[{"incident":"a","at":"yesterday"}]}`},
		{"trailing garbage", `{"v":1,"actions":[]} x`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.in)
			if !errors.Is(err, ErrUnreadable) {
				t.Errorf("Decode(%q) error = %v, want ErrUnreadable", tt.in, err)
			}
			if diff := cmp.Diff(State{Version: Version}, got); diff != "" {
				t.Errorf("Decode(%q) state (-want +got):\n%s", tt.in, diff)
			}
		})
	}
}

func TestDecodeTrimsLongHistory(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"v":1,"actions":[`)
	for i := range MaxActions + 10 {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"incident":"i","action":"restart","at":"2026-02-04T10:30:00Z","changes":[]}`)
	}
	b.WriteString(`]}`)
	got, err := Decode(b.String())
	if err != nil {
		t.Fatalf("Decode error: %v", err)
	}
	if len(got.Actions) != MaxActions {
		t.Errorf("len(Actions) = %d, want %d", len(got.Actions), MaxActions)
	}
}

func TestEncodeSizeBound(t *testing.T) {
	big := strings.Repeat("x", 2000) // ~2 KiB per action: 20 actions cannot all fit in 16 KiB
	var s State
	for i := range MaxActions {
		a := action("inc", "raise_memory", t0.Add(time.Duration(i)*time.Hour))
		a.Incident = "inc-" + string(rune('a'+i))
		a.Changes = []snapshot.Change{{Path: snapshot.PathImage, Before: snapshot.TextValue(big), After: snapshot.TextValue(big[:1000])}}
		s = s.Record(a)
	}
	before := s.clone()

	enc, err := Encode(s)
	if err != nil {
		t.Fatalf("Encode error: %v", err)
	}
	if len(enc) > MaxBytes {
		t.Errorf("len(Encode) = %d, want <= %d", len(enc), MaxBytes)
	}
	got, err := Decode(enc)
	if err != nil {
		t.Fatalf("Decode error: %v", err)
	}
	if n := len(got.Actions); n == 0 || n == MaxActions {
		t.Fatalf("kept %d actions, want some dropped and the newest kept", n)
	}
	if got.Actions[0].Incident != s.Actions[0].Incident {
		t.Errorf("newest kept = %q, want %q", got.Actions[0].Incident, s.Actions[0].Incident)
	}
	if last, want := got.Actions[len(got.Actions)-1].Incident, s.Actions[len(got.Actions)-1].Incident; last != want {
		t.Errorf("oldest kept = %q, want %q (oldest dropped first)", last, want)
	}
	if len(got.Unpublished) != len(got.Actions) {
		t.Errorf("len(Unpublished) = %d, want %d: keys of dropped actions must go too", len(got.Unpublished), len(got.Actions))
	}
	if diff := cmp.Diff(before, s); diff != "" {
		t.Errorf("Encode changed its argument (-want +got):\n%s", diff)
	}
}

func TestEncodeTooLarge(t *testing.T) {
	a := action("inc", "raise_memory", t0)
	a.Changes = []snapshot.Change{{Path: snapshot.PathImage, After: snapshot.TextValue(strings.Repeat("x", MaxBytes))}}
	if got, err := Encode(State{}.Record(a)); err == nil {
		t.Errorf("Encode(one %d-byte action) = %d bytes, nil error; want an error", MaxBytes, len(got))
	}
}

func BenchmarkDecode(b *testing.B) {
	enc, err := Encode(sample())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := Decode(enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	s := sample()
	for b.Loop() {
		if _, err := Encode(s); err != nil {
			b.Fatal(err)
		}
	}
}
