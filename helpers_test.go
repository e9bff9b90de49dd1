package sio_test

import (
	"context"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/ack"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/test/testserver"
)

// startServer starts the Go test server, closed in t.Cleanup.
func startServer(t *testing.T, opts ...testserver.Option) *testserver.Server {
	t.Helper()
	srv, err := testserver.Start(opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// scripted starts a test server whose every connection runs steps. Scripts
// speak WebSocket frames, so the server refuses polling: clients with the
// default transports fall back to WebSocket.
func scripted(t *testing.T, steps ...testserver.Step) *testserver.Server {
	t.Helper()
	return startServer(t, testserver.WithTransports("websocket"), testserver.WithHandler(testserver.Script(steps...)))
}

// handshake is the start of most scripts: open, then accept the socket.
func handshake(open testserver.Open) []testserver.Step {
	if open.PingInterval == 0 {
		open.PingInterval, open.PingTimeout = 25000, 20000
	}
	if open.MaxPayload == 0 {
		open.MaxPayload = 1e6
	}
	return []testserver.Step{
		testserver.SendOpen(open),
		testserver.Expect("40"),
		testserver.Send(`40{"sid":"scripted"}`),
	}
}

func testCtx(t *testing.T) context.Context {
	t.Helper()
	return testutil.Context(t, 20*time.Second)
}

// dial connects to url and consumes the initial EventConnect.
func dial(t *testing.T, url string, opts ...sio.Option) *sio.Socket {
	t.Helper()
	s, err := sio.Dial(testCtx(t), url, opts...)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if ev := next(t, s); ev.Type != sio.EventConnect {
		t.Fatalf("first event = %v, want connect", ev.Type)
	}
	return s
}

// next returns the socket's next event, failing the test after 10 s.
func next(t *testing.T, s *sio.Socket) sio.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return testutil.NextEvent(t, ctx, s)
}

// nextMessage skips to the next EventMessage.
func nextMessage(t *testing.T, s *sio.Socket) sio.Event {
	t.Helper()
	for {
		ev := next(t, s)
		if ev.Type == sio.EventMessage {
			return ev
		}
		if ev.Type == sio.EventDisconnect {
			t.Fatalf("disconnected while waiting for a message: %v", ev.Err)
		}
	}
}

// disconnected waits for the socket's EventDisconnect, skipping messages,
// and checks that Events closes after it.
func disconnected(t *testing.T, s *sio.Socket) error {
	t.Helper()
	for {
		ev := next(t, s)
		if ev.Type != sio.EventDisconnect {
			continue
		}
		select {
		case _, ok := <-s.Events():
			if ok {
				t.Fatal("an event after EventDisconnect")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Events not closed after EventDisconnect")
		}
		return ev.Err
	}
}

// ackFuture is a future with the value its reply should carry.
type ackFuture struct {
	*ack.Future[sio.Args]
	want int
}
