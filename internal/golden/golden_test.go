package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// recorder is a testing.TB that keeps what Check reports instead of failing the real test.
type recorder struct {
	testing.TB
	errors []string
	fatal  bool
}

func (r *recorder) Helper()                        {}
func (r *recorder) Errorf(format string, a ...any) { r.errors = append(r.errors, format) }
func (r *recorder) Logf(string, ...any)            {}
func (r *recorder) Fatalf(format string, a ...any) {
	r.fatal = true
	r.errors = append(r.errors, format)
}

func TestCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, got string
		want            string // prefix of the first report; "" for none
	}{
		{"same", path, "a\nb\n", ""},
		{"differs", path, "a\nc\n", "%s differs"},
		{"missing", path + ".none", "a\n", "read golden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &recorder{TB: t}
			Check(r, tt.path, tt.got)
			first := ""
			if len(r.errors) > 0 {
				first = r.errors[0]
			}
			if !strings.HasPrefix(first, tt.want) || (tt.want == "") != (len(r.errors) == 0) {
				t.Errorf("Check(%q) reported %q, want %q", tt.got, r.errors, tt.want)
			}
		})
	}
}

func TestCheckUpdateWrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.txt")
	*Update = true
	defer func() { *Update = false }()
	Check(t, path, "new\n")
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "new\n" {
		t.Fatalf("after Check with -update the file holds %q, %v; want %q", b, err, "new\n")
	}
}
