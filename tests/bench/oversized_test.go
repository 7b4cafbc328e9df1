package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/runmedic/runmedic/function"
	"github.com/runmedic/runmedic/internal/audit"
	"github.com/runmedic/runmedic/internal/config"
	"github.com/runmedic/runmedic/internal/remediate"
)

// Oversized pushes run in a child process (this test binary again), so its peak RSS is theirs
// alone: the child serves the framework and nothing else; the parent posts.
const (
	envRSSChild    = "RUNMEDIC_RSS_CHILD"    // set: this process is the child
	envRSSMaxData  = "RUNMEDIC_RSS_MAX_DATA" // the child handler's MaxData
	oversizedN     = 8                       // the function's max_instance_request_concurrency
	oversizedSize  = 10_000_000              // Pub/Sub's maximum message size
	oversizedTopic = "oversized"
)

// TestOversizedPushesBoundedRSS posts eight 10 MB notifications at once, for a service that is
// not allowlisted, through the functions framework as Eventarc delivers them (binary-mode
// CloudEvents whose body is the MessagePublishedData), once with the 64 KiB cap and once without
// (MaxData above the message size, as the handler was before the cap, and the receiver's body
// cap to match). With the cap every push is acked with one log line and never read, and the
// child's peak RSS stays below the uncapped run's.
func TestOversizedPushesBoundedRSS(t *testing.T) {
	if os.Getenv(envRSSChild) != "" {
		serveOversizedChild(t)
		return
	}
	if testing.Short() {
		t.Skip("posts 8 × 13 MB twice")
	}
	if raceEnabled {
		t.Skip("the race detector's shadow memory would be measured, not runmedic's")
	}
	body := oversizedPushBody(t)
	capped := runOversizedChild(t, body, 0)
	uncapped := runOversizedChild(t, body, 1<<40)
	t.Logf("peak RSS with 8 × 10 MB in flight: %.1f MiB with the cap (%.1f MiB at start), %.1f MiB without (%.1f MiB at start)",
		capped.peakMiB, capped.startMiB, uncapped.peakMiB, uncapped.startMiB)
	if got := capped.lines; got != oversizedN {
		t.Errorf("capped: %d \"acked without decoding\" log lines, want %d (one per push)", got, oversizedN)
	}
	if capped.peakMiB >= uncapped.peakMiB {
		t.Errorf("capped peak RSS %.1f MiB, want below the uncapped %.1f MiB", capped.peakMiB, uncapped.peakMiB)
	}
	// The receiver acks each push from its Content-Length and never holds its body: eight
	// pushes must not grow the process by one body (13.3 MB).
	if grown := capped.peakMiB - capped.startMiB; grown > 12 {
		t.Errorf("capped: RSS grew %.1f MiB for %d pushes, want at most 12 (less than one body)", grown, oversizedN)
	}
}

// oversizedPushBody is a MessagePublishedData whose message data is a valid notification of
// oversizedSize bytes (a long summary) for a service outside the allowlist.
func oversizedPushBody(t *testing.T) []byte {
	t.Helper()
	head := `{"version":"1.2","incident":{"incident_id":"0.big","state":"open","started_at":1770200640,` +
		`"resource":{"type":"cloud_run_revision","labels":{"project_id":"elsewhere","location":"europe-west1","service_name":"stranger"}},"summary":"`
	tail := `"}}`
	data := head + strings.Repeat("x", oversizedSize-len(head)-len(tail)) + tail
	body, err := json.Marshal(map[string]any{
		"message": map[string]any{
			"data":        base64.StdEncoding.EncodeToString([]byte(data)),
			"messageId":   "big",
			"publishTime": time.Now().UTC().Format(time.RFC3339Nano),
		},
		"subscription": "projects/" + project + "/subscriptions/" + oversizedTopic + "-push",
	})
	if err != nil {
		t.Fatal(err)
	}
	return body
}

type oversizedResult struct {
	startMiB, peakMiB float64
	lines             int // log lines saying a push was acked without decoding
}

