package main

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sio-go/sio/test/nodeserver"
)

// interactive is "sio connect" running with a pipe as its stdin.
type interactive struct {
	t           *testing.T
	typing      *io.PipeWriter
	out, errOut buffer
	done        chan int
}

func startConnect(t *testing.T, args ...string) *interactive {
	stdin, typing := io.Pipe()
	c := &interactive{t: t, typing: typing, done: make(chan int, 1)}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	t.Cleanup(func() { typing.Close() })
	go func() { c.done <- run(ctx, append([]string{"connect"}, args...), stdin, &c.out, &c.errOut) }()
	return c
}

func (c *interactive) typeLine(s string) { io.WriteString(c.typing, s+"\n") }

// waitLines waits until stdout has n lines.
func (c *interactive) waitLines(n int) {
	c.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); strings.Count(c.out.String(), "\n") < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			c.t.Fatalf("after 20 s, stdout:\n%s\nstderr:\n%s", c.out.String(), c.errOut.String())
		}
	}
}

// wait returns the exit status.
func (c *interactive) wait() int {
	c.t.Helper()
	select {
	case code := <-c.done:
		return code
	case <-time.After(20 * time.Second):
		c.t.Fatal("connect did not end")
		return -1
	}
}

// TestConnect drives an interactive session: each line is emitted and the
// echoes print; a bad line is reported and the session goes on; EOF ends it.
func TestConnect(t *testing.T) {
	srv := nodeserver.Start(t)
	c := startConnect(t, srv.URL()+"/chat", "--transports", "websocket")
	c.waitLines(1) // connect
	c.typeLine(`echo hello {"x": [1, 2]} 7`)
	c.waitLines(2)
	c.typeLine("echo {bad\n\n[\"echo\", \"two words\", true]")
	c.waitLines(3)
	c.typing.Close() // EOF
	if code := c.wait(); code != 0 {
		t.Errorf("status %d, stderr:\n%s", code, c.errOut.String())
	}
	checkLines(t, lines(t, c.out.String()),
		`{"time":"T","ns":"/chat","type":"connect"}`,
		`{"time":"T","ns":"/chat","type":"event","event":"echo","args":["hello",{"x":[1,2]},7]}`,
		`{"time":"T","ns":"/chat","type":"event","event":"echo","args":["two words",true]}`)
	if want := `sio: argument "{bad" is not valid JSON`; !strings.Contains(c.errOut.String(), want) {
		t.Errorf("stderr %q does not say %q", c.errOut.String(), want)
	}
}

// scripted runs "sio connect" with the lines as stdin, then waits for it to
// end by itself (the lines end the session) and returns what it printed.
func scripted(t *testing.T, lines string, args ...string) result {
	t.Helper()
	stdin, typing := io.Pipe()
	defer typing.Close()
	go io.WriteString(typing, lines) // ends when the command has read it, or at Close
	return runSio(t, stdin, append([]string{"connect"}, args...)...)
}

// TestConnectReconnect checks the lines of a dropped connection: the
// disconnect with its reason, the reconnection attempt with its delay, and
// the connect that follows; and that a kick ends the session with status 0.
func TestConnectReconnect(t *testing.T) {
	srv := nodeserver.Start(t)
	c := startConnect(t, srv.URL()+"/chat", "--transports", "websocket")
	c.waitLines(1)
	c.typeLine("close-transport") // the server drops the connection
	c.waitLines(4)
	c.typeLine("kick") // the server disconnects the socket
	if code := c.wait(); code != 0 {
		t.Errorf("status %d after a kick, stderr:\n%s", code, c.errOut.String())
	}
	got := lines(t, c.out.String())
	want := []*regexp.Regexp{
		regexp.MustCompile(`^\{"time":"T","ns":"/chat","type":"connect"\}$`),
		regexp.MustCompile(`^\{"time":"T","ns":"/chat","type":"disconnect","reason":"transport close","error":"sio: transport close: .*"\}$`),
		regexp.MustCompile(`^\{"time":"T","type":"reconnect","step":"attempt","attempt":1,"delay":"[0-9.]+m?s","reason":"transport close","error":".*"\}$`),
		regexp.MustCompile(`^\{"time":"T","ns":"/chat","type":"connect"\}$`),
		regexp.MustCompile(`^\{"time":"T","ns":"/chat","type":"disconnect","reason":"io server disconnect","error":"sio: io server disconnect"\}$`),
	}
	if len(got) != len(want) {
		t.Fatalf("output:\n%s", strings.Join(got, "\n"))
	}
	// The socket's disconnect and the Manager's reconnection attempt come
	// from two channels: either may print first.
	if strings.Contains(got[1], `"type":"reconnect"`) {
		got[1], got[2] = got[2], got[1]
	}
	for i, re := range want {
		if !re.MatchString(got[i]) {
			t.Errorf("line %d: %s\ndoes not match %s", i, got[i], re)
		}
	}
}

// TestNoReconnect checks that with --no-reconnect a dropped connection ends
// the session with status 1 and its reason.
func TestNoReconnect(t *testing.T) {
	srv := nodeserver.Start(t)
	r := scripted(t, "close-transport\n", srv.URL(), "--no-reconnect")
	if r.code != 1 || !strings.Contains(r.stderr, "transport close") {
		t.Errorf("status %d, stderr %q; want 1 and the reason", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, `"type":"disconnect","reason":"transport close"`) {
		t.Errorf("stdout:\n%s", r.stdout)
	}
}
