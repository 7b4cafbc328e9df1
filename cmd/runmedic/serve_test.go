package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/runmedic/runmedic/internal/clients"
	"github.com/runmedic/runmedic/internal/cloudruntest"
	"github.com/runmedic/runmedic/internal/firestoretest"
	"github.com/runmedic/runmedic/internal/ledger"
	"github.com/runmedic/runmedic/internal/loggingtest"
	"github.com/runmedic/runmedic/internal/monitoringtest"
	"github.com/runmedic/runmedic/internal/scenario"
)

// TestHelperProcess is not a test: it is the runmedic command, run by the tests below as a
// child process, for commands whose servers live as long as their process.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("RUNMEDIC_HELPER_PROCESS") != "1" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := strings.Split(os.Getenv("RUNMEDIC_HELPER_ARGS"), "\x1f")
	os.Exit(run(ctx, env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, args))
}

// helperCommand is runmedic args run as a child process with extra environment; it is killed when
// the test ends if it is still running.
func helperCommand(t *testing.T, extraEnv []string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), append(extraEnv, "RUNMEDIC_HELPER_PROCESS=1", "RUNMEDIC_HELPER_ARGS="+strings.Join(args, "\x1f"))...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t.Cleanup(func() {
		if cmd.Process != nil && cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, &stdout, &stderr
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestServeRemediatesPushedAlert serves the function in a child process configured only by the
// environment, posts a raw Pub/Sub push body to a topic path, and checks the fake service was
// changed; then Ctrl-C stops the command with exit 0.
func TestServeRemediatesPushedAlert(t *testing.T) {
	sc, err := scenario.Load(filepath.Join("..", "..", "tests", "scenarios", "insufficient-memory"))
	if err != nil {
		t.Fatal(err)
	}
	snap, err := sc.Prepare()
	if err != nil {
		t.Fatal(err)
	}
	shift := time.Now().UTC().Truncate(time.Minute).Sub(snap.CapturedAt)
	snap = snap.Shifted(shift)
	incident, err := scenario.ShiftIncident(sc.Incident, shift)
	if err != nil {
		t.Fatal(err)
	}
	run := cloudruntest.New(t)
	mon := monitoringtest.New(t)
	if err := run.SeedFromSnapshot(snap); err != nil {
		t.Fatal(err)
	}
	mon.SeedFromSnapshot(snap)
	lg := loggingtest.New(t)
	lg.SeedFromSnapshot(snap)

	port := freePort(t)
	ledgerProject := firestoretest.Project(t)
	cmd, _, stderr := helperCommand(t, []string{
		clients.EnvRunEndpoint + "=" + run.Addr(),
		clients.EnvMonitoringEndpoint + "=" + mon.Addr(),
		clients.EnvLoggingEndpoint + "=" + lg.Addr(),
		clients.EnvAuditTopic + "=", clients.EnvNotifyTopic + "=",
		ledger.EnvEmulator + "=" + firestoretest.Shared(t).Host(),
		ledger.EnvProject + "=" + ledgerProject,
		ledger.EnvDatabase + "=serve-test",
	}, "serve", "--port", strconv.Itoa(port))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	waitListening(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), stderr)

	body := fmt.Sprintf(`{"message":{"data":%q,"messageId":"42","publishTime":%q},"subscription":"projects/aiprod-484120/subscriptions/push"}`,
		base64.StdEncoding.EncodeToString(incident), time.Now().UTC().Format(time.RFC3339Nano))
	resp, err := http.Post(url+"/projects/aiprod-484120/topics/alerts", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("push status = %d, want 200; stderr:\n%s", resp.StatusCode, stderr)
	}
	svc := run.Service(snap.Target.Name())
	if got := svc.GetTemplate().GetContainers()[0].GetResources().GetLimits()["memory"]; got != "4Gi" {
		t.Errorf("memory after the push = %q, want 4Gi", got)
	}
	store, err := ledger.Open(context.Background(), ledgerProject, "serve-test", ledger.EmulatorOptions(firestoretest.Shared(t).Host())...)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	entry, err := store.Load(context.Background(), snap.Target, "", time.Now())
	if err != nil || !entry.State.Done(snap.Incident.ID, "raise_memory") {
		t.Errorf("ledger after the push: %+v, %v; want the raise recorded", entry.State.Actions, err)
	}

	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after Ctrl-C: %v, want exit 0; stderr:\n%s", err, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("serve still running 10s after Ctrl-C")
	}
	if !strings.Contains(stderr.String(), "Stopped.") {
		t.Errorf("stderr = %q, want it to say Stopped.", stderr)
	}
	if want := "Cloud Run   API: " + run.Addr() + " (local fake"; strings.Count(stderr.String(), want) != 1 || strings.Contains(stderr.String(), "Warning:") {
		t.Errorf("stderr = %q, want %q once and no warning", stderr, want)
	}
	if conn, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
		conn.Close()
		t.Errorf("port %d still accepts connections after serve stopped", port)
	}
}

// TestServeWarnsWithoutEndpoints: served without fakes, the function acts on real projects.
func TestServeWarnsWithoutEndpoints(t *testing.T) {
	port := freePort(t)
	cmd, _, _ := helperCommand(t, []string{
		clients.EnvRunEndpoint + "=", clients.EnvMonitoringEndpoint + "=", clients.EnvAuditTopic + "=", clients.EnvNotifyTopic + "=",
	}, "serve", "--port", strconv.Itoa(port))
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	var stderr strings.Builder
	sc := bufio.NewScanner(r)
	for sc.Scan() && !strings.HasPrefix(sc.Text(), "Serving function") {
		stderr.WriteString(sc.Text() + "\n")
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	for sc.Scan() {
		stderr.WriteString(sc.Text() + "\n")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after Ctrl-C: %v; stderr:\n%s", err, stderr.String())
	}
	for _, want := range []string{
		"Cloud Run   API: run.googleapis.com (Google, as the Application Default Credentials identity)",
		"Warning: without RUNMEDIC_RUN_ENDPOINT and RUNMEDIC_MONITORING_ENDPOINT this acts on real projects as the Application Default Credentials identity",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("serve without endpoints: stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

func waitListening(t *testing.T, addr string, stderr *bytes.Buffer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if conn, err := net.DialTimeout("tcp", addr, 250*time.Millisecond); err == nil {
			conn.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listening on %s after 10s; stderr:\n%s", addr, stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServeRejects(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"port zero", []string{"serve", "--port", "0"}, "Error: --port 0: want 1-65535\n"},
		{"port too large", []string{"serve", "--port", "70000"}, "Error: --port 70000: want 1-65535\n"},
		{"argument", []string{"serve", "extra"}, "Error: unexpected argument \"extra\"; run `runmedic serve -help` for its flags\n"},
		{"port busy", []string{"serve", "--port", busyPort}, "Error: listen on 127.0.0.1:" + busyPort + ":"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}, tt.args)
			if code != exitError || !strings.HasPrefix(stderr.String(), tt.want) || strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("run(%q) = %d, stderr %q; want %d and %q", tt.args, code, stderr.String(), exitError, tt.want)
			}
		})
	}
}
