package browsertest

import (
	"fmt"
	"image"
	"image/color"
	"runtime"
	"strings"
	"testing"
)

// recorder catches a Fatalf instead of failing the test that uses it.
type recorder struct {
	testing.TB
	msg string
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Helper() {}

// TestMissingBrowserFails checks that without Chromium the check fails, saying how to get it,
// instead of passing or skipping unseen.
func TestMissingBrowserFails(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Screenshot(r, "<p>x</p>", 100, 100, "")
	}()
	<-done
	if !strings.Contains(r.msg, "./test.sh") || !strings.Contains(r.msg, Install) {
		t.Errorf("Screenshot without a browser: %q, want a failure naming ./test.sh and %q", r.msg, Install)
	}
}

func TestCountAndVertical(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 20, 20))
	purple, _ := Hex("#7b1fa2")
	for y := 4; y < 15; y++ {
		img.Set(9, y, purple)
	}
	img.Set(2, 2, color.RGBA{0x80, 0x20, 0xa0, 0xff}) // near purple, a stray pixel
	if n := Count(img, img.Bounds(), purple, 12); n != 12 {
		t.Errorf("Count = %d, want 12 (11 in the line, 1 near)", n)
	}
	if x, top, bottom, ok := Vertical(img, purple, 12); !ok || x != 9 || top != 4 || bottom != 15 {
		t.Errorf("Vertical = %d, %d–%d, %v; want column 9, rows 4–15", x, top, bottom, ok)
	}
	if _, err := Hex("purple"); err == nil {
		t.Error(`Hex("purple") = nil error, want one`)
	}
}
