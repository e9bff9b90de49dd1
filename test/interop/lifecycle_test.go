package interop_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/ack"
	"github.com/sio-go/sio/internal/testutil"
)

// pending emits an event the server never acknowledges (it has no handler
// for it), and checks that its future is still pending after a round trip.
func pending(t *testing.T, ctx context.Context, s *sio.Socket) *ack.Future[sio.Args] {
	t.Helper()
	fut, err := s.EmitWithAck(ctx, "nobody-answers", 1)
	if err != nil {
		t.Fatalf("EmitWithAck: %v", err)
	}
	call(t, ctx, s, "ack", "barrier") // the server has seen the event by now
	if _, _, ok := fut.Result(); ok {
		t.Fatalf("a never-acknowledged future resolved")
	}
	return fut
}

// expectFutureErr waits for fut and checks that it failed with want.
func expectFutureErr(t *testing.T, ctx context.Context, fut *ack.Future[sio.Args], want error) {
	t.Helper()
	v, err := fut.Wait(ctx)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		t.Fatalf("pending future did not fail before the deadline (want %v)", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("pending future = %s, %v; want errors.Is %v", v.String(), err, want)
	}
}

// expectEngineConnections polls the server, through obs, until it counts want
// Engine.IO connections.
func expectEngineConnections(t *testing.T, ctx context.Context, obs *sio.Socket, want int) {
	t.Helper()
	eventually(t, ctx, "server-side connections", func() (bool, string) {
		n := info(t, ctx, obs).EngineConnections
		return n == want, fmt.Sprintf("engineConnections=%d, want %d", n, want)
	})
}

// The server disconnects the socket (socket.disconnect()).
func TestServerKick(t *testing.T) {
	t.Parallel()
	forTransports(t, func(t *testing.T, tr transportCase) {
		srv := startServer(t) // one per subtest: the connections are counted
		for _, tc := range []struct{ name, path, event string }{
			{"kick /", "", "kick"},
			{"kick /admin", "/admin", "kick"},
			{"kick-all /chat", "/chat", "kick-all"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := testutil.Context(t, testTimeout)
				obs := dial(t, ctx, srv.URL()+"/chat", tr.opts...)
				s := dial(t, ctx, srv.URL()+tc.path, tr.opts...)
				expectEngineConnections(t, ctx, obs, 2)
				fut := pending(t, ctx, s)

				if err := s.Emit(ctx, tc.event); err != nil {
					t.Fatalf("Emit(%s): %v", tc.event, err)
				}
				expectDisconnect(t, ctx, s, sio.ErrServerDisconnect)
				expectDone(t, ctx, s)
				if !errors.Is(s.Err(), sio.ErrServerDisconnect) {
					t.Errorf("Err() = %v, want ErrServerDisconnect", s.Err())
				}
				if s.Connected() {
					t.Errorf("Connected() after kick")
				}
				expectFutureErr(t, ctx, fut, sio.ErrServerDisconnect)

				err := s.Emit(ctx, "echo", "after")
				if !errors.Is(err, sio.ErrClosed) || !errors.Is(err, sio.ErrServerDisconnect) {
					t.Errorf("Emit after kick = %v, want ErrClosed wrapping ErrServerDisconnect", err)
				}
				f2, err := s.EmitWithAck(ctx, "ack", "after")
				if err == nil || f2 != nil {
					t.Errorf("EmitWithAck after kick = %v, %v; want an error and no future", f2, err)
				} else if !errors.Is(err, sio.ErrClosed) {
					t.Errorf("EmitWithAck after kick = %v, want ErrClosed", err)
				}
				// Dial's socket owns its connection: with the socket gone, the
				// connection is closed too.
				expectEngineConnections(t, ctx, obs, 1)
				if err := s.Close(); err != nil {
					t.Errorf("Close after kick = %v", err)
				}
				if !errors.Is(s.Err(), sio.ErrServerDisconnect) {
					t.Errorf("Close after kick changed Err() to %v", s.Err())
				}
			})
		}
	})
}

// Close fails pending acks, closes Events, is idempotent and safe to call
// concurrently, and leaves the namespace on the server.
func TestClose(t *testing.T) {
	t.Parallel()
	forTransports(t, func(t *testing.T, tr transportCase) {
		srv := startServer(t) // one per subtest: the connections are counted
		ctx := testutil.Context(t, testTimeout)
		obs := dial(t, ctx, srv.URL()+"/chat", tr.opts...)
		s := dial(t, ctx, srv.URL()+"/admin", tr.opts...)
		expectEngineConnections(t, ctx, obs, 2)
		fut := pending(t, ctx, s)
		// Leave some undelivered events in the socket.
		if err := s.Emit(ctx, "stream", 100); err != nil {
			t.Fatal(err)
		}
		call(t, ctx, s, "ack", "barrier")

		if err := s.Close(); err != nil {
			t.Fatalf("Close = %v", err)
		}
		expectFutureErr(t, ctx, fut, sio.ErrClientDisconnect)
		// What is left in the channel is at most its small buffer of events the
		// server sent before Close; then it is closed.
		for _, ev := range drainClosed(t, ctx, s) {
			if ev.Type == sio.EventMessage && ev.Name != "tick" {
				t.Errorf("unexpected event after Close: %s", testutil.Describe(ev))
			}
		}
		expectDone(t, ctx, s)
		if !errors.Is(s.Err(), sio.ErrClientDisconnect) {
			t.Errorf("Err() = %v, want ErrClientDisconnect", s.Err())
		}
		if s.Connected() {
			t.Errorf("Connected() after Close")
		}
		if err := s.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
		if err := s.Emit(ctx, "echo", 1); !errors.Is(err, sio.ErrClosed) {
			t.Errorf("Emit after Close = %v, want ErrClosed", err)
		}
		if f, err := s.EmitWithAck(ctx, "ack", 1); !errors.Is(err, sio.ErrClosed) || f != nil {
			t.Errorf("EmitWithAck after Close = %v, %v; want ErrClosed", f, err)
		}
		expectEngineConnections(t, ctx, obs, 1)
	})
}

