package logs

import (
	"regexp"
	"strconv"
	"strings"
)

// oomText matches Cloud Run's OOM-kill message, e.g. "Memory limit of 512 MiB exceeded with 534
// MiB used. Consider increasing the memory limit, ...". The wording and the units vary a little
// between generations ("512M", "2 GiB", "513.5 MiB"); the message's case does not matter.
var oomText = regexp.MustCompile(`(?i)memory limit of\s*(\d+(?:\.\d+)?)\s*(MiB|GiB|Mi|Gi|M|G)\b.*?\bexceeded with\s*(\d+(?:\.\d+)?)\s*(MiB|GiB|Mi|Gi|M|G)\b\s*used`)

// Phrase is the part of the message the Logging filter searches for; ParseOOM reads the rest.
const Phrase = "Memory limit of"

// ParseOOM reads the limit and the memory used, in MiB, from an OOM-kill message. ok is false for
// any other text, or numbers that do not fit a float64: such entries are ignored, never an error.
func ParseOOM(text string) (limitMiB, usedMiB float64, ok bool) {
	m := oomText.FindStringSubmatch(text)
	if m == nil {
		return 0, 0, false
	}
	limit, okL := toMiB(m[1], m[2])
	used, okU := toMiB(m[3], m[4])
	if !okL || !okU {
		return 0, 0, false
	}
	return limit, used, true
}

// toMiB converts a number with a binary unit (M and G are read as MiB and GiB, as Cloud Run writes
// its limits) to MiB.
func toMiB(number, unit string) (float64, bool) {
	v, err := strconv.ParseFloat(number, 64)
	if err != nil {
		return 0, false
	}
	if strings.HasPrefix(strings.ToUpper(unit), "G") {
		v *= 1024
	}
	return v, true
}
