// Package nodeserver starts the reference socket.io server (test/node/server.js, run with
// Node.js) from Go tests, so the client can be tested against the official implementation.
// WithVersion selects an older major version instead: the legacy peers
// test/node/legacy/v3/server.js (socket.io 3.1) and test/node/legacy/v2/server.js
// (socket.io 2.5, Engine.IO protocol 3 only), which take the same flags and serve the same
// events (their differences are listed at the top of each server.js).
//
// The Node dependencies must be installed first, from the repository root:
//
//	npm ci --prefix test/node
//	npm ci --prefix test/node/legacy/v3
//	npm ci --prefix test/node/legacy/v2
//
// Start fails the test (it never skips) when they are missing.
package nodeserver

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	// startTimeout bounds the wait for the "LISTENING <port>" line.
	startTimeout = 15 * time.Second
	// termTimeout is how long Stop waits after SIGTERM before it sends SIGKILL.
	termTimeout = 5 * time.Second
)

// Option configures Start.
type Option func(*config)

type config struct {
	args    []string
	version string
}

// DefaultVersion is the socket.io major version Start runs without WithVersion.
const DefaultVersion = "4"

// versionDirs maps a socket.io major version to its server's directory, relative to the
// repository root (and in the "npm ci --prefix" form).
var versionDirs = map[string]string{
	"4": "test/node",
	"3": "test/node/legacy/v3",
	"2": "test/node/legacy/v2",
}

// Versions returns the socket.io major versions WithVersion accepts, newest first.
func Versions() []string { return []string{"4", "3", "2"} }

// WithVersion selects the socket.io major version of the server: "4" (the default,
// test/node, socket.io 4.8), "3" (test/node/legacy/v3, socket.io 3.1) or "2"
// (test/node/legacy/v2, socket.io 2.5). Start fails the test for any other value.
func WithVersion(v string) Option {
	return func(c *config) { c.version = v }
}

// WithArgs passes extra flags to server.js, e.g. WithArgs("--transports", "polling").
// See the top of test/node/server.js for the list.
func WithArgs(args ...string) Option {
	return func(c *config) { c.args = append(c.args, args...) }
}

// Server is a running server.js process.
type Server struct {
	t       testing.TB
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	stderr  *syncBuffer
	scheme  string
	port    int
	version string

	done    chan struct{} // closed once the process has exited and been reaped
	waitErr error         // cmd.Wait's result, readable after done is closed

	stopOnce sync.Once
	reported bool // Start already failed the test with the stderr: Stop and Cleanup stay quiet
}

// Dir returns the directory holding the default (4.x) server.js and package.json, located
// relative to this source file so that it does not depend on the test's working directory.
func Dir() string {
	dir, err := VersionDir(DefaultVersion)
	if err != nil {
		panic(err)
	}
	return dir
}

// VersionDir returns the directory holding server.js and package.json for a socket.io
// major version ("4", "3" or "2"; "" means DefaultVersion).
func VersionDir(version string) (string, error) {
	rel, err := versionRel(version)
	if err != nil {
		return "", err
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("nodeserver: runtime.Caller failed")
	}
	root := filepath.Join(filepath.Dir(file), "..", "..")
	return filepath.Join(root, filepath.FromSlash(rel)), nil
}

// versionRel returns the server directory of version relative to the repository root.
func versionRel(version string) (string, error) {
	if version == "" {
		version = DefaultVersion
	}
	rel, ok := versionDirs[version]
	if !ok {
		return "", fmt.Errorf("nodeserver: unknown socket.io version %q, want one of %q", version, Versions())
	}
	return rel, nil
}

// checkInstalled reports a clear error when the npm dependencies of dir, the default
// server's directory, are missing.
func checkInstalled(dir string) error {
	return checkInstalledAt(dir, versionDirs[DefaultVersion])
}

// checkInstalledAt reports a clear error, naming "npm ci --prefix <prefix>", when server.js
// or the npm dependencies of dir are missing.
func checkInstalledAt(dir, prefix string) error {
	for _, f := range []string{"server.js", filepath.Join("node_modules", "socket.io", "package.json")} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return fmt.Errorf("nodeserver: %s is missing (%v); install the Node dependencies "+
				"from the repository root with: npm ci --prefix %s", filepath.Join(dir, f), err, prefix)
		}
	}
	return nil
}

