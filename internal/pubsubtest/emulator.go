// Package pubsubtest runs the real Pub/Sub emulator (the one shipped with the Google Cloud CLI) for
// tests and local runs, so publishing, pulling and push delivery are exercised against the same
// server semantics the product meets in production rather than an in-process imitation.
//
// The emulator is a Java server started by gcloud. Start puts gcloud in its own process group and
// stops the whole group: stopping gcloud alone would leave the Java server running. The exit
// paths of a test binary are covered this way:
//   - Close (registered with t.Cleanup by New) kills the group and waits until it is gone;
//   - a watchdog shell holds the read end of a pipe whose write end only the starting process
//     holds, so when that process dies for any reason (a panic, os.Exit, a go test -timeout
//     abort, Ctrl-C, SIGKILL) the kernel closes the pipe and the watchdog kills the group.
//
// The one gap is the few microseconds between starting gcloud and starting its watchdog.
package pubsubtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

// StartTimeout bounds how long Start waits for the emulator to answer when ctx has no earlier
// deadline. The Java server usually needs a few seconds.
const StartTimeout = 60 * time.Second

// stopTimeout bounds how long Close waits for the killed process group to disappear.
const stopTimeout = 10 * time.Second

// Emulator is one running emulator process group. It is safe for concurrent use; Close is
// idempotent.
type Emulator struct {
	project string
	host    string
	pgid    int
	logPath string        // stdout and stderr of gcloud and Java
	exited  chan struct{} // closed when gcloud has exited and been reaped
	waitErr error         // set before exited is closed
	client  *pubsub.Client

	leash        *os.File      // write end of the watchdog pipe; closing it kills the group
	watchdogDone chan struct{} // closed when the watchdog has exited

	closeOnce sync.Once
	closeErr  error
}

// New starts an emulator for a test and stops it in t.Cleanup. A missing gcloud, emulator
// component or Java runtime fails the test: those are part of the toolchain, not optional.
func New(t testing.TB, project string) *Emulator {
	t.Helper()
	e, err := Start(context.Background(), project)
	if err != nil {
		t.Fatalf("start pubsub emulator: %v", err)
	}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("stop pubsub emulator: %v", err)
		}
	})
	return e
}

// Start launches the emulator for project on a free loopback port and returns once its port
// answers. ctx bounds only the wait, never the emulator's lifetime: call Close to stop it.
func Start(ctx context.Context, project string) (*Emulator, error) {
	if project == "" {
		return nil, errors.New("pubsub emulator: empty project")
	}
	gcloud, err := preflight()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	// A port picked free can be taken before Java binds it; retry only that failure.
	for attempt := 1; ; attempt++ {
		e, err := launch(ctx, gcloud, project)
		if err == nil {
			return e, nil
		}
		if attempt == 3 || !errors.Is(err, errPortTaken) {
			return nil, err
		}
	}
}

// Host is the emulator address, the value PUBSUB_EMULATOR_HOST would take: "127.0.0.1:PORT".
func (e *Emulator) Host() string { return e.host }

// Project is the project the emulator was started for.
func (e *Emulator) Project() string { return e.project }

// Close stops the emulator's whole process group and waits until no process of it remains.
func (e *Emulator) Close() error {
	e.closeOnce.Do(func() {
		if e.client != nil {
			e.client.Close() // the connection is going away with the server; its error says nothing
		}
		e.closeErr = stopGroup(e.pgid, e.exited)
		e.leash.Close()
		<-e.watchdogDone // it reads EOF at once and exits
		os.Remove(e.logPath)
	})
	return e.closeErr
}

// preflight finds gcloud and checks that the emulator component and a Java runtime are there,
// so a missing piece is reported by name with how to install it.
func preflight() (gcloud string, err error) {
	gcloud, err = exec.LookPath("gcloud")
	if err != nil {
		return "", errors.New("pubsub emulator: gcloud not on PATH; install the Google Cloud CLI with the pubsub-emulator component (apt-get install google-cloud-cli google-cloud-cli-pubsub-emulator, or gcloud components install pubsub-emulator)")
	}
	if root, ok := sdkRoot(gcloud); ok {
		launcher := filepath.Join(root, "platform", "pubsub-emulator", "bin", "cloud-pubsub-emulator")
		if _, err := os.Stat(launcher); err != nil {
			return "", fmt.Errorf("pubsub emulator: component pubsub-emulator not installed in %s (no %s); install it with apt-get install google-cloud-cli-pubsub-emulator or gcloud components install pubsub-emulator", root, launcher)
		}
	}
	if home := os.Getenv("JAVA_HOME"); home != "" {
		java := filepath.Join(home, "bin", "java")
		if _, err := os.Stat(java); err != nil {
			return "", fmt.Errorf("pubsub emulator: JAVA_HOME is %s but %s does not exist; point JAVA_HOME at a Java 11+ runtime or unset it", home, java)
		}
	} else if _, err := exec.LookPath("java"); err != nil {
		return "", errors.New("pubsub emulator: java not on PATH; install a Java 11+ runtime (e.g. apt-get install default-jre-headless) or set JAVA_HOME")
	}
	return gcloud, nil
}

// sdkRoot is the Cloud SDK directory gcloud runs from. ok is false when the layout is not the
// usual one (bin/gcloud beside lib/gcloud.py); the component check is then left to gcloud.
func sdkRoot(gcloud string) (string, bool) {
	real, err := filepath.EvalSymlinks(gcloud)
	if err != nil {
		return "", false
	}
	root := filepath.Dir(filepath.Dir(real))
	if _, err := os.Stat(filepath.Join(root, "lib", "gcloud.py")); err != nil {
		return "", false
	}
	return root, true
}

// freePort asks the kernel for a loopback port that is free now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// portTaken reports whether the emulator's output says its port was already bound.
func portTaken(output string) bool {
	return strings.Contains(output, "Address already in use") || strings.Contains(output, "BindException")
}

func hostPort(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }
