// Package python starts the python-socketio interop peer, test/python/server.py
// (python-socketio 5.x on aiohttp), for one test: the second server, beside the
// official Node one (test/nodeserver), that the client is checked against.
//
// The peer runs under Debian's /usr/bin/python3 with the python3-socketio and
// python3-aiohttp packages, which test/setup.sh (part of the test command,
// test/all.sh) installs. Start fails the test, never skips it, when they are
// missing: CI installs them, so a missing module is a broken setup.
//
// The tests of this package check, with plain HTTP and WebSocket requests,
// what python-socketio does where it differs from the official server (see
// README's server compatibility); test/python/interop runs the client against it.
package python

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sio-go/sio/test/serverproc"
)

// Interpreter is the Python that has Debian's python3-socketio: a python3
// found in PATH first (pyenv, a virtualenv) usually does not.
const Interpreter = "/usr/bin/python3"

// Option configures Start.
type Option func(*config)

type config struct {
	args []string
}

// WithArgs passes flags to server.py, e.g. WithArgs("--transports", "polling").
// See the top of test/python/server.py for the list.
func WithArgs(args ...string) Option {
	return func(c *config) { c.args = append(c.args, args...) }
}

// Server is a running server.py. Its methods (those of serverproc.Process:
// URL, Port, Stderr, Stop, ...) may be called from any goroutine.
type Server struct {
	*serverproc.Process
}

// Dir returns the directory holding server.py, located relative to this
// source file so that it does not depend on the test's working directory.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("python: runtime.Caller failed")
	}
	return filepath.Dir(file)
}

// checkScript is what CheckInstalled runs: it imports what server.py needs
// and prints the versions.
const checkScript = `import socketio, engineio, aiohttp
from importlib.metadata import version as v
print(v("python-socketio"), v("python-engineio"), v("aiohttp"))`

// CheckInstalled reports a clear error, naming test/setup.sh, when
// /usr/bin/python3 or the modules server.py needs are missing; otherwise it
// returns the versions of python-socketio, python-engineio and aiohttp.
func CheckInstalled() (string, error) {
	return checkInstalled(Interpreter)
}

func checkInstalled(python string) (string, error) {
	out, err := exec.Command(python, "-c", checkScript).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("python: %s cannot import socketio, engineio and aiohttp (%v: %s); "+
			"install Debian's python3-socketio and python3-aiohttp, as root: bash test/setup.sh",
			python, err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// Start runs test/python/server.py with /usr/bin/python3 on 127.0.0.1 and a
// random port, waits for its "LISTENING <port>" line, and stops it (SIGTERM,
// then SIGKILL, to its process group) in t.Cleanup. It fails the test when
// the interpreter or the modules are missing or when the server does not
// come up within 15 s; the server's stderr is logged on failure.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if _, err := CheckInstalled(); err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(Dir(), "server.py")
	if _, err := os.Stat(script); err != nil {
		t.Fatalf("python: %v", err)
	}
	// --port 0 comes first: a --port in cfg.args overrides it.
	args := append([]string{script, "--port", "0"}, cfg.args...)
	p := serverproc.Start(t, serverproc.Spec{
		Name: "test/python/server.py",
		Path: Interpreter,
		Args: args,
		Dir:  Dir(),
	})
	return &Server{Process: p}
}
