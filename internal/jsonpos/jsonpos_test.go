package jsonpos

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestWhere(t *testing.T) {
	tests := []struct {
		name, doc string
		want      string
	}{
		{"syntax error on line 3", "{\n  \"a\": 1,\n  \"b\": ,\n}", "line 3, column 8"},
		{"type error", "{\n  \"a\": \"x\"\n}", "line 2, column 11"},
		{"after a multi-byte character", "{\"é\": 1,\n \"b\": tru}", "line 2, column 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v struct{ A int }
			err := json.Unmarshal([]byte(tt.doc), &v)
			if err == nil {
				t.Fatalf("Unmarshal(%q) succeeded, want an error", tt.doc)
			}
			if got := Where([]byte(tt.doc), err); got != tt.want {
				t.Errorf("Where(%q, %v) = %q, want %q", tt.doc, err, got, tt.want)
			}
		})
	}
}

func TestWhereWithoutOffset(t *testing.T) {
	if got := Where([]byte("{}"), errors.ErrUnsupported); got != "" {
		t.Errorf("Where for an error without an offset = %q, want \"\"", got)
	}
}

func TestKeyOffset(t *testing.T) {
	doc := []byte("{\n  \"note\": \"capturd_at\",\n  \"capturd_at\": 1\n}")
	off, ok := KeyOffset(doc, "capturd_at")
	if !ok {
		t.Fatalf("KeyOffset(capturd_at) found nothing")
	}
	if got := WhereOffset(doc, off); got != "line 3, column 3" {
		t.Errorf("KeyOffset(capturd_at) is at %s, want line 3, column 3 (the key, not the string value)", got)
	}
	if _, ok := KeyOffset(doc, "missing"); ok {
		t.Errorf("KeyOffset(missing) found a key")
	}
}
