package signals

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runmedic/runmedic/internal/config"
)

func TestNextMemoryStep(t *testing.T) {
	defaultSteps := testDefaults().MemorySteps
	tests := []struct {
		name     string
		memory   string
		cpu      string
		steps    []string
		ceiling  string
		wantStep string
		wantCPU  string
	}{
		{"512Mi to 1Gi", "512Mi", "1", defaultSteps, "8Gi", "1Gi", ""},
		{"1Gi to 2Gi", "1Gi", "1", defaultSteps, "8Gi", "2Gi", ""},
		{"2Gi to 4Gi needs no more CPU", "2Gi", "1", defaultSteps, "8Gi", "4Gi", ""},
		{"4Gi to 8Gi needs 2 CPU", "4Gi", "1", defaultSteps, "8Gi", "8Gi", "2"},
		{"4Gi to 8Gi with 2 CPU already", "4Gi", "2", defaultSteps, "8Gi", "8Gi", ""},
		{"4Gi to 8Gi with more CPU than needed", "4Gi", "4000m", defaultSteps, "8Gi", "8Gi", ""},
		{"4Gi to 8Gi with 1500m needs 2", "4Gi", "1500m", defaultSteps, "8Gi", "8Gi", "2"},
		{"8Gi to 16Gi needs 4 CPU", "8Gi", "2", defaultSteps, "16Gi", "16Gi", "4"},
		{"16Gi to 32Gi needs 8 CPU", "16Gi", "4", defaultSteps, "32Gi", "32Gi", "8"},
		{"at the ceiling", "8Gi", "2", defaultSteps, "8Gi", "", ""},
		{"next step above the ceiling", "6Gi", "2", defaultSteps, "7Gi", "", ""},
		{"above every step", "32Gi", "8", defaultSteps, "32Gi", "", ""},
		{"empty ceiling is Cloud Run's 32Gi", "16Gi", "8", defaultSteps, "", "32Gi", ""},
		{"step above Cloud Run's 32Gi is never chosen", "16Gi", "8", []string{"48Gi"}, "64Gi", "", ""},
		{"unsorted steps", "1Gi", "1", []string{"8Gi", "4Gi", "1Gi", "2Gi", "512Mi"}, "8Gi", "2Gi", ""},
		{"no steps", "1Gi", "1", nil, "8Gi", "", ""},
		// 256Mi: +100Mi gives 356, ×1.2 only 308; the floor wins.
		{"100Mi floor beats x1.2 on small limits", "256Mi", "1", []string{"300Mi", "340Mi", "356Mi", "400Mi"}, "8Gi", "356Mi", ""},
		// 1000Mi: +100Mi gives 1100, ×1.2 gives 1200; the ratio wins.
		{"x1.2 beats the floor on large limits", "1000Mi", "1", []string{"1100Mi", "1199Mi", "1200Mi", "1300Mi"}, "8Gi", "1200Mi", ""},
		// 500Mi is the crossover: both rules give 600Mi.
		{"crossover at 500Mi", "500Mi", "1", []string{"599Mi", "600Mi"}, "8Gi", "600Mi", ""},
		// ⌈1001×1.2⌉ = 1202 (1201.2 rounds up).
		{"x1.2 rounds up", "1001Mi", "1", []string{"1201Mi", "1202Mi"}, "8Gi", "1202Mi", ""},
		{"1Gi to a 1536Mi step", "1Gi", "1", []string{"1536Mi", "2Gi"}, "8Gi", "1536Mi", ""},
		{"1536Mi to 2Gi", "1536Mi", "1", defaultSteps, "8Gi", "2Gi", ""},
		{"fractional 1.5Gi reads as 1536Mi", "1.5Gi", "1", defaultSteps, "8Gi", "2Gi", ""},
		{"decimal step shown in MiB", "512Mi", "1", []string{"1G"}, "8Gi", "954Mi", ""},
		{"decimal ceiling", "1Gi", "1", defaultSteps, "3G", "2Gi", ""},
		{"ceiling that is not a step", "2Gi", "1", defaultSteps, "6Gi", "4Gi", ""},
		// 16Gi -> 32Gi needs 8 CPU; with a CPU ceiling of 4 there is no step left.
		{"the CPU ceiling stops a step", "16Gi", "4", defaultSteps, "32Gi/4", "", ""},
		{"the CPU ceiling allows a step that fits", "4Gi", "1", defaultSteps, "8Gi/2", "8Gi", "2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSnapshot(nil)
			s.Service.Template.Memory, s.Service.Template.CPU = tt.memory, tt.cpu
			memCeiling, cpuCeiling, _ := strings.Cut(tt.ceiling, "/") // "memory/cpu"
			d := config.Defaults{MemorySteps: tt.steps, MemoryCeiling: memCeiling, CPUCeiling: cpuCeiling}
			got, err := Compute(s, d)
			if err != nil {
				t.Fatalf("Compute: %v", err)
			}
			if got.NextMemoryStep != tt.wantStep || got.NextMemoryStepCPU != tt.wantCPU {
				t.Errorf("next step of %s/%s in %v under %q = %q/%q, want %q/%q", tt.memory, tt.cpu, tt.steps, tt.ceiling,
					got.NextMemoryStep, got.NextMemoryStepCPU, tt.wantStep, tt.wantCPU)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	tests := []struct {
		memory string
		cpu    string
		want   limitSignals
	}{
		// floor((512×0.85 − 256)/50) = floor(3.58)
		{"512Mi", "1", limitSignals{MiB: 512, CPU: 1, Safe: 3}},
		{"1Gi", "1", limitSignals{MiB: 1024, CPU: 1, Safe: 12}},
		// floor((2048×0.85 − 256)/50) = floor(29.696)
		{"2Gi", "1", limitSignals{MiB: 2048, CPU: 1, Safe: 29}},
		// floor((4096×0.85 − 256)/50) = floor(64.512): the runbook's "60-80 safe" at 4Gi.
		{"4Gi", "2", limitSignals{MiB: 4096, CPU: 2, Safe: 64}},
		{"8Gi", "2000m", limitSignals{MiB: 8192, CPU: 2, Safe: 134}},
		// floor((1536×0.85 − 256)/50) = floor(20.992)
		{"1536Mi", "500m", limitSignals{MiB: 1536, CPU: 0.5, Safe: 20}},
		// 360×0.85 − 256 = 50 exactly: one request.
		{"360Mi", "1", limitSignals{MiB: 360, CPU: 1, Safe: 1}},
		{"410Mi", "1", limitSignals{MiB: 410, CPU: 1, Safe: 1}},
		// 420×0.85 − 256 = 101: two.
		{"420Mi", "1", limitSignals{MiB: 420, CPU: 1, Safe: 2}},
		// Below the base the model gives nothing; one request is the floor.
		{"256Mi", "1", limitSignals{MiB: 256, CPU: 1, Safe: 1}},
		{"128Mi", "80m", limitSignals{MiB: 128, CPU: 0.08, Safe: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.memory+"/"+tt.cpu, func(t *testing.T) {
			s := testSnapshot(nil)
			s.Service.Template.Memory, s.Service.Template.CPU = tt.memory, tt.cpu
			got, err := Compute(s, testDefaults())
			if err != nil {
				t.Fatalf("Compute: %v", err)
			}
			if diff := cmp.Diff(tt.want, limitSignals{got.MemoryLimitMiB, got.CPULimit, got.SafeConcurrency}); diff != "" {
				t.Errorf("Compute limits of %s/%s (-want +got):\n%s", tt.memory, tt.cpu, diff)
			}
		})
	}
}

type limitSignals struct {
	MiB  int64
	CPU  float64
	Safe int
}

func TestComputeErrors(t *testing.T) {
	tests := []struct {
		name    string
		memory  string
		cpu     string
		steps   []string
		ceiling string
		want    string // the error's beginning
	}{
		{"bad template memory", "abc", "1", nil, "", `service.template.memory: memory "abc": `},
		{"empty template memory", "", "1", nil, "", `service.template.memory: memory "": `},
		{"bad template cpu", "2Gi", "two", nil, "", `service.template.cpu: cpu "two": `},
		{"empty template cpu", "2Gi", "", nil, "", `service.template.cpu: cpu "": `},
		{"bad step", "2Gi", "1", []string{"1Gi", "4GB"}, "8Gi", `defaults.memory_steps[1]: memory "4GB": `},
		{"bad ceiling", "2Gi", "1", []string{"4Gi"}, "lots", `defaults.memory_ceiling: memory "lots": `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSnapshot(nil)
			s.Service.Template.Memory, s.Service.Template.CPU = tt.memory, tt.cpu
			got, err := Compute(s, config.Defaults{MemorySteps: tt.steps, MemoryCeiling: tt.ceiling})
			if err == nil {
				t.Fatalf("Compute = %+v, want an error starting %q", got, tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Compute error = %q, want one line starting %q", err, tt.want)
			}
		})
	}
}
