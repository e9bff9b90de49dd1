package deploy_test

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// startTimeout bounds the wait for a process to listen.
	startTimeout = 20 * time.Second
	// stopTimeout is how long stop waits after SIGTERM before SIGKILL.
	stopTimeout = 5 * time.Second
)

// proc is a process started by a test: in a process group of its own (dante
// forks), its output kept for the failure log, stopped by its pid when the
// test ends.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{} // closed once the process has exited and was reaped
}

// startProc starts bin with args; a binary missing from PATH fails the
// test. The process is stopped (SIGTERM to its group, then SIGKILL) in
// t.Cleanup, and its output logged if the test failed.
func startProc(t *testing.T, name, bin string, args ...string) *proc {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Fatalf("%s: %v (install it: test/setup.sh)", name, err)
	}
	p := &proc{name: name, cmd: exec.Command(path, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.WaitDelay = stopTimeout
	return p.start(t)
}

func (p *proc) start(t *testing.T) *proc {
	t.Helper()
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("%s output:\n%s", p.name, p.out.String())
		}
	})
	return p
}

// signal sends sig to the process group.
func (p *proc) signal(sig syscall.Signal) {
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// stop ends the process: SIGTERM, then SIGKILL after stopTimeout.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		p.kill()
	}
}

// kill sends SIGKILL and waits until the process is gone.
func (p *proc) kill() {
	p.signal(syscall.SIGKILL)
	<-p.done
}

// waitListening waits until addr accepts connections, failing the test if
// the process exits or startTimeout passes first.
func (p *proc) waitListening(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-p.done:
			t.Fatalf("%s exited before listening on %s (%v):\n%s", p.name, addr, p.cmd.ProcessState, p.out.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not listening on %s after %v: %v\n%s", p.name, addr, startTimeout, err, p.out.String())
		}
	}
}

// freePort returns a loopback port that was free a moment ago, for a daemon
// whose configuration names its port.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeFile writes content to name in dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// nodeDir is test/deploy/node, found from this file.
func nodeDir(t *testing.T) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("runtime.Caller failed")
	}
	dir := filepath.Join(filepath.Dir(file), "node")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@socket.io", "redis-adapter")); err != nil {
		t.Fatalf("the Node packages are missing (%v); from the repository root: npm ci --prefix test/deploy/node", err)
	}
	return dir
}

// node is one running test/deploy/node/server.js.
type node struct {
	*proc
	port   int
	scheme string // http, or https with --tls-cert
}

// startNode starts server.js with its flags (see its header) on a free
// port, and waits until it listens.
func startNode(t *testing.T, name string, flags ...string) *node {
	t.Helper()
	dir := nodeDir(t)
	bin, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node (Node.js) not found: %v", err)
	}
	args := append([]string{filepath.Join(dir, "server.js"), "--name", name}, flags...)
	listening := &lineWatcher{prefix: "LISTENING ", found: make(chan string, 1)}
	out := &syncBuffer{}
	p := &proc{name: "node " + name, cmd: exec.Command(bin, args...), out: out, done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Stdout, p.cmd.Stderr = &teeWriter{listening, out}, out
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	p.cmd.WaitDelay = stopTimeout
	// server.js exits when stdin ends: an orphan dies with the test binary.
	if _, err := p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	p.start(t)
	select {
	case line := <-listening.found:
		port, err := strconv.Atoi(strings.TrimSpace(line))
		if err != nil {
			t.Fatalf("%s: bad LISTENING line %q", p.name, line)
		}
		n := &node{proc: p, port: port, scheme: "http"}
		if slices.Contains(flags, "--tls-cert") {
			n.scheme = "https"
		}
		return n
	case <-p.done:
		t.Fatalf("%s exited before listening:\n%s", p.name, out.String())
	case <-time.After(startTimeout):
		t.Fatalf("%s not listening after %v:\n%s", p.name, startTimeout, out.String())
	}
	panic("unreachable")
}

func (n *node) addr() string { return fmt.Sprintf("127.0.0.1:%d", n.port) }

// url is the node's URL, for a client connecting to it directly.
func (n *node) url() string { return n.scheme + "://" + n.addr() }

// startRedis starts redis-server on a free port, without persistence.
func startRedis(t *testing.T) string {
	t.Helper()
	port := freePort(t)
	p := startProc(t, "redis-server", "redis-server", "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", t.TempDir(), "--daemonize", "no")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p.waitListening(t, addr)
	return "redis://" + addr
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lineWatcher sends the rest of the first line starting with prefix.
type lineWatcher struct {
	prefix string
	found  chan string
	mu     sync.Mutex
	buf    []byte
	sent   bool
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.sent {
		return len(p), nil
	}
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.buf[:i])
		w.buf = w.buf[i+1:]
		if rest, ok := strings.CutPrefix(line, w.prefix); ok {
			w.sent = true
			w.found <- rest
			return len(p), nil
		}
	}
}

// teeWriter writes to both.
type teeWriter struct {
	a, b interface{ Write([]byte) (int, error) }
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.a.Write(p)
	return w.b.Write(p)
}
