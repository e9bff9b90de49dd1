// Command sio watches, pokes and load-tests any Socket.IO server, built on
// the sio client library.
//
//	sio listen URL                 print every event as a JSON line
//	sio emit URL EVENT [ARG…]      send one event (--ack: wait for the reply)
//	sio connect URL                interactive: stdin lines are emitted
//	sio bench URL                  load generator with a latency report
//
// The URL's path is the namespace, as in sio.Dial. Install it with
//
//	go install github.com/sio-go/sio/cmd/sio@latest
//
// Exit status: 0 on success, 1 on an error (a refused connection, a failed
// emit), 2 on bad usage. Run "sio help" for the flags.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// usageError is bad usage: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// env is what a subcommand runs with: the process's streams, as run got
// them.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer // safe for concurrent use
	tty            bool      // stderr is a terminal
}

const usage = `usage: sio <command> URL [flags]

Commands:
  listen URL               print every event the server sends, one JSON line each
  emit URL EVENT [ARG...]  emit one event; each ARG is JSON, a bare word, or @FILE (binary)
  connect URL              emit each stdin line (EVENT ARG... or ["event", ...]); print events
  bench URL                load-test: many clients, emits at a rate, latency report

The URL's path is the namespace (http://localhost:3000/chat joins /chat).
"sio <command> -h" lists a command's flags.
`

// run is the command: it returns the exit status. ctx ends it early (the
// signal context of main).
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: &lockedWriter{w: stdout}, stderr: &lockedWriter{w: stderr}, tty: isTerminal(stderr)}
	stdout, stderr = e.stdout, e.stderr
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	var err error
	switch args[0] {
	case "listen":
		err = cmdListen(ctx, e, args[1:])
	case "emit":
		err = cmdEmit(ctx, e, args[1:])
	case "connect":
		err = cmdConnect(ctx, e, args[1:])
	case "bench":
		err = cmdBench(ctx, e, args[1:])
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "sio: unknown command %q\n%s", args[0], usage)
		return exitUsage
	}
	var ue *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errHelp):
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "sio %s: %v\n", args[0], err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "sio %s: %v\n", args[0], err)
		return exitError
	}
}

// isTerminal reports whether w is a character device, such as a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
