// Package browsertest renders pages in headless Chromium, as people will see them, and looks at
// the pixels: tests of the HTML runmedic writes check that its charts really show.
package browsertest

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Install is the command that provides the browser on Debian, as ./test.sh runs it.
const Install = "apt-get install -y chromium"

// Screenshot renders the HTML page html at width×height CSS pixels and returns the PNG decoded,
// keeping the PNG at shot when shot is not empty. A missing browser fails the test: a page
// nobody looked at is not tested.
func Screenshot(t testing.TB, html string, width, height int, shot string) image.Image {
	t.Helper()
	bin := browser()
	if bin == "" {
		t.Fatalf("headless Chromium is needed to check the rendered page: run ./test.sh, or %s", Install)
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "page.html")
	if err := os.WriteFile(page, []byte(html), 0o644); err != nil {
		t.Fatal(err)
	}
	if shot == "" {
		shot = filepath.Join(dir, "shot.png")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		"--screenshot="+shot, "--window-size="+strconv.Itoa(width)+","+strconv.Itoa(height),
		"file://"+page)
	cmd.Env = append(os.Environ(), "HOME="+dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s --screenshot: %v\n%s", bin, err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("chromium wrote no screenshot: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	return img
}

// browser finds Chromium on PATH under the names Debian and others give it.
func browser() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// Hex parses "#rrggbb".
func Hex(s string) (color.RGBA, error) {
	var c color.RGBA
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &c.R, &c.G, &c.B); err != nil {
		return c, fmt.Errorf("colour %q: want #rrggbb", s)
	}
	c.A = 255
	return c, nil
}

// Count is how many pixels of img inside r are within tol (per channel) of c: anti-aliasing
// blends a line's edges, its middle keeps the colour.
func Count(img image.Image, r image.Rectangle, c color.RGBA, tol int) int {
	n := 0
	r = r.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			pr, pg, pb, _ := img.At(x, y).RGBA()
			if near(pr>>8, c.R, tol) && near(pg>>8, c.G, tol) && near(pb>>8, c.B, tol) {
				n++
			}
		}
	}
	return n
}

func near(v uint32, want uint8, tol int) bool {
	d := int(v) - int(want)
	return d >= -tol && d <= tol
}

// Vertical finds the column holding the most pixels of colour c (a vertical line drawn in it)
// and returns it with the extent [top, bottom) of c in that column; ok is false without any.
func Vertical(img image.Image, c color.RGBA, tol int) (x, top, bottom int, ok bool) {
	b := img.Bounds()
	best := 0
	for cx := b.Min.X; cx < b.Max.X; cx++ {
		if n := Count(img, image.Rect(cx, b.Min.Y, cx+1, b.Max.Y), c, tol); n > best {
			x, best = cx, n
		}
	}
	if best == 0 {
		return 0, 0, 0, false
	}
	top, bottom = b.Max.Y, b.Min.Y
	for y := b.Min.Y; y < b.Max.Y; y++ {
		if Count(img, image.Rect(x, y, x+1, y+1), c, tol) > 0 {
			top, bottom = min(top, y), max(bottom, y+1)
		}
	}
	return x, top, bottom, true
}
