package main

import (
	"strings"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"start","Package":"example/a"}`,
		`{"Action":"start","Package":"example/b"}`,
		`{"Action":"output","Package":"example/a","Test":"TestX","Output":"=== RUN   TestX\n"}`,
		`{"Action":"pass","Package":"example/a","Test":"TestX","Elapsed":0.1}`,
		`{"Action":"output","Package":"example/b","Test":"TestY","Output":"    y_test.go:9: got 1, want 2\n"}`,
		`{"Action":"fail","Package":"example/b","Test":"TestY","Elapsed":0.2}`,
		`{"Action":"pass","Package":"example/a","Elapsed":1.25}`,
		`{"Action":"fail","Package":"example/b","Elapsed":2}`,
		`{"ImportPath":"example/c","Action":"build-output","Output":"c.go:3:1: syntax error\n"}`,
		`{"ImportPath":"example/c","Action":"build-fail"}`,
		`{"Action":"start","Package":"example/c"}`,
		`{"Action":"fail","Package":"example/c","Elapsed":0,"FailedBuild":"example/c"}`,
		`{"Action":"skip","Package":"example/d","Elapsed":0}`,
		`go: downloading example.com/x v1.0.0`,
	}, "\n") + "\n"
	var out strings.Builder
	code := run(strings.NewReader(in), &out, time.Hour, time.Now)
	if code != 1 {
		t.Errorf("run = exit %d, want 1 (two packages failed)", code)
	}
	got := out.String()
	for _, want := range []string{
		"ok    example/a 1.2s\n",
		"FAIL  example/b 2.0s\n",
		"      y_test.go:9: got 1, want 2\n",
		"FAIL  example/c 0.0s\n      c.go:3:1: syntax error\n",
		"?     example/d [no test files]\n",
		"go: downloading example.com/x v1.0.0\n",
		"1 packages ok, 2 failed (1 without tests) in ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "=== RUN   TestX") {
		t.Errorf("output shows a passing package's output:\n%s", got)
	}
}

func TestStillRunning(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tr := &tracker{started: map[string]time.Time{"example/slow": t0, "example/quick": t0.Add(40 * time.Second)}}
	var out strings.Builder
	tr.stillRunning(&out, t0.Add(time.Minute))
	if want := "...   still running: example/slow (1m0s), example/quick (20s)\n"; out.String() != want {
		t.Errorf("stillRunning = %q, want %q", out.String(), want)
	}
}
