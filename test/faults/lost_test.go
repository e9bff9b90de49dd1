package faults_test

import (
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/test/faultproxy"
)

// A response the server has sent is lost on the way (the proxy holds it,
// then resets the connection before the client has read a byte of it).
// The client may not carry on as if nothing happened: either the packet
// arrives, or the client notices the loss and reports a disconnect. Over
// long-polling the lost response is a long-poll GET's, on a keep-alive
// connection; over WebSocket, a frame of the socket's one connection.
//
// The server broadcasts "tick" 0..5 every 300 ms to a room the socket
// joined; the response carrying tick 1 is the one lost.
func TestLostResponseIsNoticed(t *testing.T) {
	t.Parallel()
	const (
		ticks    = 6
		interval = 300 * time.Millisecond
	)
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tc transportCase) {
		ctx := testutil.Context(t, 20*time.Second)
		px := startProxy(t, srv)
		s := dial(t, ctx, px, tc)
		room := "lost-" + tc.name // one room per subtest: they share the server
		f, err := s.EmitWithAck(ctx, "join", room)
		if err == nil {
			_, err = f.Wait(ctx)
		}
		if err != nil {
			t.Fatalf("join: %v", err)
		}
		f, err = s.EmitWithAck(ctx, "broadcast", room, ticks, interval.Milliseconds())
		if err == nil {
			_, err = f.Wait(ctx)
		}
		if err != nil {
			t.Fatalf("broadcast: %v", err)
		}
		ev := testutil.NextEvent(t, ctx, s.Socket)
		var n int
		if ev.Type != sio.EventMessage || ev.Name != "tick" || ev.Args.Decode(&n) != nil || n != 0 {
			t.Fatalf("got %s, want tick 0", testutil.Describe(ev))
		}
		// Tick 1 comes 300 ms after tick 0: hold it, then cut.
		px.Stall(faultproxy.ToClient, true)
		time.Sleep(interval + interval/2)
		px.Cut(true)
		px.Pass()

		var got []int
		deadline := time.After(ticks * interval)
		for {
			select {
			case ev := <-s.Events():
				switch {
				case ev.Type == sio.EventDisconnect:
					t.Logf("the loss was noticed: %v (ticks after tick 0: %v)", ev.Err, got)
					return
				case ev.Type == sio.EventMessage && ev.Name == "tick":
					if ev.Args.Decode(&n) != nil {
						t.Fatalf("bad tick %s", ev.Args.String())
					}
					got = append(got, n)
				case ev.Type == sio.EventMessage && ev.Name == "broadcast-done":
					if len(got) != ticks-1 || got[0] != 1 {
						t.Fatalf("ticks after tick 0: %v, and no disconnect: the response carrying tick 1 was lost without the client noticing", got)
					}
					return
				default:
					t.Fatalf("unexpected %s", testutil.Describe(ev))
				}
			case <-deadline:
				t.Fatalf("no broadcast-done nor disconnect in %v (ticks after tick 0: %v)", ticks*interval, got)
			}
		}
	})
}
