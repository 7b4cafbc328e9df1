// Command runmedic remediates Cloud Run memory incidents the way the on-call runbook does: it
// decides with Rego policies, shows a Terraform-style plan, and applies it through the Cloud Run
// Admin API. Run `runmedic help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/runmedic/runmedic/internal/gctune"
	"golang.org/x/term"
)

// Exit codes follow `terraform plan -detailed-exitcode`, plus one for a plan nobody may apply.
const (
	exitOK      = 0 // success, no changes
	exitError   = 1 // an error, or an input runmedic cannot act on
	exitChanges = 2 // success, the plan has changes and may be applied (replay: the policy sets differ)
	exitRefused = 3 // success, the plan has changes that will not be applied (guard refusal, shadow mode)
	// exitInterrupted is what a shell reports for a command ended by Ctrl-C (128 + SIGINT).
	exitInterrupted = 130
)

// env is what a command may touch of the process: its streams and arguments. Commands never
// call os.Exit and never write to os.Stdout directly, so tests can run them in-process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// stdoutIsTerminal decides colour and whether apply may ask for confirmation.
	stdoutIsTerminal, stdinIsTerminal bool
	// program is how the user ran runmedic ("./runmedic", "bin/runmedic"), for the commands
	// runmedic suggests; "" is "runmedic".
	program string
}

type command struct {
	summary string
	run     func(ctx context.Context, e env, args []string) int
}

var commands = map[string]command{
	"plan":     {"Decide an incident against a snapshot or the live service and show the plan", runPlan},
	"apply":    {"Plan an incident against the live service, confirm, and apply", runApply},
	"snapshot": {"Capture a live service as snapshot JSON (for plan and replay)", runSnapshot},
	"test":     {"Run the Rego unit tests with coverage, then the scenario goldens", runTest},
	"replay":   {"Decide every scenario in a directory; compare two policy sets", runReplay},
	"serve":    {"Serve the Cloud Function locally (functions framework)", runServe},
	"sandbox":  {"Run the whole loop locally: emulator, fakes, function, one alert", runSandbox},
	"fakes":    {"Serve fake Cloud Run, Monitoring and Logging APIs seeded from a scenario, to try --live", runFakes},
	"unpin":    {"Release a traffic pin runmedic made, through the same guard", runUnpin},
	"status":   {"Show every managed service: memory, incidents, actions, verifications, holds", runStatus},
	"report":   {"Write up one incident from alert to resolution, with its memory chart", runReport},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// Every command decides, and deciding allocates much and keeps little: collect less often
	// (GOGC=400 unless GOGC is set; `runmedic plan` is a quarter faster for it).
	gctune.Tune(os.Getenv)
	code := run(ctx, env{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv,
		stdoutIsTerminal: isTerminal(os.Stdout), stdinIsTerminal: isTerminal(os.Stdin),
		program: programName(os.Args[0]),
	}, os.Args[1:])
	stop()
	os.Exit(code)
}

func run(ctx context.Context, e env, args []string) int {
	if len(args) == 0 {
		return fail(e, errors.New("no command; run `runmedic help` for the commands"))
	}
	if args[0] == "help" || args[0] == "-h" || args[0] == "--help" || args[0] == "-help" {
		usage(e.stdout)
		return exitOK
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(e.stderr, "Error: unknown command %q; run `runmedic help` for the commands\n", args[0])
		return exitError
	}
	return cmd.run(ctx, e, args[1:])
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: runmedic <command> [flags]")
	fmt.Fprintln(w, "\nrunmedic remediates Cloud Run memory incidents as the on-call runbook does.")
	fmt.Fprintln(w, "\nCommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun `runmedic <command> -help` for a command's flags.")
}

// newFlags makes a command's flag set. Its help (-help) starts with synopsis and about and goes
// to stdout; the flag package itself prints nothing, so a bad flag is one line (parseFlags).
func newFlags(e env, name, synopsis, about string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // the flag package calls it on errors too; parseFlags prints help
	helps.Store(fs, func() {
		fmt.Fprintf(e.stdout, "Usage: runmedic %s %s\n\n%s\n\nFlags:\n", name, synopsis, about)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	})
	return fs
}

// helps holds each flag set's -help printer (*flag.FlagSet -> func()).
var helps sync.Map

// parseFlags parses args, turning -help into its help and exit 0 and a bad flag or a stray
// argument into one line and exit 1. ok is false when the command must return code.
func parseFlags(e env, fs *flag.FlagSet, args []string) (code int, ok bool) {
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		if help, ok := helps.Load(fs); ok {
			help.(func())()
		}
		return exitOK, false
	case err != nil:
		return fail(e, fmt.Errorf("%v; run `runmedic %s -help` for its flags", err, fs.Name())), false
	case fs.NArg() > 0 && fs.Name() != "test" && fs.Name() != "replay":
		return fail(e, fmt.Errorf("unexpected argument %q; run `runmedic %s -help` for its flags", fs.Arg(0), fs.Name())), false
	}
	return 0, true
}

// fail prints err as the one-line error runmedic promises and returns exitError.
func fail(e env, err error) int {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	fmt.Fprintf(e.stderr, "Error: %s\n", msg)
	return exitError
}

// programName is argv[0] when it is a path ("./runmedic"), so a suggested command can be pasted
// as it is; a name found on PATH is just "runmedic".
func programName(argv0 string) string {
	if strings.Contains(argv0, "/") && !strings.HasPrefix(argv0, os.TempDir()) {
		return argv0
	}
	return "runmedic"
}

// isTerminal reports whether f is a terminal. A character device is not enough: /dev/null is
// one, and apply must not prompt on it.
func isTerminal(f *os.File) bool {
	return term.IsTerminal(int(f.Fd()))
}
