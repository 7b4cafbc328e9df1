package gctune

import (
	"runtime/debug"
	"testing"
)

func TestChoose(t *testing.T) {
	tests := []struct {
		name      string
		env       map[string]string
		cgroupMax string
		want      Settings
	}{
		{"defaults in a 512 MiB container", nil, "536870912\n", Settings{Percent: 400, MemoryLimit: 429496729}},
		{"no container limit", nil, "max\n", Settings{Percent: 400}},
		{"no cgroup file", nil, "", Settings{Percent: 400}},
		{"GOGC given", map[string]string{"GOGC": "100"}, "536870912", Settings{MemoryLimit: 429496729}},
		{"GOGC=off given", map[string]string{"GOGC": "off"}, "", Settings{}},
		{"GOMEMLIMIT given", map[string]string{"GOMEMLIMIT": "200MiB"}, "536870912", Settings{Percent: 400}},
		{"nonsense limit", nil, "-5", Settings{Percent: 400}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var raw []byte
			if tt.cgroupMax != "" {
				raw = []byte(tt.cgroupMax)
			}
			got := Choose(func(k string) string { return tt.env[k] }, raw)
			if got != tt.want {
				t.Errorf("Choose(%v, %q) = %+v, want %+v", tt.env, tt.cgroupMax, got, tt.want)
			}
		})
	}
}

func TestApply(t *testing.T) {
	oldPercent := debug.SetGCPercent(100)
	oldLimit := debug.SetMemoryLimit(-1)
	t.Cleanup(func() {
		debug.SetGCPercent(oldPercent)
		debug.SetMemoryLimit(oldLimit)
	})
	Settings{Percent: 400, MemoryLimit: 300 << 20}.Apply()
	if got := debug.SetGCPercent(100); got != 400 {
		t.Errorf("GC percent after Apply = %d, want 400", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 300<<20 {
		t.Errorf("memory limit after Apply = %d, want %d", got, 300<<20)
	}
	debug.SetMemoryLimit(1 << 40)
	Settings{}.Apply()
	if got := debug.SetMemoryLimit(-1); got != 1<<40 {
		t.Errorf("memory limit after a zero Apply = %d, want it untouched", got)
	}
}

func TestString(t *testing.T) {
	if got, want := (Settings{Percent: 400, MemoryLimit: 400 << 20}).String(), "GOGC=400, GOMEMLIMIT=400MiB"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
