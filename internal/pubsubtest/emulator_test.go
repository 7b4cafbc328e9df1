package pubsubtest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/runmedic/runmedic/internal/emulator"
)

const project = "runmedic-test"

func TestPublishPull(t *testing.T) {
	e := New(t, project)
	ctx := context.Background()
	if err := e.CreateTopic(ctx, "alerts"); err != nil {
		t.Fatal(err)
	}
	if err := e.CreatePullSubscription(ctx, "alerts-pull", "alerts"); err != nil {
		t.Fatal(err)
	}
	attrs := map[string]string{"severity": "warning"}
	id1, err := e.Publish(ctx, "alerts", []byte(`{"n":1}`), attrs)
	if err != nil {
		t.Fatal(err)
	}
	id2, err := e.Publish(ctx, "alerts", []byte(`{"n":2}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if id1 == "" || id1 == id2 {
		t.Fatalf("Publish ids = %q, %q, want two distinct non-empty ids", id1, id2)
	}

	got, err := e.Pull(ctx, "alerts-pull", 2, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	want := []Message{
		{ID: id1, Data: []byte(`{"n":1}`), Attributes: attrs},
		{ID: id2, Data: []byte(`{"n":2}`)},
	}
	opts := cmp.Options{
		cmpopts.IgnoreFields(Message{}, "PublishTime"),
		cmpopts.EquateEmpty(),
		cmpopts.SortSlices(func(a, b Message) bool { return a.ID < b.ID }),
	}
	if diff := cmp.Diff(want, got, opts); diff != "" {
		t.Errorf("Pull (-want +got):\n%s", diff)
	}
	for _, m := range got {
		if m.PublishTime.IsZero() {
			t.Errorf("message %s has no publish time", m.ID)
		}
	}

	// Acknowledged messages do not come back.
	again, err := e.Pull(ctx, "alerts-pull", 1, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != 0 {
		t.Errorf("second Pull = %d messages, want 0 after ack", len(again))
	}
}

// pushBody is the raw push format the emulator POSTs: no CloudEvent headers, one message.
type pushBody struct {
	Message struct {
		Data        string            `json:"data"`
		Attributes  map[string]string `json:"attributes"`
		MessageID   string            `json:"messageId"`
		PublishTime string            `json:"publishTime"`
	} `json:"message"`
	Subscription string `json:"subscription"`
}

func TestPushDelivery(t *testing.T) {
	e := New(t, project)
	ctx := context.Background()

	type request struct {
		path, contentType string
		body              []byte
	}
	got := make(chan request, 10)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- request{r.URL.Path, r.Header.Get("Content-Type"), b}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)

	topicPath := "/projects/" + project + "/topics/alerts"
	if err := e.CreateTopic(ctx, "alerts"); err != nil {
		t.Fatal(err)
	}
	if err := e.CreatePushSubscription(ctx, "alerts-push", "alerts", srv.URL+topicPath); err != nil {
		t.Fatal(err)
	}
	data := []byte(`{"incident":{"incident_id":"0.abc"}}`)
	id, err := e.Publish(ctx, "alerts", data, map[string]string{"k": "v"})
	if err != nil {
		t.Fatal(err)
	}

	var req request
	select {
	case req = <-got:
	case <-time.After(30 * time.Second):
		t.Fatalf("no push within 30s; emulator output:\n%s", e.Output())
	}
	if req.path != topicPath {
		t.Errorf("push path = %q, want %q", req.path, topicPath)
	}
	if !strings.HasPrefix(req.contentType, "application/json") {
		t.Errorf("push Content-Type = %q, want application/json", req.contentType)
	}
	// The exact key set, so a change in the emulator's push format shows up here.
	var shape map[string]json.RawMessage
	if err := json.Unmarshal(req.body, &shape); err != nil {
		t.Fatalf("push body %s: %v", req.body, err)
	}
	var keys []string
	for k := range shape {
		keys = append(keys, k)
	}
	var message map[string]json.RawMessage
	if err := json.Unmarshal(shape["message"], &message); err != nil {
		t.Fatalf("push body message %s: %v", shape["message"], err)
	}
	for k := range message {
		keys = append(keys, "message."+k)
	}
	wantKeys := []string{"message", "message.attributes", "message.data", "message.messageId", "message.message_id", "message.publishTime", "message.publish_time", "subscription"}
	if diff := cmp.Diff(wantKeys, keys, cmpopts.SortSlices(func(a, b string) bool { return a < b })); diff != "" {
		t.Errorf("push body keys (-want +got):\n%s\nbody: %s", diff, req.body)
	}
	var body pushBody
	if err := json.Unmarshal(req.body, &body); err != nil {
		t.Fatalf("push body %s: %v", req.body, err)
	}
	if body.Message.Data != base64.StdEncoding.EncodeToString(data) {
		t.Errorf("message.data = %q, want base64 of %s", body.Message.Data, data)
	}
	if body.Message.MessageID != id {
		t.Errorf("message.messageId = %q, want %q", body.Message.MessageID, id)
	}
	if diff := cmp.Diff(map[string]string{"k": "v"}, body.Message.Attributes); diff != "" {
		t.Errorf("message.attributes (-want +got):\n%s", diff)
	}
	if _, err := time.Parse(time.RFC3339Nano, body.Message.PublishTime); err != nil {
		t.Errorf("message.publishTime = %q, want RFC 3339: %v", body.Message.PublishTime, err)
	}
	if want := e.SubscriptionName("alerts-push"); body.Subscription != want {
		t.Errorf("subscription = %q, want %q", body.Subscription, want)
	}
}

func TestCloseStopsProcessGroup(t *testing.T) {
	start := time.Now()
	e, err := Start(context.Background(), project)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("emulator answered on %s after %v", e.Host(), time.Since(start))

	members := emulator.LiveMembers(e.proc.Group())
	var java int
	for _, pid := range members {
		cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
		if strings.Contains(string(cmdline), "cloud-pubsub-emulator") && strings.HasPrefix(filepath.Base(strings.SplitN(string(cmdline), "\x00", 2)[0]), "java") {
			java = pid
		}
	}
	if java == 0 {
		e.Close()
		t.Fatalf("no java process in group %d (members %v)", e.proc.Group(), members)
	}

	if err := e.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if live := emulator.LiveMembers(e.proc.Group()); len(live) != 0 {
		t.Errorf("after Close, group %d still has %v", e.proc.Group(), live)
	}
	if emulator.Running(java) {
		t.Errorf("after Close, java pid %d still has a running thread", java)
	}
	if conn, err := net.Dial("tcp", e.Host()); err == nil {
		conn.Close()
		t.Errorf("after Close, %s still accepts connections", e.Host())
	}
}

func TestStartReportsMissingPieces(t *testing.T) {
	gcloud, err := exec.LookPath("gcloud")
	if err != nil {
		t.Fatalf("gcloud not on PATH; install the Google Cloud CLI with the pubsub-emulator component: %v", err)
	}
	// A Cloud SDK layout without the emulator component.
	bare := t.TempDir()
	for _, dir := range []string{"bin", "lib"} {
		if err := os.Mkdir(filepath.Join(bare, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"bin/gcloud", "lib/gcloud.py"} {
		if err := os.WriteFile(filepath.Join(bare, f), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Only the real gcloud, no java.
	onlyGcloud := t.TempDir()
	if err := os.Symlink(gcloud, filepath.Join(onlyGcloud, "gcloud")); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name, path, javaHome, want string
	}{
		{"no gcloud", t.TempDir(), "", "pubsub emulator: gcloud not on PATH; install the Google Cloud CLI"},
		{"no component", filepath.Join(bare, "bin"), "", "pubsub emulator: component pubsub-emulator not installed"},
		{"no java", onlyGcloud, "", "pubsub emulator: java not on PATH"},
		{"bad JAVA_HOME", onlyGcloud, filepath.Join(bare, "jre"), "pubsub emulator: JAVA_HOME is " + filepath.Join(bare, "jre")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("PATH", tt.path)
			t.Setenv("JAVA_HOME", tt.javaHome)
			e, err := Start(context.Background(), project)
			if err == nil {
				e.Close()
				t.Fatalf("Start with PATH=%s = nil error, want %q", tt.path, tt.want)
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("Start with PATH=%s = %q, want prefix %q", tt.path, err, tt.want)
			}
		})
	}
}

func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		e, err := Start(context.Background(), project)
		if err != nil {
			b.Fatal(err)
		}
		if err := e.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// TestWatchdogStopsOrphanedEmulator starts the emulator in a child test binary that then dies by
// SIGKILL, skipping every cleanup, and checks that the emulator's group dies with it.
func TestWatchdogStopsOrphanedEmulator(t *testing.T) {
	if os.Getenv("PUBSUBTEST_ORPHAN") == "1" {
		e, err := Start(context.Background(), project)
		if err != nil {
			fmt.Println("ERROR", err)
			os.Exit(1)
		}
		fmt.Printf("GROUP %d %s\n", e.proc.Group(), e.Host())
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchdogStopsOrphanedEmulator$")
	cmd.Env = append(os.Environ(), "PUBSUBTEST_ORPHAN=1")
	out, err := cmd.Output()
	var pgid int
	var host string
	if _, scanErr := fmt.Sscanf(string(out), "GROUP %d %s", &pgid, &host); scanErr != nil {
		t.Fatalf("child said %q (exit %v), want GROUP <pgid> <host>", out, err)
	}
	if cmd.ProcessState.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child exited with %v, want killed by SIGKILL", cmd.ProcessState)
	}
	deadline := time.Now().Add(emulator.StopTimeout)
	for len(emulator.LiveMembers(pgid)) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if live := emulator.LiveMembers(pgid); len(live) != 0 {
		syscall.Kill(-pgid, syscall.SIGKILL)
		t.Fatalf("group %d of a killed starter still has %v", pgid, live)
	}
	if conn, err := net.Dial("tcp", host); err == nil {
		conn.Close()
		t.Errorf("%s still accepts connections after its starter died", host)
	}
}
