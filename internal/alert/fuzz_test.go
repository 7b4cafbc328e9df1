package alert

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/snapshot"
)

// FuzzDecode: no input panics; every error is one line of exactly one refusal class; every alert
// names a real Cloud Run service and encodes as JSON.
func FuzzDecode(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		a, err := Decode(raw)
		checkInvariants(t, "Decode", a, err)
		a, err = DecodeMessageData(raw)
		checkInvariants(t, "DecodeMessageData", a, err)
	})
}

func checkInvariants(t *testing.T, fn string, a Alert, err error) {
	t.Helper()
	if err != nil {
		n := 0
		for _, s := range sentinels {
			if errors.Is(err, s) {
				n++
			}
		}
		msg := err.Error()
		if n != 1 || strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, "alert: ") || len(msg) > 1024 {
			t.Fatalf("%s error %q wraps %d refusal classes, want one line in exactly one", fn, msg, n)
		}
		return
	}
	inc := a.Incident
	if inc.ID == "" || (inc.State != snapshot.StateOpen && inc.State != snapshot.StateClosed) || inc.Labels == nil || inc.StartedAt.IsZero() {
		t.Fatalf("%s incident = %+v, want an id, open or closed, labels, a start", fn, inc)
	}
	for _, v := range []string{a.Target.Project, a.Target.Location, a.Target.Service} {
		if v == "" || strings.Contains(v, "/") {
			t.Fatalf("%s target = %+v, want three non-empty names without slashes", fn, a.Target)
		}
	}
	for _, x := range []*float64{inc.Observed, inc.Threshold} {
		if x != nil && (math.IsNaN(*x) || math.IsInf(*x, 0)) {
			t.Fatalf("%s value %v is not finite", fn, *x)
		}
	}
	switch a.Delivery.Wrapper {
	case WrapperNone, WrapperPush, WrapperCloudEvent:
	default:
		t.Fatalf("%s wrapper = %q", fn, a.Delivery.Wrapper)
	}
	if _, err := json.Marshal(a); err != nil {
		t.Fatalf("%s alert does not encode: %v", fn, err)
	}
	if len(inc.ID) > MaxIDBytes || len(inc.Policy) > MaxNameBytes || len(inc.Condition) > MaxNameBytes ||
		len(inc.Summary) > MaxSummaryBytes || len(a.Documentation) > MaxDocumentationBytes || len(inc.Labels) > 2*MaxLabels {
		t.Fatalf("%s incident exceeds its bounds: id %d, policy %d, condition %d, summary %d, documentation %d bytes, %d labels",
			fn, len(inc.ID), len(inc.Policy), len(inc.Condition), len(inc.Summary), len(a.Documentation), len(inc.Labels))
	}
	if inc.URL != "" && !strings.HasPrefix(inc.URL, "https://"+ConsoleHost+"/monitoring/alerting/") {
		t.Fatalf("%s kept URL %q, want the console's or none", fn, inc.URL)
	}
	for _, w := range a.Warnings {
		if strings.ContainsAny(w, "\r\n") || len(w) > 512 {
			t.Fatalf("%s warning %q is not one short line", fn, w)
		}
	}
}

// BenchmarkDecode measures the decode step of every delivery: a Pub/Sub push body.
func BenchmarkDecode(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("testdata", "push.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Decode(raw); err != nil {
			b.Fatal(err)
		}
	}
}
