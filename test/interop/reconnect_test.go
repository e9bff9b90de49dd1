package interop_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/test/nodeserver"
)

// fastReconnect makes reconnection quick and predictable.
func fastReconnect(attempts int) sio.Option {
	return sio.WithReconnect(sio.Backoff{Min: 50 * time.Millisecond, Max: 100 * time.Millisecond, Attempts: attempts})
}

// nextManagerEvent returns the next ManagerEvent of m.
func nextManagerEvent(t *testing.T, ctx context.Context, m *sio.Manager) sio.ManagerEvent {
	t.Helper()
	select {
	case ev, ok := <-m.Events():
		if !ok {
			t.Fatalf("Manager.Events closed")
		}
		return ev
	case <-ctx.Done():
		t.Fatalf("no Manager event before the deadline")
	}
	panic("unreachable")
}

// expectReconnect reads EventDisconnect (matching cause) then EventConnect
// from s, and returns the EventConnect.
func expectReconnect(t *testing.T, ctx context.Context, s *sio.Socket, cause error) sio.Event {
	t.Helper()
	ev := testutil.NextEvent(t, ctx, s)
	if ev.Type != sio.EventDisconnect || !errors.Is(ev.Err, cause) {
		t.Fatalf("got %s, want EventDisconnect(%v)", testutil.Describe(ev), cause)
	}
	ev = testutil.NextEvent(t, ctx, s)
	if ev.Type != sio.EventConnect {
		t.Fatalf("after the disconnect: got %s, want EventConnect", testutil.Describe(ev))
	}
	return ev
}

// The server drops the transport; the socket joins again on a new
// connection, with a new id, and what was emitted meanwhile goes out.
func TestReconnectAfterTransportClose(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL()+"/admin", tr.with(fastReconnect(0))...)
		m := s.Manager()
		before := info(t, ctx, s)
		oldID := s.ID()
		fut := pending(t, ctx, s)

		if err := s.Emit(ctx, "close-transport"); err != nil {
			t.Fatal(err)
		}
		ev := testutil.NextEvent(t, ctx, s)
		if ev.Type != sio.EventDisconnect || !errors.Is(ev.Err, sio.ErrTransportClose) {
			t.Fatalf("got %s, want EventDisconnect(ErrTransportClose)", testutil.Describe(ev))
		}
		// Emitted while disconnected (the backoff is at least 50 ms): queued.
		if err := s.Emit(ctx, "echo", "queued-1"); err != nil {
			t.Fatalf("Emit while reconnecting: %v", err)
		}
		fq, err := s.EmitWithAck(ctx, "ack", "queued-2")
		if err != nil {
			t.Fatalf("EmitWithAck while reconnecting: %v", err)
		}
		expectFutureErr(t, ctx, fut, sio.ErrTransportClose)

		ev = testutil.NextEvent(t, ctx, s)
		if ev.Type != sio.EventConnect || ev.Recovered {
			t.Fatalf("got %s (recovered %v), want EventConnect, not recovered", testutil.Describe(ev), ev.Recovered)
		}
		e := nextMessage(t, ctx, s, "echo")
		var q string
		if err := e.Args.Decode(&q); err != nil || q != "queued-1" {
			t.Errorf("queued echo = %q, %v", q, err)
		}
		reply, err := fq.Wait(ctx)
		if err != nil || reply.Decode(&q) != nil || q != "queued-2" {
			t.Errorf("queued ack = %s, %v", reply.String(), err)
		}

		after := info(t, ctx, s)
		if s.ID() == oldID || after.ID != s.ID() {
			t.Errorf("ids: before %q, now %q, server says %q", oldID, s.ID(), after.ID)
		}
		if after.EngineID == before.EngineID {
			t.Errorf("same engine id %q after reconnection", after.EngineID)
		}
		if !s.Connected() || s.Err() != nil {
			t.Errorf("connected=%v err=%v", s.Connected(), s.Err())
		}

		att := nextManagerEvent(t, ctx, m)
		if att.Type != sio.ReconnectAttempt || att.Attempt != 1 || !errors.Is(att.Err, sio.ErrTransportClose) {
			t.Errorf("first Manager event = %+v, want ReconnectAttempt 1 (ErrTransportClose)", att)
		}
		if att.Delay < 10*time.Millisecond || att.Delay > 100*time.Millisecond {
			t.Errorf("delay %v outside the policy [50 ms ± jitter, 100 ms]", att.Delay)
		}
		if ok := nextManagerEvent(t, ctx, m); ok.Type != sio.Reconnected || ok.Attempt != 1 {
			t.Errorf("second Manager event = %+v, want Reconnected 1", ok)
		}
		echo(t, ctx, s, "after")
		settle(t, ctx, s, tr)
	})
}

