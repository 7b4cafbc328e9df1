// Command progress reads `go test -json` on stdin and shows a long test run as it goes: one line
// per package as it finishes, a failing package's output in full, and every 30 seconds the
// packages still running. It exits 1 when any package failed or did not build, so
// `go test -json ./... | go run ./tests/progress` fails as `go test ./...` does.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"
)

// event is the part of test2json's output this reads (`go doc test2json`).
type event struct {
	Action     string
	Package    string
	Test       string
	Elapsed    float64
	Output     string
	ImportPath string // build-output and build-fail events
}

func main() {
	os.Exit(run(os.Stdin, os.Stdout, 30*time.Second, time.Now))
}

// tracker holds what is known of each package; it is shared with the still-running ticker.
type tracker struct {
	mu                  sync.Mutex
	started             map[string]time.Time
	output              map[string]*strings.Builder
	ok, failed, noTests int
}

func run(in io.Reader, out io.Writer, every time.Duration, now func() time.Time) int {
	t := &tracker{started: map[string]time.Time{}, output: map[string]*strings.Builder{}}
	begin := now()
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				t.stillRunning(out, now())
			}
		}
	}()

	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		var ev event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			// Not test2json: a message from go itself (a module download, a vet error); show it.
			fmt.Fprintln(out, sc.Text())
			continue
		}
		t.handle(out, ev, now())
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintf(out, "progress: read go test -json: %v\n", err)
		return 1
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(out, "%d packages ok, %d failed (%d without tests) in %s\n",
		t.ok, t.failed, t.noTests, now().Sub(begin).Round(time.Second))
	if t.failed > 0 {
		return 1
	}
	return 0
}

func (t *tracker) handle(out io.Writer, ev event, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	pkg := ev.Package
	if pkg == "" {
		pkg = ev.ImportPath
	}
	if pkg == "" {
		return
	}
	buf := t.output[pkg]
	if buf == nil {
		buf = &strings.Builder{}
		t.output[pkg] = buf
	}
	switch ev.Action {
	case "start":
		t.started[pkg] = at
	case "output", "build-output":
		buf.WriteString(ev.Output)
	case "skip":
		if ev.Test == "" {
			t.noTests++
			delete(t.started, pkg)
			fmt.Fprintf(out, "?     %s [no test files]\n", pkg)
		}
	case "pass":
		if ev.Test == "" {
			t.ok++
			delete(t.started, pkg)
			fmt.Fprintf(out, "ok    %s %.1fs\n", pkg, ev.Elapsed)
		}
	case "fail":
		// build-fail is not counted: the package's own fail event follows it, with the build
		// output already collected.
		if ev.Test != "" {
			return
		}
		t.failed++
		delete(t.started, pkg)
		fmt.Fprintf(out, "FAIL  %s %.1fs\n%s", pkg, ev.Elapsed, indent(buf.String()))
	}
}

// stillRunning lists the packages started and not finished, longest-running first.
func (t *tracker) stillRunning(out io.Writer, at time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.started) == 0 {
		return
	}
	pkgs := make([]string, 0, len(t.started))
	for p := range t.started {
		pkgs = append(pkgs, p)
	}
	sort.Slice(pkgs, func(i, j int) bool {
		a, b := t.started[pkgs[i]], t.started[pkgs[j]]
		return a.Before(b) || a.Equal(b) && pkgs[i] < pkgs[j]
	})
	parts := make([]string, len(pkgs))
	for i, p := range pkgs {
		parts[i] = fmt.Sprintf("%s (%s)", p, at.Sub(t.started[p]).Round(time.Second))
	}
	fmt.Fprintf(out, "...   still running: %s\n", strings.Join(parts, ", "))
}

func indent(s string) string {
	var b strings.Builder
	for line := range strings.Lines(s) {
		b.WriteString("      " + line)
	}
	if s != "" && !strings.HasSuffix(s, "\n") {
		b.WriteString("\n")
	}
	return b.String()
}
