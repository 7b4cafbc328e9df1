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
	"syscall"
	"time"

	"cloud.google.com/go/pubsub/v2"
)

// errPortTaken marks a start that lost its port to another process; Start retries it.
var errPortTaken = errors.New("port already in use")

// watchdog runs gcloud ("$@") in the background and a reader of fd 3 beside it, all in the
// shell's own process group. The reader returns only when every write end of the pipe is closed:
// by Close, or by the kernel when the starting process dies. It then kills the whole group.
const watchdog = `"$@" </dev/null 3<&- &
child=$!
( read -r _ <&3; kill -9 0 ) </dev/null &
wait "$child"
`

// launch starts one emulator group on a fresh port and waits until it answers.
func launch(ctx context.Context, gcloud, project string) (*Emulator, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("pubsub emulator: %w", err)
	}
	host := hostPort(port)
	leashR, leashW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("pubsub emulator: watchdog pipe: %w", err)
	}
	out := &tail{max: 8 << 10}
	cmd := exec.Command("/bin/sh", "-c", watchdog, "pubsub-emulator",
		gcloud, "beta", "emulators", "pubsub", "start", "--project="+project, "--host-port="+host)
	cmd.Env = append(os.Environ(), "CLOUDSDK_CORE_DISABLE_PROMPTS=1")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.ExtraFiles = []*os.File{leashR}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = time.Second // Java may keep the output pipe open after the shell is gone
	if err := cmd.Start(); err != nil {
		leashR.Close()
		leashW.Close()
		return nil, fmt.Errorf("pubsub emulator: run %s: %w", gcloud, err)
	}
	leashR.Close() // only the watchdog holds the read end now
	e := &Emulator{
		project: project, host: host, pgid: cmd.Process.Pid, cmd: cmd,
		output: out, exited: make(chan struct{}), leash: leashW,
	}
	go func() {
		e.waitErr = cmd.Wait()
		close(e.exited)
	}()
	if err := e.waitReady(ctx); err != nil {
		e.Close()
		return nil, err
	}
	e.client, err = pubsub.NewClient(context.Background(), project, e.ClientOptions()...)
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("pubsub emulator: client for %s: %w", host, err)
	}
	return e, nil
}

// waitReady polls the port until it accepts a connection, the emulator exits, or ctx ends.
func (e *Emulator) waitReady(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := net.DialTimeout("tcp", e.host, 250*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-e.exited:
			out := e.output.String()
			err := fmt.Errorf("pubsub emulator: exited before answering on %s (%v); output:\n%s", e.host, e.waitErr, out)
			if portTaken(out) {
				return fmt.Errorf("%w: %w", errPortTaken, err)
			}
			return err
		case <-ctx.Done():
			return fmt.Errorf("pubsub emulator: not answering on %s: %w; output:\n%s", e.host, ctx.Err(), e.output.String())
		case <-tick.C:
		}
	}
}

// stopGroup kills every process in group pgid and waits, bounded, until none is left. Zombies
// count as gone: they hold no port and their parent (init) reaps them.
func stopGroup(pgid int, exited <-chan struct{}) error {
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill process group %d: %w", pgid, err)
	}
	deadline := time.After(stopTimeout)
	select {
	case <-exited:
	case <-deadline:
		return fmt.Errorf("process group %d: shell still running %s after SIGKILL", pgid, stopTimeout)
	}
	for {
		live := liveMembers(pgid)
		if len(live) == 0 {
			return nil
		}
		select {
		case <-deadline:
			return fmt.Errorf("process group %d: pids %v still running %s after SIGKILL", pgid, live, stopTimeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// liveMembers lists the pids in group pgid that are not zombies. Without /proc it falls back to
// kill(-pgid, 0), which counts zombies as alive.
func liveMembers(pgid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		if syscall.Kill(-pgid, 0) == nil {
			return []int{pgid}
		}
		return nil
	}
	var pids []int
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		state, group, ok := procStat(pid)
		if ok && group == pgid && state != "Z" && state != "X" {
			pids = append(pids, pid)
		}
	}
	return pids
}

// procStat reads the state and process group of pid from /proc/PID/stat. The command name may
// hold spaces and parentheses, so fields are counted from the last ')'.
func procStat(pid int) (state string, pgid int, ok bool) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 3 {
		return "", 0, false
	}
	pgid, err = strconv.Atoi(f[2])
	if err != nil {
		return "", 0, false
	}
	return f[0], pgid, true
}

// tail keeps the last max bytes written to it: enough of the emulator's output to explain a
// failed start without holding a long-running server's whole log.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
