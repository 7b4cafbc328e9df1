package plan_test

import (
	"io"
	"testing"

	"github.com/runmedic/runmedic/internal/plan"
)

// BenchmarkBuild measures the plan step of one decision on its hardest path: a pinned service,
// where the raise is built from the serving revision and traffic moves.
func BenchmarkBuild(b *testing.B) {
	s := testSnapshot(pinnedTo(revGood), withTemplate("4Gi", "1"))
	sig, d, cfg := testSignals(), raise("8Gi", ""), testDefaults()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := plan.Build(s, sig, d, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderText(b *testing.B) {
	p := renderCases()[0].plan(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := plan.RenderText(io.Discard, p, plan.TextOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRenderJSON(b *testing.B) {
	p := renderCases()[0].plan(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := plan.RenderJSON(io.Discard, p); err != nil {
			b.Fatal(err)
		}
	}
}