// Start runs test/node/server.js (or the legacy server chosen by WithVersion) with node on
// 127.0.0.1 and a random port, waits for its "LISTENING <port>" line, and stops it
// (SIGTERM, then SIGKILL, to its process group) in t.Cleanup. It fails the test with
// t.Fatalf when the version is unknown, when node or node_modules is missing or when the
// server does not come up within 15 s; the server's stderr is logged on failure.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	cfg := config{version: DefaultVersion}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.version == "" {
		cfg.version = DefaultVersion
	}
	rel, err := versionRel(cfg.version)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := VersionDir(cfg.version)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkInstalledAt(dir, rel); err != nil {
		t.Fatal(err)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("nodeserver: node (Node.js 18+) not found in PATH: %v; then run: npm ci --prefix %s", err, rel)
	}

	// --port 0 comes first: a --port in cfg.args overrides it (server.js keeps the last value).
	args := append([]string{filepath.Join(dir, "server.js"), "--port", "0"}, cfg.args...)
	cmd := exec.Command(node, args...)
	cmd.Dir = dir
	setProcessGroup(cmd)
	cmd.WaitDelay = termTimeout // never hang in Wait on a pipe held open by someone else

	s := &Server{
		t:       t,
		cmd:     cmd,
		stderr:  &syncBuffer{},
		scheme:  "http",
		version: cfg.version,
		done:    make(chan struct{}),
	}
	for _, a := range cfg.args {
		if a == "--tls-cert" || strings.HasPrefix(a, "--tls-cert=") {
			s.scheme = "https"
		}
	}
	listening := &lineWatcher{prefix: "LISTENING ", found: make(chan string, 1)}
	cmd.Stdout = listening
	cmd.Stderr = s.stderr
	// The pipe stays open while we run; server.js exits on EOF, so it does not outlive us.
	if s.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatalf("nodeserver: stdin pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("nodeserver: starting %s: %v", node, err)
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		s.Stop()
		if t.Failed() && !s.reported {
			t.Logf("nodeserver: server.js stderr:\n%s", s.stderr.String())
		}
	})

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case line := <-listening.found:
		port, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "LISTENING ")))
		if err != nil || port <= 0 || port > 65535 {
			t.Fatalf("nodeserver: bad line from server.js: %q", line)
		}
		s.port = port
	case <-s.done:
		s.reported = true
		t.Fatalf("nodeserver: %s/server.js %v exited before listening (%v); stdout: %q; stderr:\n%s",
			rel, cfg.args, s.waitErr, listening.String(), s.stderr.String())
	case <-timer.C:
		s.reported = true
		t.Fatalf("nodeserver: %s/server.js %v did not print LISTENING within %v; stdout: %q; stderr:\n%s",
			rel, cfg.args, startTimeout, listening.String(), s.stderr.String())
	}
	return s
}

// URL returns the server's base URL, "http://127.0.0.1:PORT" ("https://..." with --tls-cert).
func (s *Server) URL() string {
	return fmt.Sprintf("%s://127.0.0.1:%d", s.scheme, s.port)
}

// Version returns the socket.io major version of the server: "4", "3" or "2".
func (s *Server) Version() string { return s.version }

// Port returns the port the server listens on.
func (s *Server) Port() int { return s.port }

// Stderr returns what the server has written to stderr so far.
func (s *Server) Stderr() string { return s.stderr.String() }

// Stop ends the server and waits until it has exited. It is idempotent and safe to call
// from several goroutines. It reports an error on the test if the server had died on its own.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		select {
		case <-s.done:
			if s.reported {
				return
			}
			s.t.Errorf("nodeserver: server.js exited unexpectedly: %v; stderr:\n%s", s.waitErr, s.stderr.String())
			return
		default:
		}
		signalGroup(s.cmd, false)
		_ = s.stdin.Close()
		select {
		case <-s.done:
		case <-time.After(termTimeout):
			s.t.Logf("nodeserver: server.js ignored SIGTERM for %v; killing it", termTimeout)
			signalGroup(s.cmd, true)
		}
	})
	<-s.done
}

// lineWatcher is server.js's stdout: it hands the first line starting with prefix to found.
type lineWatcher struct {
	prefix string
	found  chan string

	mu   sync.Mutex
	buf  bytes.Buffer
	sent bool
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.buf.Len() < 64<<10 {
		w.buf.Write(p)
	}
	if !w.sent {
		for _, line := range strings.SplitAfter(w.buf.String(), "\n") {
			if strings.HasSuffix(line, "\n") && strings.HasPrefix(line, w.prefix) {
				w.sent = true
				w.found <- strings.TrimRight(line, "\r\n")
				break
			}
		}
	}
	return len(p), nil
}

func (w *lineWatcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// syncBuffer is a bytes.Buffer safe for concurrent use, capped so a chatty server
// (DEBUG=*) cannot eat the test's memory.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

const maxStderr = 4 << 20

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := maxStderr - b.buf.Len(); room > 0 {
		if len(p) > room {
			b.buf.Write(p[:room])
			b.buf.WriteString("\n[nodeserver: stderr truncated]\n")
		} else {
			b.buf.Write(p)
		}
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
