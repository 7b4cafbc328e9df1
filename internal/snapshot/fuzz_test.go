package snapshot

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad: no input panics; every error is ErrInvalid on one line; every snapshot Load accepts
// validates, encodes as JSON, and loads back to the same JSON.
func FuzzLoad(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{
		filepath.Join("..", "..", "tests", "scenarios", "*", "snapshot.json"),
		filepath.Join("testdata", "*.json"),
	} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, m...)
	}
	if len(seeds) == 0 {
		f.Fatal("no seed snapshots found")
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":2,"captured_at":"2026-02-04T10:30:00Z"}`))
	f.Add([]byte(`null`))

	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Load(data)
		if err != nil {
			msg := err.Error()
			if !errors.Is(err, ErrInvalid) || strings.ContainsAny(msg, "\r\n") {
				t.Fatalf("Load error %q: want one line wrapping ErrInvalid", msg)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("Load accepted a snapshot that Validate refuses: %v", err)
		}
		enc, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("loaded snapshot does not encode: %v", err)
		}
		s2, err := Load(enc)
		if err != nil {
			t.Fatalf("Load(Marshal(Load(x))) error: %v\n%s", err, enc)
		}
		enc2, err := json.Marshal(s2)
		if err != nil {
			t.Fatalf("reloaded snapshot does not encode: %v", err)
		}
		if string(enc) != string(enc2) {
			t.Fatalf("round trip differs:\n first %s\nsecond %s", enc, enc2)
		}
	})
}
