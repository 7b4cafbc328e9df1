package plan

import (
	"fmt"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/decision"
	"github.com/runmedic/runmedic/internal/quantity"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// Cloud Run's values for a template that leaves a field unset, and its bounds.
const (
	defaultMemory      = "512Mi"
	defaultCPU         = "1"
	defaultConcurrency = 80
	maxConcurrency     = 1000
	maxCPUMilli        = 8000
)

// spec is the part of a revision template a plan may change.
type spec struct {
	Image          string
	Memory         string
	CPU            string
	MaxConcurrency int
	Restart        string // the forced-new-revision token; the snapshot does not carry the live one
}

func specOf(t snapshot.Template) spec {
	return spec{Image: t.Image, Memory: t.Memory, CPU: t.CPU, MaxConcurrency: t.MaxConcurrency}
}

func (s spec) memoryMiB() (int64, error) {
	if s.Memory == "" {
		return quantity.ParseMemory(defaultMemory)
	}
	return quantity.ParseMemory(s.Memory)
}

func (s spec) cpuMilli() (int64, error) {
	if s.CPU == "" {
		return quantity.ParseCPU(defaultCPU)
	}
	return quantity.ParseCPU(s.CPU)
}

func (s spec) concurrency() int {
	if s.MaxConcurrency == 0 {
		return defaultConcurrency
	}
	return s.MaxConcurrency
}

// limits are the ceilings a plan never goes above: the configured ones, capped by Cloud Run's own.
type limits struct{ memoryMiB, cpuMilli int64 }

func limitsOf(cfg config.Defaults) (limits, error) {
	l := limits{memoryMiB: quantity.MaxMemoryMiB, cpuMilli: maxCPUMilli}
	if cfg.MemoryCeiling != "" {
		m, err := quantity.ParseMemory(cfg.MemoryCeiling)
		if err != nil {
			return limits{}, fmt.Errorf("memory_ceiling: %w", err)
		}
		l.memoryMiB = min(m, l.memoryMiB)
	}
	if cfg.CPUCeiling != "" {
		c, err := quantity.ParseCPU(cfg.CPUCeiling)
		if err != nil {
			return limits{}, fmt.Errorf("cpu_ceiling: %w", err)
		}
		l.cpuMilli = min(c, l.cpuMilli)
	}
	return l, nil
}

// raiseMemory raises memory to params.memory, and CPU to params.cpu or to the minimum Cloud Run
// requires for that memory. It never lowers either.
func raiseMemory(s snapshot.Snapshot, p decision.Params, cfg config.Defaults) ([]snapshot.Change, error) {
	if p.Memory == "" {
		return nil, fmt.Errorf("params.memory is empty")
	}
	mem, err := quantity.ParseMemory(p.Memory)
	if err != nil {
		return nil, fmt.Errorf("params.memory: %w", err)
	}
	lim, err := limitsOf(cfg)
	if err != nil {
		return nil, err
	}
	if mem > quantity.MaxMemoryMiB {
		return nil, fmt.Errorf("memory %s is above Cloud Run's maximum %s", p.Memory, quantity.FormatMemory(quantity.MaxMemoryMiB))
	}
	if mem > lim.memoryMiB {
		return nil, fmt.Errorf("memory %s is above the memory ceiling %s", p.Memory, quantity.FormatMemory(lim.memoryMiB))
	}
	need := quantity.MinCPUForMemory(mem)
	cpu := need
	if p.CPU != "" {
		if cpu, err = quantity.ParseCPU(p.CPU); err != nil {
			return nil, fmt.Errorf("params.cpu: %w", err)
		}
		if cpu < need {
			return nil, fmt.Errorf("cpu %s is below the %s CPU Cloud Run requires for %s", p.CPU, quantity.FormatCPU(need), p.Memory)
		}
	}
	if cpu > lim.cpuMilli && p.CPU != "" {
		return nil, fmt.Errorf("cpu %s is above the cpu ceiling %s", p.CPU, quantity.FormatCPU(lim.cpuMilli))
	}
	if cpu > lim.cpuMilli {
		return nil, fmt.Errorf("memory %s needs cpu %s, above the cpu ceiling %s", p.Memory, quantity.FormatCPU(cpu), quantity.FormatCPU(lim.cpuMilli))
	}
	return templateChanges(s, lim, func(want *spec) (bool, error) {
		cur, err := want.memoryMiB()
		if err != nil {
			return false, err
		}
		if cur >= mem {
			return false, nil // level-based: the memory is already there
		}
		want.Memory = quantity.FormatMemory(mem)
		curCPU, err := want.cpuMilli()
		if err != nil {
			return false, err
		}
		if cpu > curCPU {
			want.CPU = quantity.FormatCPU(cpu)
		}
		return true, nil
	})
}

// templateChanges builds the desired template from the spec that serves traffic, lets edit change
// it (edit reports false when the base already has what the decision wants), and diffs it against
// the live template. When traffic is pinned to a revision, a template change would create a
// revision that gets 0 %: the desired template is then the serving revision's spec (same image),
// and traffic moves to the new revision, so a plan never changes code that serves no traffic.
func templateChanges(s snapshot.Snapshot, lim limits, edit func(*spec) (bool, error)) ([]snapshot.Change, error) {
	base, pinned, err := servingSpec(s)
	if err != nil {
		return nil, err
	}
	want := base
	ok, err := edit(&want)
	if err != nil || !ok {
		return nil, err
	}
	if err := checkSpec(want); err != nil {
		return nil, err
	}
	live := specOf(s.Service.Template)
	changes, err := diffSpec(live, want, lim)
	if err != nil {
		return nil, err
	}
	if pinned {
		after := route(s.Service.Traffic, snapshot.TrafficTarget{Type: snapshot.TrafficLatest, Percent: 100})
		changes = append(changes, trafficChange(s.Service.Traffic, after))
	}
	return changes, nil
}

// servingSpec is the spec of the code serving traffic: the live template, or the serving
// revision's spec when traffic is pinned. Fields the revision does not carry keep the template's.
func servingSpec(s snapshot.Snapshot) (spec, bool, error) {
	live := specOf(s.Service.Template)
	if !pinned(s.Service.Traffic) {
		return live, false, nil
	}
	name := servingRevision(s.Service.Traffic)
	rev, ok := findRevision(s.Revisions, name)
	if !ok {
		return spec{}, true, fmt.Errorf("traffic is pinned to revision %q, which is not in the snapshot", name)
	}
	if rev.Image == "" {
		return spec{}, true, fmt.Errorf("serving revision %q has no image", name)
	}
	base := live
	base.Image = rev.Image
	if rev.Memory != "" {
		base.Memory = rev.Memory
	}
	if rev.CPU != "" {
		base.CPU = rev.CPU
	}
	if rev.MaxConcurrency != 0 {
		base.MaxConcurrency = rev.MaxConcurrency
	}
	return base, true, nil
}

// checkSpec applies Cloud Run's CPU-for-memory rule to a whole desired template.
func checkSpec(w spec) error {
	mem, err := w.memoryMiB()
	if err != nil {
		return err
	}
	cpu, err := w.cpuMilli()
	if err != nil {
		return err
	}
	if mem > quantity.MaxMemoryMiB {
		return fmt.Errorf("memory %s is above Cloud Run's maximum %s", w.Memory, quantity.FormatMemory(quantity.MaxMemoryMiB))
	}
	if need := quantity.MinCPUForMemory(mem); cpu < need {
		return fmt.Errorf("memory %s needs at least %s CPU, the template would have %s", w.Memory, quantity.FormatCPU(need), quantity.FormatCPU(cpu))
	}
	return nil
}

// diffSpec lists the fields of want that differ from live, in the fixed path order. Memory and CPU
// compare as quantities ("4096Mi" is "4Gi"), and a changed value above a ceiling is an error.
func diffSpec(live, want spec, lim limits) ([]snapshot.Change, error) {
	var out []snapshot.Change
	if live.Image != want.Image {
		out = append(out, snapshot.Change{Path: snapshot.PathImage, Before: snapshot.TextValue(live.Image), After: snapshot.TextValue(want.Image)})
	}
	lm, err := live.memoryMiB()
	if err != nil {
		return nil, fmt.Errorf("live template: %w", err)
	}
	wm, _ := want.memoryMiB() // checked by checkSpec
	if lm != wm {
		if wm > lim.memoryMiB {
			return nil, fmt.Errorf("memory %s is above the memory ceiling %s", want.Memory, quantity.FormatMemory(lim.memoryMiB))
		}
		out = append(out, snapshot.Change{Path: snapshot.PathMemory, Before: snapshot.TextValue(live.Memory), After: snapshot.TextValue(want.Memory)})
	}
	lc, err := live.cpuMilli()
	if err != nil {
		return nil, fmt.Errorf("live template: %w", err)
	}
	wc, _ := want.cpuMilli()
	if lc != wc {
		if wc > lim.cpuMilli {
			return nil, fmt.Errorf("cpu %s is above the cpu ceiling %s", want.CPU, quantity.FormatCPU(lim.cpuMilli))
		}
		out = append(out, snapshot.Change{Path: snapshot.PathCPU, Before: snapshot.TextValue(live.CPU), After: snapshot.TextValue(want.CPU)})
	}
	if live.concurrency() != want.concurrency() {
		out = append(out, snapshot.Change{Path: snapshot.PathMaxConcurrency, Before: snapshot.IntValue(live.MaxConcurrency), After: snapshot.IntValue(want.MaxConcurrency)})
	}
	if live.Restart != want.Restart {
		out = append(out, snapshot.Change{Path: snapshot.PathRestart, Before: snapshot.TextValue(live.Restart), After: snapshot.TextValue(want.Restart)})
	}
	return out, nil
}
