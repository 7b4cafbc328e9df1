package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// errPortTaken marks a start that lost its port to another process; Start retries it.
var errPortTaken = errors.New("port already in use")

// watchdog waits on fd 3, then kills process group $1 and removes the log file $2. The read
// returns only when every write end of the pipe is closed: by Close, or by the kernel when the
// starting process dies.
const watchdog = `read -r _ <&3; kill -9 -"$1"; rm -f "$2"`

// launch starts one emulator group on a fresh port and waits until it answers.
//
// gcloud runs as the leader of its own process group and the Java server inherits that group.
// (gcloud itself calls setpgid(0, 0) when it is not a session leader, so the group is gcloud's pid
// whatever the starter does; Setpgid only makes that true from the first instruction.)
func launch(ctx context.Context, gcloud string, spec Spec) (*Process, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	host := hostPort(port)
	// The output goes to a file, not a pipe to this process, so that the emulator's life does not
	// hang on this process reading: only Close or the watchdog end it.
	log, err := os.CreateTemp("", spec.Component+"-*.log")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", spec.Name, err)
	}
	defer log.Close() // the child holds its own descriptor
	args := append(append([]string{}, spec.Args...), "--host-port="+host)
	cmd := exec.Command(gcloud, args...)
	cmd.Env = append(os.Environ(), "CLOUDSDK_CORE_DISABLE_PROMPTS=1")
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.Remove(log.Name())
		return nil, fmt.Errorf("%s: run %s: %w", spec.Name, gcloud, err)
	}
	p := &Process{spec: spec, host: host, pgid: cmd.Process.Pid, logPath: log.Name(), exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	if err := p.startWatchdog(); err != nil {
		stopGroup(p.pgid, p.exited)
		os.Remove(p.logPath)
		return nil, err
	}
	if err := p.waitReady(ctx); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// startWatchdog starts the shell that kills the emulator's group once this process lets go of
// the pipe. It runs in a group of its own so that a terminal's Ctrl-C, which kills the test
// binary, does not kill the watchdog before it has done its job.
func (p *Process) startWatchdog() error {
	r, w, err := os.Pipe()
	if err != nil {
		return fmt.Errorf("%s: watchdog pipe: %w", p.spec.Name, err)
	}
	defer r.Close() // after Start only the watchdog holds the read end
	cmd := exec.Command("/bin/sh", "-c", watchdog, p.spec.Component+"-watchdog", strconv.Itoa(p.pgid), p.logPath)
	cmd.ExtraFiles = []*os.File{r}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		return fmt.Errorf("%s: start watchdog: %w", p.spec.Name, err)
	}
	p.leash = w
	p.watchdogDone = make(chan struct{})
	go func() {
		cmd.Wait() // it exits by design, killed or after killing; its status says nothing
		close(p.watchdogDone)
	}()
	return nil
}

// waitReady polls the port until it accepts a connection, the emulator exits, or ctx ends.
func (p *Process) waitReady(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		conn, err := net.DialTimeout("tcp", p.host, 250*time.Millisecond)
		if err == nil {
			conn.Close()
			return nil
		}
		select {
		case <-p.exited:
			out := p.Output()
			err := fmt.Errorf("%s: exited before answering on %s (%v); output:\n%s", p.spec.Name, p.host, p.waitErr, out)
			if portTaken(out) {
				return fmt.Errorf("%w: %w", errPortTaken, err)
			}
			return err
		case <-ctx.Done():
			return fmt.Errorf("%s: not answering on %s: %w; output:\n%s", p.spec.Name, p.host, ctx.Err(), p.Output())
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
	deadline := time.After(StopTimeout)
	select {
	case <-exited:
	case <-deadline:
		return fmt.Errorf("process group %d: gcloud still running %s after SIGKILL", pgid, StopTimeout)
	}
	for {
		live := LiveMembers(pgid)
		if len(live) == 0 {
			return nil
		}
		select {
		case <-deadline:
			return fmt.Errorf("process group %d: pids %v still running %s after SIGKILL", pgid, live, StopTimeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// LiveMembers lists the pids in group pgid that still have a running thread. A zombie whose
// threads have all exited holds no port and is reaped by its parent (init), so it counts as gone;
// but a multithreaded process (Java) shows its leader as a zombie while other threads are still
// tearing down and holding its sockets, so every thread is checked. Without /proc it falls back
// to kill(-pgid, 0), which counts zombies as alive.
func LiveMembers(pgid int) []int {
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
		if _, group, ok := procStat(filepath.Join("/proc", ent.Name())); ok && group == pgid && Running(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Running reports whether any thread of pid is neither a zombie nor dead.
func Running(pid int) bool {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "task")
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return false // the process is gone
	}
	for _, task := range tasks {
		state, _, ok := procStat(filepath.Join(dir, task.Name()))
		if ok && state != "Z" && state != "X" {
			return true
		}
	}
	return false
}

// procStat reads the state and process group from dir/stat (dir is /proc/PID or a task of it). The command name may
// hold spaces and parentheses, so fields are counted from the last ')'.
// procStat reads the state and process group from dir/stat (dir is /proc/PID or a task of it). The command name may
// hold spaces and parentheses, so fields are counted from the last ')'.
func procStat(dir string) (state string, pgid int, ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, "stat"))
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

// outputTail is how much of the emulator's output Output returns: enough to explain a failed
// start without holding a long-running server's whole log.
const outputTail = 8 << 10

// Output is the last few kilobytes the emulator wrote to stdout and stderr; empty after Close.
func (p *Process) Output() string {
	f, err := os.Open(p.logPath)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > outputTail {
		f.Seek(fi.Size()-outputTail, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}
