package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/snapshot"
)

// TestReadmeRecipients parses the recipients example of the README's deploy section, so the
// page cannot drift from what the loader accepts.
func TestReadmeRecipients(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- recipients:start -->")
	block, _, ok2 := strings.Cut(rest, "<!-- recipients:end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no recipients:start/end block")
	}
	_, yaml, _ := strings.Cut(block, "```yaml\n")
	yaml, _, _ = strings.Cut(yaml, "```")
	var lines []string
	for _, l := range strings.Split(yaml, "\n") {
		lines = append(lines, strings.TrimPrefix(l, "   "))
	}
	c, err := config.Parse([]byte(strings.Join(lines, "\n")), mustDefault(t))
	if err != nil {
		t.Fatalf("README recipients example: %v", err)
	}
	if len(c.Recipients) != 3 || len(c.Freeze) != 2 || !c.Recipients["backend-lead@aiprod.ai"].PagerDuty.Acknowledges() {
		t.Errorf("README example parsed to %d recipients, %d freeze windows", len(c.Recipients), len(c.Freeze))
	}
}

// TestReadmeTwoProjects parses the config of the README's two-project layout and checks it
// admits what the page says: the named service, the labelled services of the second project,
// and the shadowed one.
func TestReadmeTwoProjects(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- two-projects:start -->")
	block, _, ok2 := strings.Cut(rest, "<!-- two-projects:end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no two-projects:start/end block")
	}
	_, yaml, _ := strings.Cut(block, "```yaml\n")
	yaml, _, _ = strings.Cut(yaml, "```")
	c, err := config.Parse([]byte(yaml), mustDefault(t))
	if err != nil {
		t.Fatalf("README two-projects config: %v", err)
	}
	label := map[string]string{config.ModeLabel: "enforce"}
	for _, tc := range []struct {
		target snapshot.Target
		labels map[string]string
		want   string
	}{
		{tg("aiprod-484120", "europe-west1", "aiprod-api"), nil, config.ModeEnforce},
		{tg("aiprod-data", "europe-west1", "etl-api"), label, config.ModeEnforce},
		{tg("aiprod-data", "europe-west1", "etl-api"), nil, config.ModeOff},
		{tg("aiprod-data", "europe-west1", "billing-export"), label, config.ModeShadow},
		{tg("aiprod-484120", "europe-west1", "other"), label, config.ModeOff},
	} {
		if got, why := c.ModeOf(tc.target, tc.labels, nil); got != tc.want {
			t.Errorf("ModeOf(%s, %v) = %q (%s), want %q", tc.target.Name(), tc.labels, got, why, tc.want)
		}
	}
}
