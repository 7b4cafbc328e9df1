package signals

import (
	"fmt"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/quantity"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Runbook model of a container's memory: a base plus a share per concurrent request, kept under
// the alert line.
const (
	baseMiB       = 256
	perRequestMiB = 50
	alertPercent  = 85
)

// VPA's OOM bump: at least +100Mi, at least ×1.2 (kubernetes/autoscaler, aggregations_config.go).
const (
	minBumpMiB     = 100
	bumpRatioNum   = 6 // ×6/5 = ×1.2, in integers
	bumpRatioDenom = 5
)

type limits struct {
	memoryMiB   int64
	cpuMilli    int64
	nextStep    string
	nextStepCPU string
}

// computeLimits reads the template's quantities and finds the next memory step, one that also
// holds fitMiB (the largest OOM "used" with headroom; 0 when unknown).
func computeLimits(t snapshot.Template, d config.Defaults, fitMiB int64) (limits, error) {
	mem, err := quantity.ParseMemory(t.Memory)
	if err != nil {
		return limits{}, fmt.Errorf("service.template.memory: %w", err)
	}
	cpu, err := quantity.ParseCPU(t.CPU)
	if err != nil {
		return limits{}, fmt.Errorf("service.template.cpu: %w", err)
	}
	step, err := nextMemoryStepFitting(mem, fitMiB, d)
	if err != nil {
		return limits{}, err
	}
	l := limits{memoryMiB: mem, cpuMilli: cpu}
	if step > 0 {
		l.nextStep = quantity.FormatMemory(step)
		if need := quantity.MinCPUForMemory(step); cpu < need {
			l.nextStepCPU = quantity.FormatCPU(need)
		}
	}
	return l, nil
}

// maxCPUMilli is Cloud Run's largest CPU limit, 8, the CPU ceiling when none is configured.
const maxCPUMilli = 8000

// nextMemoryStepFitting returns, in MiB, the smallest configured step that is at least VPA's
// bump of current (max(current+100Mi, ⌈current×1.2⌉)) and at least fit MiB (the raise after OOM
// kills must hold the largest "used" they report, with headroom; 0 for no such floor), at most
// both the configured ceiling and Cloud Run's 32Gi, and whose CPU minimum
// (quantity.MinCPUForMemory) fits under the CPU ceiling; 0 when no step qualifies, which the
// policy reads as "at the ceiling". Steps need not be sorted. An empty ceiling means only Cloud
// Run's maximum applies.
func nextMemoryStepFitting(current, fit int64, d config.Defaults) (int64, error) {
	ceiling := int64(quantity.MaxMemoryMiB)
	if d.MemoryCeiling != "" {
		c, err := quantity.ParseMemory(d.MemoryCeiling)
		if err != nil {
			return 0, fmt.Errorf("defaults.memory_ceiling: %w", err)
		}
		ceiling = min(ceiling, c)
	}
	cpuCeiling := int64(maxCPUMilli)
	if d.CPUCeiling != "" {
		c, err := quantity.ParseCPU(d.CPUCeiling)
		if err != nil {
			return 0, fmt.Errorf("defaults.cpu_ceiling: %w", err)
		}
		cpuCeiling = c
	}
	need := max(current+minBumpMiB, (current*bumpRatioNum+bumpRatioDenom-1)/bumpRatioDenom, fit)
	var best int64
	for i, s := range d.MemorySteps {
		m, err := quantity.ParseMemory(s)
		if err != nil {
			return 0, fmt.Errorf("defaults.memory_steps[%d]: %w", i, err)
		}
		if m >= need && m <= ceiling && quantity.MinCPUForMemory(m) <= cpuCeiling && (best == 0 || m < best) {
			best = m
		}
	}
	return best, nil
}

// safeConcurrency is the runbook's ⌊(limit×0.85 − 256) / 50⌋, at least 1, computed in integers
// so 4Gi gives exactly 64.
func safeConcurrency(limitMiB int64) int {
	n := (limitMiB*alertPercent - baseMiB*100) / (perRequestMiB * 100)
	if n < 1 {
		return 1
	}
	return int(n)
}
