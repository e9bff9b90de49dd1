// Package serverproc runs a test peer, such as the Node server of
// test/nodeserver or the python-socketio server of test/python, as a child
// process for the duration of one test.
//
// The peer must listen on loopback on the port it is given (0: a random one),
// print one line "LISTENING <port>" to stdout once it accepts connections,
// exit on SIGTERM, and exit when its stdin reaches EOF, so that it dies with
// the test binary even when that is killed. Start waits for the line and
// stops the peer (SIGTERM, then SIGKILL, to its process group) in t.Cleanup.
package serverproc

import (
	"bytes"
	"fmt"
	"io"
	"os/exec"
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

// Spec says how to run a peer.
type Spec struct {
	// Name names the peer in messages, e.g. "test/node/server.js".
	Name string
	// Path is the executable and Args its arguments.
	Path string
	Args []string
	// Dir is the working directory; "" means the test's.
	Dir string
	// Scheme is the scheme of URL: "http" when empty.
	Scheme string
}

// Process is a running peer. Its methods may be called from any goroutine.
type Process struct {
	t      testing.TB
	name   string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr *syncBuffer
	scheme string
	port   int

	done    chan struct{} // closed once the process has exited and been reaped
	waitErr error         // cmd.Wait's result, readable after done is closed

	stopOnce sync.Once
	mu       sync.Mutex
	expected bool // the exit is expected (Start failed already, or CloseStdin)
}

// Start runs the peer, waits up to 15 s for its "LISTENING <port>" line and
// stops it in t.Cleanup. It fails the test with t.Fatalf when the peer cannot
// start, exits first or does not print the line in time; the peer's stderr
// is logged on failure.
func Start(t testing.TB, spec Spec) *Process {
	t.Helper()
	cmd := exec.Command(spec.Path, spec.Args...)
	cmd.Dir = spec.Dir
	setProcessGroup(cmd)
	cmd.WaitDelay = termTimeout // never hang in Wait on a pipe held open by someone else

	p := &Process{
		t:      t,
		name:   spec.Name,
		cmd:    cmd,
		stderr: &syncBuffer{},
		scheme: spec.Scheme,
		done:   make(chan struct{}),
	}
	if p.scheme == "" {
		p.scheme = "http"
	}
	listening := &lineWatcher{prefix: "LISTENING ", found: make(chan string, 1)}
	cmd.Stdout = listening
	cmd.Stderr = p.stderr
	// The pipe stays open while we run; the peer exits on EOF, so it does
	// not outlive us.
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatalf("serverproc: %s: stdin pipe: %v", spec.Name, err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("serverproc: starting %s (%s): %v", spec.Name, spec.Path, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() && !p.isExpected() {
			t.Logf("serverproc: %s stderr:\n%s", spec.Name, p.stderr.String())
		}
	})

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case line := <-listening.found:
		port, err := strconv.Atoi(strings.TrimSpace(strings.TrimPrefix(line, "LISTENING ")))
		if err != nil || port <= 0 || port > 65535 {
			t.Fatalf("serverproc: bad line from %s: %q", spec.Name, line)
		}
		p.port = port
	case <-p.done:
		p.expect()
		t.Fatalf("serverproc: %s %q exited before listening (%v); stdout: %q; stderr:\n%s",
			spec.Name, spec.Args, p.waitErr, listening.String(), p.stderr.String())
	case <-timer.C:
		p.expect()
		t.Fatalf("serverproc: %s %q did not print LISTENING within %v; stdout: %q; stderr:\n%s",
			spec.Name, spec.Args, startTimeout, listening.String(), p.stderr.String())
	}
	return p
}

// URL returns the peer's base URL, "http://127.0.0.1:PORT" (or with the
// Spec's scheme).
func (p *Process) URL() string {
	return fmt.Sprintf("%s://127.0.0.1:%d", p.scheme, p.port)
}

// Port returns the port the peer listens on.
func (p *Process) Port() int { return p.port }

// Pid returns the peer's process id (and process group id, on Unix).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Stderr returns what the peer has written to stderr so far.
func (p *Process) Stderr() string { return p.stderr.String() }

// Done is closed once the peer has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// ExitedCleanly reports, once Done is closed, whether the peer exited with
// status 0.
func (p *Process) ExitedCleanly() bool {
	<-p.done
	return p.cmd.ProcessState != nil && p.cmd.ProcessState.Success()
}

// CloseStdin closes the peer's stdin, which makes it exit; Stop then does
// not report the exit as unexpected.
func (p *Process) CloseStdin() {
	p.expect()
	_ = p.stdin.Close()
}

func (p *Process) expect() {
	p.mu.Lock()
	p.expected = true
	p.mu.Unlock()
}

func (p *Process) isExpected() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.expected
}

// Stop ends the peer and waits until it has exited. It is idempotent and
// safe to call from several goroutines. It reports an error on the test if
// the peer had died on its own.
func (p *Process) Stop() {
	p.stopOnce.Do(func() {
		select {
		case <-p.done:
			if !p.isExpected() {
				p.t.Errorf("serverproc: %s exited unexpectedly: %v; stderr:\n%s", p.name, p.waitErr, p.stderr.String())
			}
			return
		default:
		}
		signalGroup(p.cmd, false)
		_ = p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(termTimeout):
			p.t.Logf("serverproc: %s ignored SIGTERM for %v; killing it", p.name, termTimeout)
			signalGroup(p.cmd, true)
		}
	})
	<-p.done
}

// lineWatcher is the peer's stdout: it hands the first line starting with
// prefix to found.
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

// syncBuffer is a bytes.Buffer safe for concurrent use, capped so a chatty
// peer (DEBUG=*) cannot eat the test's memory.
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
			b.buf.WriteString("\n[serverproc: stderr truncated]\n")
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