// Every socket of a Manager joins again, with its auth, on one new
// connection.
func TestReconnectManagerRejoinsAll(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	m := newManager(t, srv.URL(), fastReconnect(0))
	admin := managerSocket(t, ctx, m, "/admin")
	chat := managerSocket(t, ctx, m, "/chat")
	auth := managerSocket(t, ctx, m, "/auth", sio.WithAuth(map[string]string{"token": "secret"}))
	old := info(t, ctx, chat).EngineID

	if err := chat.Emit(ctx, "close-transport"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*sio.Socket{admin, chat, auth} {
		expectReconnect(t, ctx, s, sio.ErrTransportClose)
	}
	var engine string
	for _, s := range []*sio.Socket{admin, chat, auth} {
		inf := info(t, ctx, s)
		if inf.EngineID == old || (engine != "" && inf.EngineID != engine) {
			t.Errorf("%s on engine %q (old %q, others %q)", s.Namespace(), inf.EngineID, old, engine)
		}
		engine = inf.EngineID
		if inf.EngineConnections != 1 || inf.ID != s.ID() {
			t.Errorf("%s: %d connections, id %q vs %q", s.Namespace(), inf.EngineConnections, inf.ID, s.ID())
		}
	}
	if inf := info(t, ctx, auth); inf.Auth["token"] != "secret" {
		t.Errorf("auth after rejoin = %v", inf.Auth)
	}
}

// SetAuth changes what the next join sends; a refusal on rejoin ends the
// socket with the server's ConnectError.
func TestReconnectSetAuth(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	s := dial(t, ctx, srv.URL()+"/auth", fastReconnect(0), sio.WithAuth(map[string]any{"token": "secret", "v": 1}))

	if err := s.SetAuth(map[string]any{"token": "secret", "v": 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.Emit(ctx, "close-transport"); err != nil {
		t.Fatal(err)
	}
	expectReconnect(t, ctx, s, sio.ErrTransportClose)
	if inf := info(t, ctx, s); inf.Auth["v"] != 2.0 {
		t.Errorf("auth after rejoin = %v, want v 2", inf.Auth)
	}

	if err := s.SetAuth(map[string]string{"token": "expired"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetAuth("not an object"); err == nil {
		t.Errorf("SetAuth of a string succeeded")
	}
	if err := s.Emit(ctx, "close-transport"); err != nil {
		t.Fatal(err)
	}
	ev := testutil.NextEvent(t, ctx, s)
	if ev.Type != sio.EventDisconnect || !errors.Is(ev.Err, sio.ErrTransportClose) {
		t.Fatalf("got %s, want EventDisconnect(ErrTransportClose)", testutil.Describe(ev))
	}
	ev = testutil.NextEvent(t, ctx, s)
	var ce *sio.ConnectError
	if ev.Type != sio.EventConnectError || !errors.As(ev.Err, &ce) || ce.Message != "not authorized" {
		t.Fatalf("got %s, want EventConnectError(not authorized)", testutil.Describe(ev))
	}
	for _, ev := range drainClosed(t, ctx, s) {
		if ev.Type != sio.EventDisconnect || !errors.As(ev.Err, &ce) {
			t.Errorf("after the refusal: %s", testutil.Describe(ev))
		}
	}
	expectDone(t, ctx, s)
	if !errors.As(s.Err(), &ce) || ce.Message != "not authorized" {
		t.Errorf("Err() = %v, want the ConnectError", s.Err())
	}
}

// The server goes away and comes back on the same port: the socket
// reconnects, after failed attempts. (Not parallel: no other test may take
// the port while it is free.)
func TestReconnectServerRestart(t *testing.T) {
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	s := dial(t, ctx, srv.URL()+"/chat", fastReconnect(0))
	m := s.Manager()
	port := srv.Port()
	oldID := s.ID()

	srv.Stop()
	ev := testutil.NextEvent(t, ctx, s)
	if ev.Type != sio.EventDisconnect || !(errors.Is(ev.Err, sio.ErrTransportClose) || errors.Is(ev.Err, sio.ErrTransportError)) {
		t.Fatalf("got %s, want EventDisconnect(transport close or error)", testutil.Describe(ev))
	}
	// Wait for a failed attempt before the server comes back.
	for {
		mev := nextManagerEvent(t, ctx, m)
		if mev.Type == sio.ReconnectError {
			break
		}
		if mev.Type != sio.ReconnectAttempt {
			t.Fatalf("Manager event %+v before any failed attempt", mev)
		}
	}
	fut, err := s.EmitWithAck(ctx, "ack", "while down")
	if err != nil {
		t.Fatalf("EmitWithAck while the server is down: %v", err)
	}
	nodeserver.Start(t, nodeserver.WithArgs("--port", strconv.Itoa(port)))

	ev = testutil.NextEvent(t, ctx, s)
	if ev.Type != sio.EventConnect {
		t.Fatalf("got %s, want EventConnect", testutil.Describe(ev))
	}
	reply, err := fut.Wait(ctx)
	var got string
	if err != nil || reply.Decode(&got) != nil || got != "while down" {
		t.Errorf("ack queued while down = %s, %v", reply.String(), err)
	}
	if s.ID() == oldID {
		t.Errorf("same id %q on a new server", oldID)
	}
	echo(t, ctx, s, "back")
}

// With a limited number of attempts, the socket ends with
// ErrReconnectFailed, and so do the acks queued meanwhile.
func TestReconnectFailed(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	s := dial(t, ctx, srv.URL(), fastReconnect(3))
	m := s.Manager()

	srv.Stop()
	ev := testutil.NextEvent(t, ctx, s)
	if ev.Type != sio.EventDisconnect {
		t.Fatalf("got %s, want EventDisconnect", testutil.Describe(ev))
	}
	fut, err := s.EmitWithAck(ctx, "ack", 1)
	if err != nil {
		t.Fatalf("EmitWithAck while reconnecting: %v", err)
	}
	var attempts, failures int
	for done := false; !done; {
		mev := nextManagerEvent(t, ctx, m)
		switch mev.Type {
		case sio.ReconnectAttempt:
			attempts++
			if mev.Attempt != attempts {
				t.Errorf("attempt numbered %d, want %d", mev.Attempt, attempts)
			}
		case sio.ReconnectError:
			failures++
		case sio.ReconnectFailed:
			if mev.Attempt != 3 {
				t.Errorf("ReconnectFailed after %d attempts, want 3", mev.Attempt)
			}
			done = true
		default:
			t.Fatalf("unexpected Manager event %+v", mev)
		}
	}
	if attempts != 3 || failures != 3 {
		t.Errorf("%d attempts, %d failures; want 3 and 3", attempts, failures)
	}
	expectDone(t, ctx, s)
	if !errors.Is(s.Err(), sio.ErrReconnectFailed) {
		t.Errorf("Err() = %v, want ErrReconnectFailed", s.Err())
	}
	expectFutureErr(t, ctx, fut, sio.ErrReconnectFailed)
	for _, ev := range drainClosed(t, ctx, s) {
		if ev.Type != sio.EventDisconnect || !errors.Is(ev.Err, sio.ErrReconnectFailed) {
			t.Errorf("after giving up: %s", testutil.Describe(ev))
		}
	}
	if err := s.Emit(ctx, "echo"); !errors.Is(err, sio.ErrClosed) {
		t.Errorf("Emit after giving up = %v, want ErrClosed", err)
	}
}

// While disconnected, emits wait in a bounded queue and volatile emits are
// dropped; the queue goes out in order after the rejoin.
func TestOfflineQueue(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	s := dial(t, ctx, srv.URL(),
		sio.WithReconnect(sio.Backoff{Min: 300 * time.Millisecond, Max: 300 * time.Millisecond}),
		sio.WithOfflineQueueLimit(3))
	if err := s.EmitVolatile(ctx, "echo", "volatile-live"); err != nil {
		t.Fatalf("EmitVolatile while connected: %v", err)
	}
	e := nextMessage(t, ctx, s, "echo")
	var v string
	if err := e.Args.Decode(&v); err != nil || v != "volatile-live" {
		t.Errorf("volatile echo = %q, %v", v, err)
	}

	if err := s.Emit(ctx, "close-transport"); err != nil {
		t.Fatal(err)
	}
	ev := testutil.NextEvent(t, ctx, s)
	if ev.Type != sio.EventDisconnect {
		t.Fatalf("got %s, want EventDisconnect", testutil.Describe(ev))
	}
	for i := range 3 {
		if err := s.Emit(ctx, "echo", i); err != nil {
			t.Fatalf("queued Emit %d: %v", i, err)
		}
	}
	if err := s.Emit(ctx, "echo", 3); !errors.Is(err, sio.ErrQueueFull) {
		t.Errorf("fourth Emit while disconnected = %v, want ErrQueueFull", err)
	}
	if err := s.EmitVolatile(ctx, "echo", "volatile-offline"); !errors.Is(err, sio.ErrDropped) {
		t.Errorf("EmitVolatile while disconnected = %v, want ErrDropped", err)
	}
	if ev := testutil.NextEvent(t, ctx, s); ev.Type != sio.EventConnect {
		t.Fatalf("got %s, want EventConnect", testutil.Describe(ev))
	}
	for i := range 3 {
		e := nextMessage(t, ctx, s, "echo")
		var n int
		if err := e.Args.Decode(&n); err != nil || n != i {
			t.Fatalf("queued echo %d = %s, %v", i, e.Args.String(), err)
		}
	}
	echo(t, ctx, s, "live again") // nothing else came before it
}

// WithAckTimeout and WithRetries: an event the server never acknowledges is
// sent 1+retries times, then its future fails with ErrAckTimeout. The server
// handles "stream" (count 1) by emitting tick and stream-done, so every
// send is visible.
func TestAckTimeoutRetries(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	s := dial(t, ctx, srv.URL(), sio.WithAckTimeout(150*time.Millisecond), sio.WithRetries(2))
	reply := call(t, ctx, s, "ack", "quick")
	var q string
	if err := reply.Decode(&q); err != nil || q != "quick" {
		t.Errorf("ack = %q, %v", q, err)
	}

	start := time.Now()
	fut, err := s.EmitWithAck(ctx, "stream", 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = fut.Wait(ctx)
	if !errors.Is(err, sio.ErrAckTimeout) {
		t.Fatalf("future = %v, want ErrAckTimeout", err)
	}
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Errorf("failed after %v, want 3 × 150 ms", el)
	}
	for i := range 3 {
		nextMessage(t, ctx, s, "tick")
		ev := nextMessage(t, ctx, s, "stream-done")
		var n int
		if err := ev.Args.Decode(&n); err != nil || n != 1 {
			t.Errorf("send %d: stream-done %s", i, ev.Args.String())
		}
	}
	// No fourth send.
	echo(t, ctx, s, "no more")
}

// Connection state recovery (server --recovery): the socket keeps its id,
// EventConnect says Recovered, and the events the server emitted while the
// client was away are replayed, in order, exactly once.
//
// Against socket.io 3.x, which has no connection state recovery (its peer
// refuses --recovery), see testNoRecovery.
func TestRecovery(t *testing.T) {
	t.Parallel()
	if legacy3() {
		testNoRecovery(t)
		return
	}
	srv := startServer(t, "--recovery")
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL()+"/chat", tr.with(fastReconnect(0))...)
		id := s.ID()
		call(t, ctx, s, "join", "room-"+tr.name)
		// An event first, so that the client has an offset.
		echo(t, ctx, s, "first")

		const count = 20
		call(t, ctx, s, "broadcast", "room-"+tr.name, count, 25)
		if err := s.Emit(ctx, "close-transport"); err != nil {
			t.Fatal(err)
		}
		next := 0
		connected := false
		for next < count || !connected {
			ev := testutil.NextEvent(t, ctx, s)
			switch {
			case ev.Type == sio.EventDisconnect && !connected:
				if !errors.Is(ev.Err, sio.ErrTransportClose) {
					t.Fatalf("disconnect: %v", ev.Err)
				}
			case ev.Type == sio.EventConnect && !connected:
				if !ev.Recovered {
					t.Fatalf("EventConnect not recovered")
				}
				connected = true
			case ev.Type == sio.EventMessage && ev.Name == "tick":
				var n int
				if err := ev.Args.Decode(&n); err != nil || n != next {
					t.Fatalf("tick %s, want %d (lost, duplicated or reordered)", ev.Args.String(), next)
				}
				next++
			default:
				t.Fatalf("unexpected %s (next tick %d, connected %v)", testutil.Describe(ev), next, connected)
			}
		}
		done := nextMessage(t, ctx, s, "broadcast-done")
		var n int
		if err := done.Args.Decode(&n); err != nil || n != count {
			t.Errorf("broadcast-done %s", done.Args.String())
		}
		if s.ID() != id {
			t.Errorf("id changed from %q to %q despite recovery", id, s.ID())
		}
		inf := info(t, ctx, s)
		if inf.ID != id || !inf.Recovered {
			t.Errorf("server: id %q recovered %v, want %q true", inf.ID, inf.Recovered, id)
		}
	})
}

// testNoRecovery is TestRecovery against a socket.io 3.x server: it sends no
// pid in its CONNECT, so there is no session to recover. After the transport
// is dropped the socket joins again as a new socket: a new id, EventConnect
// without Recovered, no longer in the room (rooms belong to the old socket),
// and the ticks broadcast while it was away are not replayed. An observer in
// the same room, which stays connected, tells when the broadcast is over.
func testNoRecovery(t *testing.T) {
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		room := "room-" + tr.name
		s := dial(t, ctx, srv.URL()+"/chat", tr.with(fastReconnect(0))...)
		observer := dial(t, ctx, srv.URL()+"/chat", tr.opts...)
		id := s.ID()
		call(t, ctx, s, "join", room)
		call(t, ctx, observer, "join", room)
		echo(t, ctx, s, "first")

		const count = 20
		call(t, ctx, s, "broadcast", room, count, 25)
		if err := s.Emit(ctx, "close-transport"); err != nil {
			t.Fatal(err)
		}
		// Before the drop, a prefix of the ticks, in order; then the
		// disconnect and a connect that is not a recovery.
		before := 0
	drop:
		for {
			ev := testutil.NextEvent(t, ctx, s)
			switch {
			case ev.Type == sio.EventMessage && ev.Name == "tick":
				var n int
				if err := ev.Args.Decode(&n); err != nil || n != before {
					t.Fatalf("tick %s, want %d (lost, duplicated or reordered)", ev.Args.String(), before)
				}
				before++
			case ev.Type == sio.EventDisconnect:
				if !errors.Is(ev.Err, sio.ErrTransportClose) {
					t.Fatalf("disconnect: %v", ev.Err)
				}
				break drop
			default:
				t.Fatalf("unexpected %s before the disconnect (next tick %d)", testutil.Describe(ev), before)
			}
		}
		ev := testutil.NextEvent(t, ctx, s)
		if ev.Type != sio.EventConnect {
			t.Fatalf("after the disconnect: got %s, want EventConnect", testutil.Describe(ev))
		}
		if ev.Recovered {
			t.Errorf("EventConnect.Recovered against socket.io 3.x, which cannot recover")
		}
		if s.ID() == "" || s.ID() == id {
			t.Errorf("id after joining again = %q, want a new one (was %q)", s.ID(), id)
		}
		if before >= count {
			t.Fatalf("all %d ticks arrived before the transport was dropped: nothing was missed", before)
		}

		// The observer gets the whole broadcast: it is over.
		for i := range count {
			ev := nextMessage(t, ctx, observer, "tick")
			var n int
			if err := ev.Args.Decode(&n); err != nil || n != i {
				t.Fatalf("observer: tick %s, want %d", ev.Args.String(), i)
			}
		}
		done := nextMessage(t, ctx, observer, "broadcast-done")
		if n := 0; done.Args.Decode(&n) != nil || n != count {
			t.Errorf("observer: broadcast-done %s", done.Args.String())
		}
		// Nothing of it reached s after the drop: the ticks it missed
		// (from before on) are not replayed, nor did it get the later ones
		// or broadcast-done. The echo is the next event.
		echo(t, ctx, s, "after")
		inf := info(t, ctx, s)
		if inf.ID != s.ID() || inf.Recovered {
			t.Errorf("server: id %q recovered %v, want %q false", inf.ID, inf.Recovered, s.ID())
		}
	})
}