// Close from many goroutines at once, while acks are pending and events
// flow.
func TestCloseConcurrent(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	obs := dial(t, ctx, srv.URL())
	s := dial(t, ctx, srv.URL())
	futs := make([]*ack.Future[sio.Args], 0, 20)
	for i := range 20 {
		f, err := s.EmitWithAck(ctx, "nobody-answers", i)
		if err != nil {
			t.Fatal(err)
		}
		futs = append(futs, f)
	}
	if err := s.Emit(ctx, "stream", 2000); err != nil {
		t.Fatal(err)
	}
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs <- s.Close()
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Close = %v", err)
		}
	}
	for i, f := range futs {
		if _, err, ok := f.Result(); !ok || !errors.Is(err, sio.ErrClientDisconnect) {
			t.Errorf("future %d after Close: resolved=%v err=%v, want ErrClientDisconnect", i, ok, err)
		}
	}
	drainClosed(t, ctx, s)
	expectDone(t, ctx, s)
	expectEngineConnections(t, ctx, obs, 1)
}

// The server closes the transport without a DISCONNECT: with reconnection
// off, the socket ends with ErrTransportClose.
func TestServerClosesTransport(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL()+"/admin", tr.with(sio.WithoutReconnect())...)
		fut := pending(t, ctx, s)
		if err := s.Emit(ctx, "close-transport"); err != nil {
			t.Fatal(err)
		}
		expectDisconnect(t, ctx, s, sio.ErrTransportClose)
		expectDone(t, ctx, s)
		if !errors.Is(s.Err(), sio.ErrTransportClose) {
			t.Errorf("Err() = %v, want ErrTransportClose", s.Err())
		}
		expectFutureErr(t, ctx, fut, sio.ErrTransportClose)
		if err := s.Emit(ctx, "echo"); !errors.Is(err, sio.ErrClosed) {
			t.Errorf("Emit after transport close = %v, want ErrClosed", err)
		}
		// No reconnection: the socket stays ended.
		time.Sleep(300 * time.Millisecond)
		if s.Connected() {
			t.Errorf("socket reconnected")
		}
	})
}

// close-transport on a Manager without reconnection ends every socket of
// the connection.
func TestServerClosesTransportManager(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	m := newManager(t, srv.URL(), sio.WithoutReconnect())
	a := managerSocket(t, ctx, m, "/admin")
	c := managerSocket(t, ctx, m, "/chat")
	if err := c.Emit(ctx, "close-transport"); err != nil {
		t.Fatal(err)
	}
	expectDisconnect(t, ctx, a, sio.ErrTransportClose)
	expectDisconnect(t, ctx, c, sio.ErrTransportClose)
}

// Events the server sent before it disconnected the socket are delivered,
// in order, before the EventDisconnect, even when the program was not
// reading while they arrived.
func TestDisconnectAfterQueuedEvents(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		for _, tc := range []struct {
			event string
			want  error
		}{
			{"kick", sio.ErrServerDisconnect},
			{"close-transport", sio.ErrTransportClose},
		} {
			t.Run(tc.event, func(t *testing.T) {
				ctx := testutil.Context(t, testTimeout)
				s := dial(t, ctx, srv.URL()+"/admin", tr.with(sio.WithoutReconnect())...)
				if err := s.Emit(ctx, "stream", 200, 5); err != nil {
					t.Fatal(err)
				}
				if err := s.Emit(ctx, tc.event); err != nil {
					t.Fatal(err)
				}
				expectDone(t, ctx, s) // ended while nothing was read
				readStream(t, s, 200, 5, 5*time.Second)
				expectDisconnect(t, ctx, s, tc.want)
			})
		}
	})
}

// Event.Ack on a socket that has ended fails with ErrClosed.
func TestAckAfterClose(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	s := dial(t, ctx, srv.URL())
	if err := s.Emit(ctx, "ask", 5); err != nil {
		t.Fatal(err)
	}
	q := nextMessage(t, ctx, s, "question")
	s.Close()
	if err := q.Ack(ctx, 10); !errors.Is(err, sio.ErrClosed) {
		t.Errorf("Ack after Close = %v, want ErrClosed", err)
	}
}
