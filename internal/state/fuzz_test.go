package state

import (
	"errors"
	"testing"
)

// FuzzDecode checks that Decode never panics, that whatever it reports as unreadable is
// ErrUnreadable, and that a readable value survives Encode then Decode unchanged.
func FuzzDecode(f *testing.F) {
	seeds := []State{{}, sample()}
	for _, s := range seeds {
		enc, err := Encode(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	f.Add("")
	f.Add(`{"v":2}`)
	f.Add(`{"v":1,"actions":[{"incident":"a","action":"b","changes":[{"path":"traffic","before":[{"type":"LATEST","percent":100}],"after":7}]}],"unpublished":["a/b","a/b","x/y"]}`)
	f.Add(`{"v":1,"escalations":[{"incident":"a","step":0},{"incident":"a","step":0}]}`)

	f.Fuzz(func(t *testing.T, in string) {
		s, err := Decode(in)
		if err != nil {
			if !errors.Is(err, ErrUnreadable) {
				t.Fatalf("Decode(%q) error = %v, want ErrUnreadable", in, err)
			}
			return
		}
		enc, err := Encode(s)
		if err != nil {
			return // a readable value may still be too large to write back; Encode says so
		}
		if len(enc) > MaxBytes {
			t.Fatalf("len(Encode(Decode(%q))) = %d, want <= %d", in, len(enc), MaxBytes)
		}
		s2, err := Decode(enc)
		if err != nil {
			t.Fatalf("Decode(Encode(Decode(%q))) error: %v", in, err)
		}
		enc2, err := Encode(s2)
		if err != nil {
			t.Fatalf("Encode of a value just encoded: %v", err)
		}
		if enc != enc2 {
			t.Fatalf("round trip differs:\n first %s\nsecond %s", enc, enc2)
		}
	})
}
