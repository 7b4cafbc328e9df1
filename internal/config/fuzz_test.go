package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParse: no document panics; every error is one line; Parse never modifies its base; every
// accepted config validates and survives a JSON round trip (JSON is YAML) unchanged.
func FuzzParse(f *testing.F) {
	seeds := []string{filepath.Join("..", "..", "policies", DefaultPath)}
	m, err := filepath.Glob(filepath.Join("..", "..", "tests", "scenarios", "*", "config.yaml"))
	if err != nil {
		f.Fatal(err)
	}
	seeds = append(seeds, m...)
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("defaults: {cooldown: 5m}\n"))
	f.Add([]byte("services: []\n"))
	f.Add([]byte("defaults:\n  memory_steps: [1Gi, 512Mi]\n"))
	f.Add([]byte("---\n---\n"))

	base, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	frozen, err := json.Marshal(base)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		c, err := Parse(src, base)
		if after, _ := json.Marshal(base); string(after) != string(frozen) {
			t.Fatalf("Parse modified its base:\n before %s\n after  %s", frozen, after)
		}
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, "config") && !strings.HasPrefix(msg, "defaults.") && !strings.HasPrefix(msg, "services") {
				t.Fatalf("Parse error %q: want one line naming the config or the key", msg)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("Parse accepted a config that Validate refuses: %v", err)
		}
		js, err := json.Marshal(c)
		if err != nil {
			t.Fatalf("config does not encode: %v", err)
		}
		c2, err := Parse(js, Config{})
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(x))) error: %v\n%s", err, js)
		}
		if diff := cmp.Diff(c, c2); diff != "" {
			t.Fatalf("round trip differs (-first +second):\n%s", diff)
		}
	})
}
