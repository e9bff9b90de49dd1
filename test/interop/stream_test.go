package interop_test

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
)

// readStream reads the ticks 0..count-1 of a "stream" with payloads of size
// bytes, in order, then stream-done(count).
func readStream(t *testing.T, s *sio.Socket, count, size int, deadline time.Duration) {
	t.Helper()
	ctx := testutil.Context(t, testTimeout)
	want := strings.Repeat("x", size)
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for i := range count {
		var ev sio.Event
		select {
		case e, ok := <-s.Events():
			if !ok {
				t.Fatalf("Events closed after %d ticks (socket err: %v)", i, s.Err())
			}
			ev = e
		case <-timer.C:
			t.Fatalf("only %d of %d ticks within %v", i, count, deadline)
		}
		if ev.Type != sio.EventMessage || ev.Name != "tick" {
			t.Fatalf("event %d: got %s, want tick", i, testutil.Describe(ev))
		}
		var n int
		var payload string
		if err := ev.Args.Decode(&n, &payload); err != nil {
			t.Fatalf("tick %d: Decode %s: %v", i, ev.Args.String(), err)
		}
		if n != i {
			t.Fatalf("tick %d arrived as tick number %d (out of order or lost)", i, n)
		}
		if payload != want {
			t.Fatalf("tick %d payload has %d bytes, want %d", i, len(payload), size)
		}
	}
	ev := nextMessage(t, ctx, s, "stream-done")
	var n int
	if err := ev.Args.Decode(&n); err != nil || n != count {
		t.Fatalf("stream-done(%d), %v; want %d", n, err, count)
	}
}

// 5000 events arrive exactly in order. The queue limit is raised above the
// burst so that the test does not depend on reading as fast as the server
// writes (falling 4096 events behind is ErrSlowConsumer by design).
func TestStreamInOrder(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL(), tr.with(sio.WithEventQueueLimit(10000, 64<<20))...)
		if err := s.Emit(ctx, "stream", 5000); err != nil {
			t.Fatal(err)
		}
		readStream(t, s, 5000, 0, 15*time.Second)

		// Another stream with payloads, on the same socket.
		if err := s.Emit(ctx, "stream", 500, 1000); err != nil {
			t.Fatal(err)
		}
		readStream(t, s, 500, 1000, 10*time.Second)
	})
}

// A burst the program does not read at once is queued in the socket and
// delivered in order afterwards (the burst stays under the default queue
// limit of 4096 events).
func TestStreamQueuedWhileNotReading(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	s := dial(t, ctx, srv.URL()+"/chat")
	if err := s.Emit(ctx, "stream", 3000, 10); err != nil {
		t.Fatal(err)
	}
	// Wait until the server has sent everything: a round trip after the
	// stream request is acknowledged after the server's synchronous loop.
	call(t, ctx, s, "ack", "sync")
	if !s.Connected() {
		t.Fatalf("socket disconnected while events were queued: %v", s.Err())
	}
	readStream(t, s, 3000, 10, 10*time.Second)
}

// Emits from one goroutine reach the server in the order they were made
// (checked through the echoes, which the server sends in the order it got
// the events).
func TestEmitOrder(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL()+"/chat", tr.opts...)
		const n = 2000
		errc := make(chan error, 1)
		go func() {
			for i := range n {
				if err := s.Emit(ctx, "echo", i); err != nil {
					errc <- fmt.Errorf("Emit %d: %w", i, err)
					return
				}
			}
			errc <- nil
		}()
		for i := range n {
			ev := nextMessage(t, ctx, s, "echo")
			var got int
			if err := ev.Args.Decode(&got); err != nil {
				t.Fatal(err)
			}
			if got != i {
				t.Fatalf("echo %d arrived as %d", i, got)
			}
		}
		if err := <-errc; err != nil {
			t.Fatal(err)
		}
	})
}

// A socket whose program falls further behind than its queue limit is
// disconnected with ErrSlowConsumer; the events before the overflow are
// delivered in order, and the Manager's other sockets are unaffected.
func TestSlowConsumer(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	for _, tc := range []struct {
		name        string
		events      int
		bytes       int64
		count, size int
	}{
		// The channel holds a few events, the queue 10 more.
		{name: "events", events: 10, bytes: 1 << 20, count: 200, size: 0},
		{name: "bytes", events: 1000, bytes: 20000, count: 200, size: 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testutil.Context(t, testTimeout)
			m := newManager(t, srv.URL())
			slow := managerSocket(t, ctx, m, "/admin", sio.WithEventQueueLimit(tc.events, tc.bytes))
			chat := managerSocket(t, ctx, m, "/chat")
			engineID := info(t, ctx, chat).EngineID
			if err := slow.Emit(ctx, "stream", tc.count, tc.size); err != nil {
				t.Fatal(err)
			}
			expectDone(t, ctx, slow) // ended while nothing was read
			if !errors.Is(slow.Err(), sio.ErrSlowConsumer) {
				t.Fatalf("Err() = %v, want ErrSlowConsumer", slow.Err())
			}
			evs := drainClosed(t, ctx, slow)
			if len(evs) < 2 {
				t.Fatalf("only %d events delivered", len(evs))
			}
			last := evs[len(evs)-1]
			if last.Type != sio.EventDisconnect || !errors.Is(last.Err, sio.ErrSlowConsumer) {
				t.Fatalf("last event = %s, want EventDisconnect(ErrSlowConsumer)", testutil.Describe(last))
			}
			ticks := evs[:len(evs)-1]
			if len(ticks) >= tc.count {
				t.Fatalf("%d ticks delivered, all of the stream: no overflow", len(ticks))
			}
			for i, ev := range ticks {
				var n int
				if ev.Type != sio.EventMessage || ev.Name != "tick" || ev.Args.Decode(&n) != nil || n != i {
					t.Fatalf("event %d = %s, want tick %d", i, testutil.Describe(ev), i)
				}
			}
			// The other socket and the connection live on; the server has
			// dropped /admin.
			echo(t, ctx, chat, "alive")
			eventually(t, ctx, "/admin gone on the server", func() (bool, string) {
				inf := info(t, ctx, chat)
				if inf.EngineID != engineID {
					t.Fatalf("connection replaced")
				}
				return reflect.DeepEqual(inf.NamespacesOnConnection, []string{"/chat"}),
					fmt.Sprintf("namespaces %q", inf.NamespacesOnConnection)
			})
		})
	}
}
