// Command coldstart measures the Cloud Function's cold start: it is the function binary as
// Cloud Functions builds it (the function package and the functions framework), plus a client
// that POSTs one Pub/Sub push body to it over loopback as soon as it listens. The first
// delivery wires the clients and compiles the policies, then observes, decides and applies, so
// the time from exec to the response is cold start to first decision.
//
//	coldstart PUSH_BODY_FILE
//
// The Cloud Run, Monitoring and Logging endpoints come from the environment as for `runmedic serve`. It
// prints one line on stderr: "coldstart status=S vmhwm_kib=N", the HTTP status of the delivery
// and the peak resident memory of the process.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/GoogleCloudPlatform/functions-framework-go/funcframework"

	"github.com/runmedic/runmedic/function"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "coldstart: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 1 {
		return errors.New("usage: coldstart PUSH_BODY_FILE")
	}
	body, err := os.ReadFile(args[0])
	if err != nil {
		return err
	}
	if err := os.Setenv("FUNCTION_TARGET", function.EntryPoint); err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	errc := make(chan error, 1)
	go func() { errc <- funcframework.StartHostPort("127.0.0.1", port) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.Dial("tcp", addr)
		if err == nil {
			conn.Close()
			break
		}
		select {
		case err := <-errc:
			return fmt.Errorf("serve on %s: %v", addr, err)
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not accepting connections after 10s", addr)
		}
	}
	resp, err := http.Post("http://"+addr+"/projects/p/topics/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	fmt.Fprintf(os.Stderr, "coldstart status=%d vmhwm_kib=%s\n", resp.StatusCode, vmHWM())
	return nil
}

// vmHWM is the process's peak resident set size in KiB, from /proc/self/status.
func vmHWM() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			return strings.TrimSuffix(strings.TrimSpace(v), " kB")
		}
	}
	return "unknown"
}
