package sio

import (
	"context"
	"errors"
	"io"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/test/testserver"
	"github.com/sio-go/sio/transport"
	"golang.org/x/sync/errgroup"
)

// The Engine.IO connection on its own, against test/testserver scripts:
// no Socket.IO, no namespaces, only frames.

// recorder is a connHandler that keeps what the reader hands it.
type recorder struct {
	frames chan string
	ended  chan error
}

func (r *recorder) handleMessage(f packet.Frame) error {
	r.frames <- string(f.Payload())
	return nil
}

func (r *recorder) connEnded(err error) { r.ended <- err }

// dialScripted starts a WebSocket-only test server running steps and opens
// an engineConn to it.
func dialScripted(t *testing.T, steps ...testserver.Step) (*engineConn, *recorder) {
	t.Helper()
	return dialTestServer(t, []Transport{WebSocket}, testserver.WithTransports("websocket"), testserver.WithHandler(testserver.Script(steps...)))
}

// dialTestServer starts a test server with opts and opens an engineConn to
// it over transports.
func dialTestServer(t *testing.T, transports []Transport, opts ...testserver.Option) (*engineConn, *recorder) {
	t.Helper()
	srv, err := testserver.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	u, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	u.Path = DefaultPath
	cfg := defaultConfig()
	cfg.transports = transports
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r := &recorder{frames: make(chan string, 16), ended: make(chan error, 1)}
	c, err := dialEngine(ctx, &cfg, &transport.Config{URL: u}, func(*engineConn) connHandler { return r })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c, r
}

func open(interval, timeout int64) testserver.Step {
	return testserver.SendOpen(testserver.Open{PingInterval: interval, PingTimeout: timeout, MaxPayload: 1e6})
}

func message(s string) packet.Message {
	return packet.Message{Head: packet.TextFrame(packet.FrameMessage, s)}
}

