package remediate_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/gctune"
	"github.com/runmedic/runmedic/internal/policy"
	"github.com/runmedic/runmedic/internal/remediate"
	"github.com/runmedic/runmedic/internal/scenario"
	"github.com/runmedic/runmedic/policies"
)

// BenchmarkDecision is DESIGN's "one decision, warm": signals, Rego, plan and guard on the
// insufficient-memory scenario (three hours of one-minute points per series), the policy
// compiled once beforehand. Besides ns/op it reports the median and 99th percentile of the
// individual decisions. The collector is set as the function sets it (gctune), unless GOGC or
// GOMEMLIMIT say otherwise.
func BenchmarkDecision(b *testing.B) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	gctune.Choose(os.Getenv, nil).Apply()
	for _, name := range []string{"insufficient-memory", "regression-rollback", "gradual-growth-restart"} {
		b.Run(name, func(b *testing.B) {
			sc, err := scenario.Load(filepath.Join("..", "..", "tests", "scenarios", name))
			if err != nil {
				b.Fatal(err)
			}
			snap, err := sc.Prepare()
			if err != nil {
				b.Fatal(err)
			}
			cfg, err := config.Default()
			if err != nil {
				b.Fatal(err)
			}
			if sc.Config != nil {
				if cfg, err = config.Parse(sc.Config, cfg); err != nil {
					b.Fatal(err)
				}
			}
			ctx := context.Background()
			eng, err := policy.New(ctx, policies.FS, cfg)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := remediate.Decide(ctx, eng, snap, cfg, snap.CapturedAt); err != nil {
				b.Fatal(err)
			}
			var each []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				if _, err := remediate.Decide(ctx, eng, snap, cfg, snap.CapturedAt); err != nil {
					b.Fatal(err)
				}
				each = append(each, time.Since(start))
			}
			slices.Sort(each)
			at := func(p float64) float64 {
				i := min(len(each)-1, max(0, int(p*float64(len(each))+0.999999)-1))
				return float64(each[i].Nanoseconds()) / 1e3
			}
			b.ReportMetric(at(0.50), "p50-µs")
			b.ReportMetric(at(0.99), "p99-µs")
		})
	}
}
