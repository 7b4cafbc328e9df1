// Package emulator runs one of the Google Cloud CLI's emulators (Pub/Sub, Firestore) as a process
// group for tests and local runs, so the product meets the same server semantics it meets in
// production rather than an in-process imitation.
//
// An emulator is a Java server started by gcloud. Start puts gcloud in its own process group and
// stops the whole group: stopping gcloud alone would leave the Java server running. The exit
// paths of a test binary are covered this way:
//   - Close kills the group and waits until it is gone;
//   - a watchdog shell holds the read end of a pipe whose write end only the starting process
//     holds, so when that process dies for any reason (a panic, os.Exit, a go test -timeout
//     abort, Ctrl-C, SIGKILL) the kernel closes the pipe and the watchdog kills the group.
//
// The one gap is the few microseconds between starting gcloud and starting its watchdog.
package emulator

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
	"time"
)

// StartTimeout bounds how long Start waits for the emulator to answer when ctx has no earlier
// deadline. The Java server usually needs a few seconds.
const StartTimeout = 60 * time.Second

// StopTimeout bounds how long Close waits for the killed process group to disappear.
const StopTimeout = 10 * time.Second

// Spec names one emulator: Name is how errors call it ("pubsub emulator"), Component the gcloud
// component and platform directory ("pubsub-emulator"), Launcher the file under that directory
// whose absence means the component is missing, and Args what follows "gcloud" before
// --host-port.
type Spec struct {
	Name      string
	Component string
	Launcher  string
	Args      []string
}

// Process is one running emulator process group. It is safe for concurrent use; Close is
// idempotent.
type Process struct {
	spec    Spec
	host    string
	pgid    int
	logPath string        // stdout and stderr of gcloud and Java
	exited  chan struct{} // closed when gcloud has exited and been reaped
	waitErr error         // set before exited is closed

	leash        *os.File      // write end of the watchdog pipe; closing it kills the group
	watchdogDone chan struct{} // closed when the watchdog has exited

	closeOnce sync.Once
	closeErr  error
}

// Start launches the emulator on a free loopback port and returns once its port answers. ctx
// bounds only the wait, never the emulator's lifetime: call Close to stop it. A missing gcloud,
// component or Java runtime is reported by name with how to install it.
func Start(ctx context.Context, spec Spec) (*Process, error) {
	gcloud, err := preflight(spec)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	// A port picked free can be taken before Java binds it; retry only that failure.
	for attempt := 1; ; attempt++ {
		p, err := launch(ctx, gcloud, spec)
		if err == nil {
			return p, nil
		}
		if attempt == 3 || !errors.Is(err, errPortTaken) {
			return nil, err
		}
	}
}

// Host is the emulator address, the value PUBSUB_EMULATOR_HOST or FIRESTORE_EMULATOR_HOST would
// take: "127.0.0.1:PORT".
func (p *Process) Host() string { return p.host }

// Group is the process group id of gcloud and the Java server.
func (p *Process) Group() int { return p.pgid }

// Close stops the emulator's whole process group and waits until no process of it remains.
func (p *Process) Close() error {
	p.closeOnce.Do(func() {
		p.closeErr = stopGroup(p.pgid, p.exited)
		p.leash.Close()
		<-p.watchdogDone // it reads EOF at once and exits
		os.Remove(p.logPath)
	})
	return p.closeErr
}

// preflight finds gcloud and checks that the emulator component and a Java runtime are there.
func preflight(spec Spec) (gcloud string, err error) {
	gcloud, err = exec.LookPath("gcloud")
	if err != nil {
		return "", fmt.Errorf("%s: gcloud not on PATH; install the Google Cloud CLI with the %s component (apt-get install google-cloud-cli google-cloud-cli-%s, or gcloud components install %s)", spec.Name, spec.Component, spec.Component, spec.Component)
	}
	if root, ok := sdkRoot(gcloud); ok {
		launcher := filepath.Join(root, "platform", spec.Component, spec.Launcher)
		if _, err := os.Stat(launcher); err != nil {
			return "", fmt.Errorf("%s: component %s not installed in %s (no %s); install it with apt-get install google-cloud-cli-%s or gcloud components install %s", spec.Name, spec.Component, root, launcher, spec.Component, spec.Component)
		}
	}
	if home := os.Getenv("JAVA_HOME"); home != "" {
		java := filepath.Join(home, "bin", "java")
		if _, err := os.Stat(java); err != nil {
			return "", fmt.Errorf("%s: JAVA_HOME is %s but %s does not exist; point JAVA_HOME at a Java 11+ runtime or unset it", spec.Name, home, java)
		}
	} else if _, err := exec.LookPath("java"); err != nil {
		return "", fmt.Errorf("%s: java not on PATH; install a Java 11+ runtime (e.g. apt-get install default-jre-headless) or set JAVA_HOME", spec.Name)
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
