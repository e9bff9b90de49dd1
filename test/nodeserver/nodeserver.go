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
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/sio-go/sio/test/serverproc"
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

// Server is a running server.js process. Its methods (those of
// serverproc.Process: URL, Port, Stderr, Stop, ...) may be called from any
// goroutine.
type Server struct {
	*serverproc.Process
	version string
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
	scheme := "http"
	for _, a := range cfg.args {
		if a == "--tls-cert" || strings.HasPrefix(a, "--tls-cert=") {
			scheme = "https"
		}
	}
	p := serverproc.Start(t, serverproc.Spec{
		Name:   rel + "/server.js",
		Path:   node,
		Args:   args,
		Dir:    dir,
		Scheme: scheme,
	})
	return &Server{Process: p, version: cfg.version}
}

// Version returns the socket.io major version of the server: "4", "3" or "2".
func (s *Server) Version() string { return s.version }
