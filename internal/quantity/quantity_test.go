package quantity

import (
	"strings"
	"testing"
)

func TestParseMemory(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int64
	}{
		{"mebibytes", "512Mi", 512},
		{"gibibytes", "2Gi", 2048},
		{"non-whole gibibytes", "1536Mi", 1536},
		{"fractional gibibytes", "1.5Gi", 1536},
		{"tebibytes", "1Ti", 1 << 20},
		{"kibibytes round up", "1Ki", 1},
		{"exact kibibytes", "2048Ki", 2},
		{"decimal megabytes round up", "512M", 489},        // 512e6 B = 488.28 MiB
		{"decimal gigabytes round up", "1G", 954},          // 1e9 B = 953.67 MiB
		{"lower-case k", "1048576k", 1000},                 // 1.048576e9 B = 1000 MiB exactly
		{"upper-case K", "2048K", 2},                       // 2.048e6 B = 1.95 MiB
		{"plain bytes", "1048576", 1},                      // no suffix: bytes
		{"plain bytes round up", "1048577", 2},             // one byte over 1 MiB
		{"float noise is not a byte", "1.048576M", 1},      // 1048576 B, not 1048576.0000000001
		{"sub-MiB rounds up to one", "0.1Mi", 1},           // never zero for a positive quantity
		{"exponent", "1e3Mi", 1000},                        // ParseFloat syntax
		{"fraction not whole MiB rounds up", "0.3Gi", 308}, // 307.2 MiB
		{"Cloud Run maximum", "32Gi", MaxMemoryMiB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMemory(tt.in)
			if err != nil {
				t.Fatalf("ParseMemory(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseMemory(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseMemoryErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"letters", "abc"},
		{"suffix only", "Mi"},
		{"zero", "0Mi"},
		{"negative", "-1Gi"},
		{"not a number", "NaN"},
		{"infinite", "Inf"},
		{"infinite with unit", "+InfGi"},
		{"overflows int64 MiB", "1e30Gi"},
		{"space inside", "512 Mi"},
		{"leading space", " 512Mi"},
		{"unknown unit", "2GB"},
		{"lower-case unit", "2gi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMemory(tt.in)
			if err == nil {
				t.Fatalf("ParseMemory(%q) = %d, want an error", tt.in, got)
			}
			if want := "memory " + quoted(tt.in); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("ParseMemory(%q) error = %q, want it to start with %q", tt.in, err, want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("ParseMemory(%q) error spans lines: %q", tt.in, err)
			}
		})
	}
}

func TestFormatMemory(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{512, "512Mi"},
		{1024, "1Gi"},
		{1536, "1536Mi"},
		{2048, "2Gi"},
		{4097, "4097Mi"},
		{MaxMemoryMiB, "32Gi"},
	}
	for _, tt := range tests {
		if got := FormatMemory(tt.in); got != tt.want {
			t.Errorf("FormatMemory(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestMemoryRoundTrip checks that formatting then parsing is the identity, so a value runmedic
// writes to the service is read back as the same number.
func TestMemoryRoundTrip(t *testing.T) {
	for mib := int64(1); mib <= MaxMemoryMiB; mib += 127 {
		s := FormatMemory(mib)
		got, err := ParseMemory(s)
		if err != nil {
			t.Fatalf("ParseMemory(FormatMemory(%d) = %q) error: %v", mib, s, err)
		}
		if got != mib {
			t.Fatalf("ParseMemory(FormatMemory(%d) = %q) = %d, want %d", mib, s, got, mib)
		}
	}
}

func TestParseCPU(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int64
	}{
		{"one core", "1", 1000},
		{"two cores", "2", 2000},
		{"millicores", "1000m", 1000},
		{"half core as millicores", "500m", 500},
		{"half core as fraction", "0.5", 500},
		{"fraction with float noise", "1.001", 1001}, // 1.001*1000 is 1000.999… in float64
		{"fraction with float noise 2", "1.005", 1005},
		{"eighth of a core", "0.125", 125},
		{"sub-millicore rounds up", "0.0001", 1}, // never zero for a positive quantity
		{"explicit plus", "+2", 2000},
		{"eight cores", "8", 8000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCPU(tt.in)
			if err != nil {
				t.Fatalf("ParseCPU(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseCPU(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseCPUErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"letters", "two"},
		{"suffix only", "m"},
		{"zero", "0"},
		{"zero millicores", "0m"},
		{"negative", "-1"},
		{"negative millicores", "-500m"},
		{"fractional millicores", "1.5m"},
		{"not a number", "NaN"},
		{"infinite", "Inf"},
		{"overflows int64 millicores", "1e30"},
		{"unit not millicores", "2c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCPU(tt.in)
			if err == nil {
				t.Fatalf("ParseCPU(%q) = %d, want an error", tt.in, got)
			}
			if want := "cpu " + quoted(tt.in); !strings.HasPrefix(err.Error(), want) {
				t.Errorf("ParseCPU(%q) error = %q, want it to start with %q", tt.in, err, want)
			}
		})
	}
}

func TestFormatCPU(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{1000, "1"},
		{2000, "2"},
		{500, "500m"},
		{1500, "1500m"},
		{8000, "8"},
	}
	for _, tt := range tests {
		if got := FormatCPU(tt.in); got != tt.want {
			t.Errorf("FormatCPU(%d) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestCPURoundTrip(t *testing.T) {
	for milli := int64(1); milli <= 8000; milli += 37 {
		s := FormatCPU(milli)
		got, err := ParseCPU(s)
		if err != nil {
			t.Fatalf("ParseCPU(FormatCPU(%d) = %q) error: %v", milli, s, err)
		}
		if got != milli {
			t.Fatalf("ParseCPU(FormatCPU(%d) = %q) = %d, want %d", milli, s, got, milli)
		}
	}
}

func TestMinCPUForMemory(t *testing.T) {
	tests := []struct {
		name string
		mib  int64
		want int64
	}{
		{"512Mi needs nothing", 512, 0},
		{"exactly 4Gi needs nothing", 4096, 0},
		{"just above 4Gi needs 2", 4097, 2000},
		{"exactly 8Gi needs 2", 8192, 2000},
		{"just above 8Gi needs 4", 8193, 4000},
		{"exactly 16Gi needs 4", 16384, 4000},
		{"just above 16Gi needs 6", 16385, 6000},
		{"exactly 24Gi needs 6", 24576, 6000},
		{"just above 24Gi needs 8", 24577, 8000},
		{"32Gi needs 8", MaxMemoryMiB, 8000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := MinCPUForMemory(tt.mib); got != tt.want {
				t.Errorf("MinCPUForMemory(%d) = %d, want %d", tt.mib, got, tt.want)
			}
		})
	}
}

// quoted renders s the way the error messages quote it.
func quoted(s string) string { return `"` + s + `"` }
