// Package quantity parses and formats the memory and CPU strings Cloud Run uses ("512Mi", "2Gi",
// "1", "1000m"), so every comparison in runmedic is done on integers, never on strings.
package quantity

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

var memoryUnits = []struct {
	suffix string
	bytes  float64
}{
	{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40},
	{"k", 1e3}, {"K", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12},
}

// ParseMemory returns the size of s in MiB, rounded up to a whole MiB.
func ParseMemory(s string) (int64, error) {
	if s == "" {
		return 0, fmt.Errorf("memory %q: empty", s)
	}
	num, mult := s, 1.0
	for _, u := range memoryUnits {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSuffix(s, u.suffix), u.bytes
			break
		}
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v <= 0 || v != v || math.IsInf(v, 0) {
		return 0, fmt.Errorf("memory %q: not a positive quantity like 512Mi or 2Gi", s)
	}
	// Bytes are whole: rounding first drops float noise such as 1.048576M = 1048576.0000000001.
	bytes := math.Round(v * mult)
	if bytes/(1<<20) > maxQuantity {
		return 0, fmt.Errorf("memory %q: too large", s)
	}
	mib := int64(math.Ceil(bytes / (1 << 20)))
	if mib < 1 {
		mib = 1
	}
	return mib, nil
}

// FormatMemory renders MiB the way Cloud Run shows it: "4Gi" when whole GiB, else "1536Mi".
func FormatMemory(mib int64) string {
	if mib%1024 == 0 {
		return fmt.Sprintf("%dGi", mib/1024)
	}
	return fmt.Sprintf("%dMi", mib)
}

// ParseCPU returns s in millicores: "1" is 1000, "500m" is 500.
func ParseCPU(s string) (int64, error) {
	if strings.HasSuffix(s, "m") {
		v, err := strconv.ParseInt(strings.TrimSuffix(s, "m"), 10, 64)
		if err != nil || v <= 0 {
			return 0, fmt.Errorf("cpu %q: not a positive quantity like 1, 2 or 1000m", s)
		}
		return v, nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v <= 0 || v != v || math.IsInf(v, 0) {
		return 0, fmt.Errorf("cpu %q: not a positive quantity like 1, 2 or 1000m", s)
	}
	if v*1000 > maxQuantity {
		return 0, fmt.Errorf("cpu %q: too large", s)
	}
	// Round to microcores to drop float noise (1.001*1000 is 1000.999…), then up to a whole
	// millicore, so a positive quantity is never 0.
	return int64(math.Ceil(math.Round(v*1e6) / 1000)), nil
}

// FormatCPU renders millicores as Cloud Run shows them: "2" when whole, else "500m".
func FormatCPU(milli int64) string {
	if milli%1000 == 0 {
		return strconv.FormatInt(milli/1000, 10)
	}
	return fmt.Sprintf("%dm", milli)
}

// MinCPUForMemory is Cloud Run's rule: memory above 4Gi needs at least 2 CPU, above 8Gi 4, above
// 16Gi 6, above 24Gi 8. It returns millicores; 0 means no minimum beyond the default.
func MinCPUForMemory(mib int64) int64 {
	switch {
	case mib > 24*1024:
		return 8000
	case mib > 16*1024:
		return 6000
	case mib > 8*1024:
		return 4000
	case mib > 4*1024:
		return 2000
	}
	return 0
}

// maxQuantity bounds parsed values so they convert to int64 exactly (2^53, float64's integer range).
const maxQuantity = 1 << 53

// MaxMemoryMiB is Cloud Run's largest memory limit, 32Gi.
const MaxMemoryMiB = 32 * 1024