func wantEnd(t *testing.T, r *recorder, reason error) {
	t.Helper()
	select {
	case err := <-r.ended:
		if !errors.Is(err, reason) {
			t.Fatalf("ended with %v, want %v", err, reason)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the connection did not end")
	}
}

// Messages go both ways in order, a ping is answered, and a close from the
// server ends the connection with ErrTransportClose; sending on it then
// fails with ErrClosed.
func TestEngineConnFramesAndClose(t *testing.T) {
	c, r := dialScripted(t, open(25000, 20000),
		testserver.Send("4one"), testserver.Send("2"), testserver.Send("4two"),
		testserver.Expect("3"), testserver.Expect("4a"), testserver.Expect("4b"),
		testserver.Send("1"), testserver.WaitForClose())
	for _, want := range []string{"one", "two"} {
		if got := <-r.frames; got != want {
			t.Fatalf("frame %q, want %q", got, want)
		}
	}
	ctx := context.Background()
	for _, m := range []string{"a", "b"} {
		if err := c.send(ctx, message(m), nil, false); err != nil {
			t.Fatal(err)
		}
	}
	wantEnd(t, r, ErrTransportClose)
	if err := c.send(ctx, message("late"), nil, false); !errors.Is(err, ErrClosed) {
		t.Fatalf("send on an ended connection: %v, want ErrClosed", err)
	}
}

// A gate's last message is written and what follows it with that gate is
// dropped; messages of other senders go on.
func TestEngineConnGate(t *testing.T) {
	got := make(chan string, 8)
	c, _ := dialScripted(t, open(25000, 20000), func(ctx context.Context, sc *testserver.Conn) error {
		for {
			f, err := sc.Read(ctx)
			if err != nil {
				return nil
			}
			got <- f.Text
			if f.Text == "4end" {
				return nil
			}
		}
	})
	g := newGate()
	ctx := context.Background()
	sends := []struct {
		msg  string
		g    *gate
		last bool
	}{{"mine", g, false}, {"bye", g, true}, {"after", g, false}, {"other", nil, false}, {"end", nil, false}}
	for _, s := range sends {
		if err := c.send(ctx, message(s.msg), s.g, s.last); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"4mine", "4bye", "4other", "4end"} {
		if f := <-got; f != want {
			t.Fatalf("server read %q, want %q", f, want)
		}
	}
	select {
	case <-g.written:
	case <-time.After(5 * time.Second):
		t.Fatal("the gate's last message is not reported written")
	}
}

// A server that stops pinging is noticed after pingInterval + pingTimeout.
func TestEngineConnPingTimeout(t *testing.T) {
	_, r := dialScripted(t, open(50, 50), testserver.WaitForClose())
	wantEnd(t, r, ErrPingTimeout)
}

// close writes what is queued, closes the session and waits for every
// goroutine; the end is reported as the client's.
func TestEngineConnClose(t *testing.T) {
	got := make(chan string, 1)
	c, r := dialScripted(t, open(25000, 20000), func(ctx context.Context, sc *testserver.Conn) error {
		f, err := sc.Read(ctx)
		if err == nil {
			got <- f.Text
		}
		return testserver.WaitForClose()(ctx, sc)
	})
	if err := c.send(context.Background(), message("last"), nil, false); err != nil {
		t.Fatal(err)
	}
	c.close()
	wantEnd(t, r, ErrClientDisconnect)
	if f := <-got; f != "4last" {
		t.Fatalf("server read %q before the close, want 4last", f)
	}
	c.close() // idempotent
}

// An upgrade keeps nothing once it is over, whether the connection moved to
// WebSocket or stayed on polling because the WebSocket was refused: an idle
// connection does not pay for the upgrade's channels and context.
func TestUpgradeStateReleased(t *testing.T) {
	for _, tc := range []struct {
		name       string
		transports []string
		want       string // the transport the connection ends up on
	}{
		{"upgraded", []string{"polling", "websocket"}, transport.NameWebSocket},
		{"refused", []string{"polling"}, transport.NamePolling},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := dialTestServer(t, []Transport{Polling, WebSocket}, testserver.WithTransports(tc.transports...))
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			for c.upg.Load() != nil {
				if ctx.Err() != nil {
					t.Fatal("the upgrade's state is still kept")
				}
				time.Sleep(time.Millisecond)
			}
			if got := c.cur.Load().Name(); got != tc.want {
				t.Fatalf("on %s, want %s", got, tc.want)
			}
			if err := c.send(ctx, message("after"), nil, false); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// fakeTransport is a transport.Conn driven by the test: Read returns what
// in gives, Write records each batch and, while hold is open, waits.
type fakeTransport struct {
	in      chan packet.Frame
	hold    chan struct{} // closed: writes go through
	writing chan struct{} // a Write has started
	batches chan []string
	done    chan struct{}
	once    sync.Once
}

func newFakeTransport() *fakeTransport {
	return &fakeTransport{in: make(chan packet.Frame), hold: make(chan struct{}), writing: make(chan struct{}, 16), batches: make(chan []string, 16), done: make(chan struct{})}
}

func (f *fakeTransport) Name() string { return transport.NameWebSocket }

func (f *fakeTransport) Read(ctx context.Context) (packet.Frame, error) {
	select {
	case fr := <-f.in:
		return fr, nil
	case <-f.done:
		return packet.Frame{}, io.EOF
	}
}

func (f *fakeTransport) Write(ctx context.Context, frames []packet.Frame) error {
	f.writing <- struct{}{}
	select {
	case <-f.hold:
	case <-f.done:
		return io.EOF
	}
	var b []string
	for _, fr := range frames {
		b = append(b, string(fr.Data))
	}
	f.batches <- b
	return nil
}

func (f *fakeTransport) Close() error                  { f.Abort(); return nil }
func (f *fakeTransport) Abort()                        { f.once.Do(func() { close(f.done) }) }
func (f *fakeTransport) FrameSize(fr packet.Frame) int { return len(fr.Data) }

// A pong goes out first, before the data queued ahead of it, even when the
// server's ping comes while the writer's queue is full and the writer is
// stuck in a write: the reader never waits for room, and the heartbeat is
// not delayed behind a full queue.
func TestPongFirstWhenQueueFull(t *testing.T) {
	tr := newFakeTransport()
	var g errgroup.Group
	r := &recorder{frames: make(chan string, 16), ended: make(chan error, 1)}
	open := packet.Open{SID: "s", PingInterval: time.Minute, PingTimeout: time.Minute}
	c := startEngine(&g, tr, 4, open, 0, func(*engineConn) connHandler { return r }, nil, nil)
	defer func() {
		c.fail(errClientClose)
		g.Wait()
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.send(ctx, message("first"), nil, false); err != nil {
		t.Fatal(err)
	}
	// The writer is stuck writing "first", and its queue fills.
	<-tr.writing
	for c.trySend(message("fill"), nil, false) == nil {
	}
	select {
	case tr.in <- packet.TextFrame(packet.FramePing, ""): // read at once: the reader does not wait
	case <-ctx.Done():
		t.Fatal("the reader did not take the ping")
	}
	for c.due.Load() == 0 { // the reader has asked for the pong
		if ctx.Err() != nil {
			t.Fatal("the reader did not ask for a pong")
		}
		time.Sleep(time.Millisecond)
	}
	close(tr.hold)
	var got [][]string
	for len(got) < 2 {
		select {
		case b := <-tr.batches:
			got = append(got, b)
		case <-ctx.Done():
			t.Fatalf("batches %q", got)
		}
	}
	if got[0][0] != "4first" || got[1][0] != "3" {
		t.Fatalf("batches %q, want 4first, then one that starts with the pong 3", got)
	}
}
