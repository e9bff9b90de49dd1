package interop_test

import (
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
)

// These tests are not parallel with others, and use a 1 s heartbeat rather
// than a shorter one: the whole suite runs its packages in parallel on two
// cores, where timers can fire a second late.

// With pings every second and a 1 s timeout, the connection survives 4 s
// (four ping intervals) during which the program does not read Events at
// all: the client answers pings on its own. Events that arrive meanwhile are
// kept, in order.
func TestHeartbeatWithoutReading(t *testing.T) {
	forTransports(t, func(t *testing.T, tr transportCase) {
		// One server per subtest: the connections are counted.
		srv := startServer(t, "--ping-interval", "1000", "--ping-timeout", "1000")
		ctx := testutil.Context(t, testTimeout)
		// Without reconnection, a missed heartbeat shows as such.
		obs := dial(t, ctx, srv.URL()+"/chat", tr.with(sio.WithoutReconnect())...)
		s := dial(t, ctx, srv.URL()+"/admin", tr.with(sio.WithoutReconnect())...)
		before := info(t, ctx, s)

		// Queue events the program will not read for a while.
		if err := s.Emit(ctx, "stream", 50, 10); err != nil {
			t.Fatal(err)
		}
		lag := idle(4 * time.Second) // Events is not read here

		if !s.Connected() || s.Err() != nil {
			t.Fatalf("after 4 s without reading: connected=%v err=%v (this process was late by up to %v on its timers)",
				s.Connected(), s.Err(), lag)
		}
		select {
		case <-s.Done():
			t.Fatalf("socket ended while not reading: %v", s.Err())
		default:
		}
		after := info(t, ctx, s) // acks still flow
		if after.EngineID != before.EngineID || after.ID != before.ID || after.ID != s.ID() {
			t.Fatalf("connection replaced: engine %q -> %q, id %q -> %q", before.EngineID, after.EngineID, before.ID, after.ID)
		}
		// The server still counts both connections: it never dropped ours.
		if after.EngineConnections != 2 {
			t.Errorf("engineConnections = %d, want 2", after.EngineConnections)
		}
		readStream(t, s, 50, 10, 5*time.Second)
		echo(t, ctx, s, "alive")
		// The observer, which was not read either, is fine too.
		echo(t, ctx, obs, "alive too")
	})
}

// The same over a Manager with two sockets, neither of which is read.
func TestHeartbeatManagerIdle(t *testing.T) {
	srv := startServer(t, "--ping-interval", "1000", "--ping-timeout", "1000")
	ctx := testutil.Context(t, testTimeout)
	m := newManager(t, srv.URL(), sio.WithoutReconnect())
	a := managerSocket(t, ctx, m, "/admin")
	c := managerSocket(t, ctx, m, "/chat")
	engineID := info(t, ctx, a).EngineID
	for _, s := range []*sio.Socket{a, c} {
		if err := s.Emit(ctx, "stream", 20); err != nil {
			t.Fatal(err)
		}
	}
	lag := idle(4 * time.Second)
	for _, s := range []*sio.Socket{a, c} {
		if !s.Connected() {
			t.Fatalf("%s disconnected: %v (timers late by up to %v)", s.Namespace(), s.Err(), lag)
		}
		readStream(t, s, 20, 0, 5*time.Second)
		if inf := info(t, ctx, s); inf.EngineID != engineID {
			t.Errorf("%s: engine %q, want %q", s.Namespace(), inf.EngineID, engineID)
		}
	}
}

// idle waits d without touching any socket, and returns how late this
// process's timers fired at worst meanwhile (a measure of CPU starvation,
// reported when a heartbeat test fails).
func idle(d time.Duration) time.Duration {
	const step = 10 * time.Millisecond
	var worst time.Duration
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		start := time.Now()
		time.Sleep(step)
		if late := time.Since(start) - step; late > worst {
			worst = late
		}
	}
	return worst
}
