package faults_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
)

// The path goes silent: with the server pinging every 300 ms and allowing
// 200 ms for the answer, the client gives the connection up with
// ErrPingTimeout within pingInterval + pingTimeout (plus a margin), and
// reconnects once the path passes again.
func TestBlackhole(t *testing.T) {
	t.Parallel()
	const (
		pingInterval = 300 * time.Millisecond
		pingTimeout  = 200 * time.Millisecond
		// bound on the detection: a functional bound, not a benchmark.
		detectBound = 2 * time.Second
	)
	srv := startServer(t, "--ping-interval", "300", "--ping-timeout", "200")
	forTransports(t, func(t *testing.T, tc transportCase) {
		ctx := testutil.Context(t, 20*time.Second)
		px := startProxy(t, srv)
		// Attempts made during the blackhole hang: a short connect timeout
		// lets the first one after it start soon.
		s := dial(t, ctx, px, tc, sio.WithConnectTimeout(2*time.Second))
		echo(t, ctx, s.Socket, "before")

		start := time.Now()
		px.Blackhole(true)
		ev := testutil.NextEvent(t, ctx, s.Socket)
		took := time.Since(start)
		if ev.Type != sio.EventDisconnect || !errors.Is(ev.Err, sio.ErrPingTimeout) {
			t.Fatalf("got %s after %v, want EventDisconnect(ErrPingTimeout)", testutil.Describe(ev), took)
		}
		t.Logf("ping timeout detected %v after the blackhole began (pingInterval+pingTimeout = %v)", took, pingInterval+pingTimeout)
		if took > detectBound {
			t.Errorf("ping timeout detected after %v, want within %v", took, detectBound)
		}
		if s.Connected() {
			t.Error("Connected() after the disconnect")
		}

		// Reconnection attempts go into the blackhole for a while.
		time.Sleep(300 * time.Millisecond)
		px.Pass()
		passed := time.Now()
		ev = testutil.NextEvent(t, ctx, s.Socket)
		if ev.Type != sio.EventConnect {
			t.Fatalf("after Pass: got %s, want EventConnect", testutil.Describe(ev))
		}
		t.Logf("reconnected %v after the path came back", time.Since(passed))
		echo(t, ctx, s.Socket, "after")
		ackEcho(t, ctx, s.Socket, "acked after")
	})
}
