package logs

import (
	"strings"
	"testing"
)

func TestParseOOM(t *testing.T) {
	tests := []struct {
		text        string
		limit, used float64
	}{
		{"Memory limit of 512 MiB exceeded with 534 MiB used. Consider increasing the memory limit, see https://cloud.google.com/run/docs/configuring/memory-limits", 512, 534},
		{"Memory limit of 512M exceeded with 523M used. Consider increasing the memory limit, see https://cloud.google.com/run/docs/configuring/memory-limits", 512, 523},
		{"Memory limit of 2 GiB exceeded with 2.5 GiB used.", 2048, 2560},
		{"Memory limit of 2G exceeded with 2100M used", 2048, 2100},
		{"memory limit of 1024 Mi exceeded with 1030.25 Mi used", 1024, 1030.25},
		{"Memory limit of 4096.0 MiB was exceeded with 4100 MiB used.", 4096, 4100},
		{"Container terminated: Memory limit of 512 MiB exceeded with 600 MiB used.", 512, 600},
	}
	for _, tt := range tests {
		limit, used, ok := ParseOOM(tt.text)
		if !ok || limit != tt.limit || used != tt.used {
			t.Errorf("ParseOOM(%q) = %v, %v, %v; want %v, %v, true", tt.text, limit, used, ok, tt.limit, tt.used)
		}
	}
}

func TestParseOOMIgnoresOtherText(t *testing.T) {
	tests := []string{
		"",
		"Memory limit of",
		"Memory limit of 512 MiB exceeded",
		"Memory limit of 512 MiB exceeded with used",
		"Memory limit of MiB exceeded with 534 MiB used",
		"Memory limit of 512 KiB exceeded with 534 KiB used",
		"Memory limit of 512 TB exceeded with 534 TB used",
		"Memory limit of -512 MiB exceeded with 534 MiB used",
		"Memory limit of 512 MiB exceeded with 5.3.4 MiB used",
		"Memory limit of 1e3 MiB exceeded with 534 MiB used",
		"Memory limit of " + strings.Repeat("9", 400) + " MiB exceeded with 534 MiB used",
		"The user-provided container ran out of memory.",
		"Default STARTUP TCP probe succeeded after 1 attempt for container",
		"\xff\xfeMemory limit of \x00 MiB",
	}
	for _, text := range tests {
		if limit, used, ok := ParseOOM(text); ok {
			t.Errorf("ParseOOM(%q) = %v, %v, true; want ignored", text, limit, used)
		}
	}
}

func FuzzParseOOM(f *testing.F) {
	f.Add("Memory limit of 512 MiB exceeded with 534 MiB used.")
	f.Add("Memory limit of 2G exceeded with 2.5G used")
	f.Fuzz(func(t *testing.T, text string) {
		limit, used, ok := ParseOOM(text)
		if ok && (limit < 0 || used < 0) {
			t.Errorf("ParseOOM(%q) = %v, %v: negative", text, limit, used)
		}
	})
}
