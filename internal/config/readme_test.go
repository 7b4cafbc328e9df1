package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/runmedic/runmedic/internal/config"
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