// runOversizedChild starts the child with maxData, posts oversizedN copies of body at once,
// checks each is acked, and returns the child's RSS figures and log lines.
func runOversizedChild(t *testing.T, body []byte, maxData int) oversizedResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestOversizedPushesBoundedRSS$", "-test.count=1")
	cmd.Env = append(os.Environ(), envRSSChild+"=1", envRSSMaxData+"="+strconv.Itoa(maxData))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	defer cmd.Wait()
	defer stdin.Close()
	out := bufio.NewScanner(stdout)
	field := func(prefix string) string {
		for out.Scan() {
			if v, ok := strings.CutPrefix(out.Text(), prefix); ok {
				return v
			}
		}
		t.Fatalf("child printed no %q line; stderr:\n%s", prefix, stderr.String())
		return ""
	}
	url := field("URL ")
	var res oversizedResult
	res.startMiB = parseMiB(t, field("RSS "))
	var wg sync.WaitGroup
	statuses := make(chan int, oversizedN)
	for range oversizedN {
		wg.Go(func() {
			req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
			if err != nil {
				t.Errorf("request: %v", err)
				return
			}
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("ce-specversion", "1.0")
			req.Header.Set("ce-id", "big")
			req.Header.Set("ce-type", "google.cloud.pubsub.topic.v1.messagePublished")
			req.Header.Set("ce-source", "//pubsub.googleapis.com/projects/"+project+"/topics/"+oversizedTopic)
			req.Header.Set("ce-time", time.Now().UTC().Format(time.RFC3339Nano))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("post: %v", err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	for s := range statuses {
		if !acked(s) {
			t.Errorf("push answered %d, want 2xx (ack)", s)
		}
	}
	fmt.Fprintln(stdin, "done")
	res.peakMiB = parseMiB(t, field("PEAK "))
	stdin.Close()
	cmd.Wait()
	res.lines = strings.Count(stderr.String(), "acked without decoding")
	return res
}

func parseMiB(t *testing.T, kB string) float64 {
	t.Helper()
	n, err := strconv.ParseFloat(strings.TrimSpace(kB), 64)
	if err != nil {
		t.Fatalf("RSS %q: %v", kB, err)
	}
	return n / 1024
}

// serveOversizedChild routes the oversized topic to a handler with no clients (a push that
// reached Cloud Run would fail) and reports VmRSS at start and VmHWM after the parent is done.
func serveOversizedChild(t *testing.T) {
	cfg, err := config.Default()
	if err != nil {
		t.Fatal(err)
	}
	maxData, _ := strconv.Atoi(os.Getenv(envRSSMaxData))
	log := audit.NewLogger(os.Stderr)
	h := &function.Handler{
		Remediator: &remediate.Remediator{Config: cfg, Now: time.Now, Log: log},
		Log:        log, MaxEventAge: time.Hour, Now: time.Now, MaxData: maxData,
	}
	source := "//pubsub.googleapis.com/projects/" + project + "/topics/" + oversizedTopic
	routes.Store(source, h)
	defer routes.Delete(source)
	fmt.Printf("URL %s\nRSS %d\n", baseURL, procStatus(t, "VmRSS"))
	bufio.NewReader(os.Stdin).ReadString('\n')
	fmt.Printf("PEAK %d\n", procStatus(t, "VmHWM"))
}

// childMaxBody is the receiver's body cap in the child: the one that matches its handler's
// MaxData. 0 (the default cap) in any other process.
func childMaxBody() int64 {
	if os.Getenv(envRSSChild) == "" {
		return 0
	}
	maxData, _ := strconv.Atoi(os.Getenv(envRSSMaxData))
	if maxData <= 0 {
		return 0
	}
	return function.RequestLimit(maxData)
}

// procStatus is a kB field of /proc/self/status.
func procStatus(t *testing.T, key string) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+":"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("%s: %v", key, err)
			}
			return n
		}
	}
	t.Fatalf("/proc/self/status has no %s", key)
	return 0
}
