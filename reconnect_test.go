package sio_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/test/testserver"
)

// fast is a reconnection policy for tests: no jitter, short delays.
var fast = sio.WithReconnect(sio.Backoff{Min: 20 * time.Millisecond, Max: 80 * time.Millisecond})

// flaky is a test server whose connections are cut at once while down is
// set: to a client it is a server that is down.
type flaky struct {
	*testserver.Server
	down atomic.Bool
}

func startFlaky(t *testing.T, opts ...testserver.Option) *flaky {
	f := &flaky{}
	opts = append(opts, testserver.WithHandler(func(ctx context.Context, c *testserver.Conn) error {
		if f.down.Load() {
			return c.Cut()
		}
		return c.Serve(ctx)
	}))
	f.Server = startServer(t, opts...)
	return f
}

// waitEvent skips to the next event of type typ.
func waitEvent(t *testing.T, s *sio.Socket, typ sio.EventType) sio.Event {
	t.Helper()
	for {
		if ev := next(t, s); ev.Type == typ {
			return ev
		}
	}
}

func managerSocket(t *testing.T, m *sio.Manager, nsp string, opts ...sio.SocketOption) *sio.Socket {
	t.Helper()
	s, err := m.Socket(testCtx(t), nsp, opts...)
	if err != nil {
		t.Fatalf("Socket(%s): %v", nsp, err)
	}
	if ev := next(t, s); ev.Type != sio.EventConnect {
		t.Fatalf("first event %v", ev.Type)
	}
	return s
}

func newManager(t *testing.T, url string, opts ...sio.Option) *sio.Manager {
	t.Helper()
	m, err := sio.NewManager(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func echo(t *testing.T, s *sio.Socket, v int) {
	t.Helper()
	f, err := s.EmitWithAck(testCtx(t), "ack", v)
	if err != nil {
		t.Fatalf("%s: %v", s.Namespace(), err)
	}
	r, err := f.Wait(testCtx(t))
	var got int
	if err != nil || r.Decode(&got) != nil || got != v {
		t.Fatalf("%s: ack %v %v", s.Namespace(), r, err)
	}
}

// Three namespaces share one connection; closing one leaves the others,
// and frees its namespace for a new socket.
func TestManagerNamespaces(t *testing.T) {
	srv := startServer(t)
	m := newManager(t, srv.URL())
	a := managerSocket(t, m, "/a")
	b := managerSocket(t, m, "/b")
	c := managerSocket(t, m, "c") // the leading slash is optional
	if c.Namespace() != "/c" {
		t.Fatalf("namespace %q", c.Namespace())
	}
	if n := srv.Connections(); n != 1 {
		t.Fatalf("%d Engine.IO connections for three namespaces", n)
	}
	if _, err := m.Socket(testCtx(t), "/a"); !errors.Is(err, sio.ErrNamespaceInUse) {
		t.Fatalf("second socket on /a: %v", err)
	}
	b.Close()
	for range b.Events() {
	}
	echo(t, a, 1)
	echo(t, c, 2)
	// The namespace is free again: a new socket joins it, and packets for
	// it reach the new socket, not the one closed.
	b2 := managerSocket(t, m, "/b")
	echo(t, b2, 3)
	echo(t, a, 4)
	m.Close()
	for _, s := range []*sio.Socket{a, b2, c} {
		for range s.Events() {
		}
		if !errors.Is(s.Err(), sio.ErrClientDisconnect) {
			t.Fatalf("%s after Manager.Close: %v", s.Namespace(), s.Err())
		}
	}
}

// The server drops the transport: every socket is told, reconnects, joins
// again, and emits made meanwhile arrive in order; acks pending at the drop
// fail with the disconnect reason.
func TestReconnectAfterTransportClose(t *testing.T) {
	srv := startFlaky(t)
	m := newManager(t, srv.URL(), fast)
	a := managerSocket(t, m, "/a")
	b := managerSocket(t, m, "/b")
	ctx := testCtx(t)
	firstID := a.ID()

	srv.down.Store(true) // keep it down until the queue is filled
	// The server closes the transport instead of acknowledging.
	pending, err := a.EmitWithAck(ctx, "close-transport")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*sio.Socket{a, b} {
		ev := waitEvent(t, s, sio.EventDisconnect)
		if !errors.Is(ev.Err, sio.ErrTransportClose) {
			t.Fatalf("%s: reason %v", s.Namespace(), ev.Err)
		}
	}
	if _, err := pending.Wait(ctx); !errors.Is(err, sio.ErrTransportClose) && !errors.Is(err, sio.ErrTransportError) {
		t.Fatalf("pending ack: %v", err)
	}
	if a.Connected() {
		t.Fatal("connected while the server is down")
	}
	// Emits while offline are queued.
	for i := range 50 {
		if err := a.Emit(ctx, "echo", i); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.EmitVolatile(ctx, "echo", -1); !errors.Is(err, sio.ErrDropped) {
		t.Fatalf("volatile emit while offline: %v", err)
	}
	queuedAck, err := a.EmitWithAck(ctx, "ack", "queued")
	if err != nil {
		t.Fatal(err)
	}
	srv.down.Store(false)

	for _, s := range []*sio.Socket{a, b} {
		if ev := waitEvent(t, s, sio.EventConnect); ev.Recovered {
			t.Fatalf("%s: recovered from a server without recovery", s.Namespace())
		}
	}
	if a.ID() == firstID || a.ID() == "" {
		t.Fatalf("id %q after reconnecting (was %q)", a.ID(), firstID)
	}
	for i := range 50 {
		var got int
		if err := nextMessage(t, a).Args.Decode(&got); err != nil || got != i {
			t.Fatalf("queued emit %d arrived as %d (%v)", i, got, err)
		}
	}
	r, err := queuedAck.Wait(ctx)
	var got string
	if err != nil || r.Decode(&got) != nil || got != "queued" {
		t.Fatalf("queued ack: %v %v", r, err)
	}
	echo(t, b, 3)
}

// A kicked socket is not joined again; the others of its Manager go on.
func TestKickNotRejoined(t *testing.T) {
	srv := startFlaky(t)
	m := newManager(t, srv.URL(), fast)
	a := managerSocket(t, m, "/a")
	b := managerSocket(t, m, "/b")
	if err := a.Emit(testCtx(t), "kick"); err != nil {
		t.Fatal(err)
	}
	if err := disconnected(t, a); !errors.Is(err, sio.ErrServerDisconnect) {
		t.Fatalf("kick: %v", err)
	}
	if err := b.Emit(testCtx(t), "close-transport"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, b, sio.EventDisconnect)
	waitEvent(t, b, sio.EventConnect)
	echo(t, b, 4)
	n := 0
	for _, rx := range srv.Received() {
		if rx == "40/a," {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("/a joined %d times", n)
	}
}

// A namespace that refuses the socket after a reconnection (its auth is no
// longer good) ends it with EventConnectError.
func TestRefusedOnReconnect(t *testing.T) {
	var refuse atomic.Bool
	srv := startFlaky(t, testserver.WithAuth(func(nsp string, auth json.RawMessage) error {
		if refuse.Load() {
			return &testserver.RefuseError{Message: "token expired", Data: map[string]int{"code": 401}}
		}
		return nil
	}))
	m := newManager(t, srv.URL(), fast)
	a := managerSocket(t, m, "/a", sio.WithAuth(map[string]string{"token": "t1"}))
	refuse.Store(true)
	if err := a.Emit(testCtx(t), "close-transport"); err != nil {
		t.Fatal(err)
	}
	waitEvent(t, a, sio.EventDisconnect)
	ev := waitEvent(t, a, sio.EventConnectError)
	var ce *sio.ConnectError
	if !errors.As(ev.Err, &ce) || ce.Message != "token expired" || string(ce.Data) != `{"code":401}` {
		t.Fatalf("connect error %v", ev.Err)
	}
	for range a.Events() {
	}
	if !errors.As(a.Err(), &ce) {
		t.Fatalf("Err = %v", a.Err())
	}
}

// SetAuth changes what the next join sends.
func TestSetAuthOnRejoin(t *testing.T) {
	var mu sync.Mutex
	var auths []string
	srv := startFlaky(t, testserver.WithAuth(func(nsp string, auth json.RawMessage) error {
		mu.Lock()
		auths = append(auths, string(auth))
		mu.Unlock()
		return nil
	}))
	m := newManager(t, srv.URL(), fast)
	a := managerSocket(t, m, "/", sio.WithAuth(map[string]string{"token": "old"}))
	if err := a.SetAuth(map[string]string{"token": "new"}); err != nil {
		t.Fatal(err)
	}
	if err := a.SetAuth("not an object"); err == nil {
		t.Fatal("SetAuth accepted a string")
	}
	a.Emit(testCtx(t), "close-transport")
	waitEvent(t, a, sio.EventConnect)
	mu.Lock()
	defer mu.Unlock()
	if want := []string{`{"token":"old"}`, `{"token":"new"}`}; !slices.Equal(auths, want) {
		t.Fatalf("auth sent %q, want %q", auths, want)
	}
}

// While the server is down, attempts are spaced by the policy (no jitter
// here: exactly Min·2ⁿ up to Max), and the policy starts again after a
// connection that has been healthy (up for one ping interval).
func TestBackoffSchedule(t *testing.T) {
	srv := startFlaky(t, testserver.WithPingInterval(100*time.Millisecond))
	m := newManager(t, srv.URL(), sio.WithReconnect(sio.Backoff{Min: 10 * time.Millisecond, Max: 40 * time.Millisecond}))
	a := managerSocket(t, m, "/")
	srv.down.Store(true)
	a.Emit(testCtx(t), "close-transport")

	var delays []time.Duration
	deadline := time.After(10 * time.Second)
	for len(delays) < 6 {
		select {
		case ev := <-m.Events():
			if ev.Type == sio.ReconnectAttempt {
				if ev.Attempt != len(delays)+1 {
					t.Fatalf("attempt %d, want %d", ev.Attempt, len(delays)+1)
				}
				delays = append(delays, ev.Delay)
			}
		case <-deadline:
			t.Fatalf("only %d attempts in 10 s", len(delays))
		}
	}
	ms := time.Millisecond
	if want := []time.Duration{10 * ms, 20 * ms, 40 * ms, 40 * ms, 40 * ms, 40 * ms}; !slices.Equal(delays, want) {
		t.Fatalf("delays %v, want %v", delays, want)
	}
	srv.down.Store(false)
	for ev := range m.Events() {
		if ev.Type == sio.Reconnected {
			break
		}
	}
	waitEvent(t, a, sio.EventConnect)
	// Once the connection has been up for a ping interval, a new outage
	// starts from Min again.
	time.Sleep(150 * time.Millisecond)
	a.Emit(testCtx(t), "close-transport")
	for ev := range m.Events() {
		if ev.Type == sio.ReconnectAttempt {
			if ev.Attempt != 1 || ev.Delay != 10*ms {
				t.Fatalf("after a success: attempt %d delay %v", ev.Attempt, ev.Delay)
			}
			break
		}
	}
}

// Jitter keeps every delay within ±Jitter of the nominal one and never
// above Max; a zero policy still waits.
func TestBackoffJitterBounds(t *testing.T) {
	srv := startFlaky(t)
	m := newManager(t, srv.URL(), sio.WithReconnect(sio.Backoff{Min: 10 * time.Millisecond, Max: 30 * time.Millisecond, Jitter: 0.5}))
	a := managerSocket(t, m, "/")
	srv.down.Store(true)
	a.Emit(testCtx(t), "close-transport")
	n := 0
	for ev := range m.Events() {
		if ev.Type != sio.ReconnectAttempt {
			continue
		}
		nominal := min(10*time.Millisecond<<(ev.Attempt-1), 30*time.Millisecond)
		if ev.Delay < nominal/2 || ev.Delay > min(nominal*3/2, 30*time.Millisecond) {
			t.Fatalf("attempt %d: delay %v for nominal %v", ev.Attempt, ev.Delay, nominal)
		}
		if n++; n == 8 {
			break
		}
	}
}

// Close during a backoff wait returns promptly and leaves no goroutine
// (goleak checks at the end of the package).
func TestCloseDuringBackoff(t *testing.T) {
	srv := startFlaky(t)
	m := newManager(t, srv.URL(), sio.WithReconnect(sio.Backoff{Min: time.Hour, Max: time.Hour}))
	a := managerSocket(t, m, "/")
	srv.down.Store(true)
	a.Emit(testCtx(t), "close-transport")
	for ev := range m.Events() {
		if ev.Type == sio.ReconnectAttempt {
			break
		}
	}
	start := time.Now()
	m.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v during an hour-long backoff", d)
	}
	if err := a.Emit(testCtx(t), "x"); !errors.Is(err, sio.ErrClosed) {
		t.Fatalf("Emit after Close: %v", err)
	}
}

// A policy with Attempts gives up: ReconnectFailed, and the sockets end.
func TestReconnectGivesUp(t *testing.T) {
	srv := startFlaky(t)
	m := newManager(t, srv.URL(), sio.WithReconnect(sio.Backoff{Min: 10 * time.Millisecond, Max: 10 * time.Millisecond, Attempts: 3}))
	a := managerSocket(t, m, "/")
	srv.down.Store(true)
	a.Emit(testCtx(t), "close-transport")
	var failed *sio.ManagerEvent
	for ev := range m.Events() {
		if ev.Type == sio.ReconnectFailed {
			failed = &ev
			break
		}
	}
	if failed == nil || failed.Attempt != 3 {
		t.Fatalf("ReconnectFailed %+v", failed)
	}
	for range a.Events() {
	}
	if !errors.Is(a.Err(), sio.ErrReconnectFailed) {
		t.Fatalf("Err = %v", a.Err())
	}
}

// The offline queue is bounded.
func TestOfflineQueueLimit(t *testing.T) {
	srv := startFlaky(t)
	m := newManager(t, srv.URL(), sio.WithReconnect(sio.Backoff{Min: time.Hour, Max: time.Hour}))
	a := managerSocket(t, m, "/", sio.WithOfflineQueueLimit(3))
	a.Emit(testCtx(t), "close-transport")
	waitEvent(t, a, sio.EventDisconnect)
	for i := range 3 {
		if err := a.Emit(testCtx(t), "echo", i); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Emit(testCtx(t), "echo", 3); !errors.Is(err, sio.ErrQueueFull) {
		t.Fatalf("fourth emit: %v", err)
	}
	if _, err := a.EmitWithAck(testCtx(t), "ack", 3); !errors.Is(err, sio.ErrQueueFull) {
		t.Fatalf("fourth acked emit: %v", err)
	}
}

// With retries, an acked emit the server ignores twice is sent a third
// time and acknowledged; without, the timeout fails it.
func TestRetries(t *testing.T) {
	srv := scripted(t, append(handshake(testserver.Open{}),
		testserver.Expect(`420["job",1]`), // ignored
		testserver.Expect(`421["job",1]`), // ignored
		testserver.Expect(`422["job",1]`),
		testserver.Send(`432["done"]`),
		testserver.WaitForClose())...)
	s := dial(t, srv.URL(), sio.WithAckTimeout(100*time.Millisecond), sio.WithRetries(2))
	f, err := s.EmitWithAck(testCtx(t), "job", 1)
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.Wait(testCtx(t))
	var got string
	if err != nil || r.Decode(&got) != nil || got != "done" {
		t.Fatalf("reply %v %v", r, err)
	}
}

func TestAckTimeout(t *testing.T) {
	srv := scripted(t, append(handshake(testserver.Open{}), testserver.WaitForClose())...)
	s := dial(t, srv.URL(), sio.WithAckTimeout(50*time.Millisecond), sio.WithRetries(1))
	f, err := s.EmitWithAck(testCtx(t), "never")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Wait(testCtx(t)); !errors.Is(err, sio.ErrAckTimeout) {
		t.Fatalf("Wait = %v, want ErrAckTimeout", err)
	}
}

// With retries, acked emits sent before a drop are sent again, in order,
// after the reconnection, and each is acknowledged once.
func TestRetriesAcrossReconnect(t *testing.T) {
	var conns atomic.Int32
	srv := startServer(t, testserver.WithTransports("websocket"), testserver.WithHandler(func(ctx context.Context, c *testserver.Conn) error {
		if conns.Add(1) == 1 {
			// The first connection swallows the acked emits, then drops.
			for _, step := range handshake(testserver.Open{}) {
				if err := step(ctx, c); err != nil {
					return err
				}
			}
			for i := range 5 {
				if _, err := c.Expect(ctx, fmt.Sprintf(`42%d["ack",%d]`, i, i)); err != nil {
					return err
				}
			}
			return c.Cut()
		}
		return c.Serve(ctx)
	}))
	m := newManager(t, srv.URL(), fast)
	s := managerSocket(t, m, "/", sio.WithRetries(1))
	var futures []*ackFuture
	for i := range 5 {
		f, err := s.EmitWithAck(testCtx(t), "ack", i)
		if err != nil {
			t.Fatal(err)
		}
		futures = append(futures, &ackFuture{f, i})
	}
	for _, f := range futures {
		r, err := f.Wait(testCtx(t))
		var got int
		if err != nil || r.Decode(&got) != nil || got != f.want {
			t.Fatalf("emit %d: %v %v", f.want, r, err)
		}
	}
}

// A Socket.IO 2.x server (Engine.IO v3) joins "/" by itself the moment a
// connection opens, often before the Manager's reconnection has got to
// rejoining the socket of "/" (it rejoins the sockets one at a time, in no
// set order, waiting for each answer): that CONNECT still completes the
// rejoin. The peer is a minimal v3 WebSocket session: open and "40" at
// once, then pongs, "40/admin" answered, acks that echo, and "drop", which
// drops the connection. Eight drops: one in which "/admin" is rejoined
// first is all but certain.
func TestV3RootRejoinedAfterReconnect(t *testing.T) {
	var sessions atomic.Int32
	srv := startServer(t, testserver.WithIntercept(func(ctx context.Context, w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Get("EIO") != "3" || r.URL.Query().Get("transport") != "websocket" {
			return false
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return true
		}
		defer c.CloseNow()
		open := fmt.Sprintf(`0{"sid":"v3-%d","upgrades":[],"pingInterval":25000,"pingTimeout":5000}`, sessions.Add(1))
		for _, msg := range []string{open, "40"} {
			if c.Write(ctx, websocket.MessageText, []byte(msg)) != nil {
				return true
			}
		}
		for {
			_, msg, err := c.Read(ctx)
			if err != nil {
				return true
			}
			reply := ""
			switch s := string(msg); {
			case s == "2":
				reply = "3"
			case s == "40/admin,":
				reply = s
			case s == `42["drop"]`:
				return true
			case strings.HasPrefix(s, "42"): // 42<id>["ack",x] -> 43<id>[x]
				id, rest, _ := strings.Cut(s[2:], `["ack",`)
				reply = "43" + id + "[" + rest
			}
			if reply != "" && c.Write(ctx, websocket.MessageText, []byte(reply)) != nil {
				return true
			}
		}
	}))
	m, err := sio.NewManager(srv.URL(), sio.WithTransports(sio.WebSocket), sio.WithEngineIO(3),
		sio.WithReconnect(sio.Backoff{Min: time.Millisecond, Max: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := testCtx(t)
	root := managerSocket(t, m, "/")
	admin := managerSocket(t, m, "/admin")
	for round := 2; round <= 9; round++ {
		if err := root.Emit(ctx, "drop"); err != nil {
			t.Fatal(err)
		}
		for _, s := range []*sio.Socket{root, admin} {
			for _, want := range []sio.EventType{sio.EventDisconnect, sio.EventConnect} {
				if ev := next(t, s); ev.Type != want {
					t.Fatalf("round %d, %s: %v (%v), want %v", round, s.Namespace(), ev.Type, ev.Err, want)
				}
			}
		}
		if want := fmt.Sprintf("v3-%d", round); root.ID() != want {
			t.Fatalf("round %d: ID() = %q, want %q", round, root.ID(), want)
		}
		f, err := root.EmitWithAck(ctx, "ack", round)
		if err != nil {
			t.Fatal(err)
		}
		var got int
		if r, err := f.Wait(ctx); err != nil || r.Decode(&got) != nil || got != round {
			t.Fatalf("round %d: ack after reconnecting: %v %v", round, r, err)
		}
	}
}

// v4Peer is a minimal Engine.IO v4 WebSocket peer, for reconnection
// scripts that the Node server cannot play. Connection attempts are
// numbered from 1: attempt n is refused with HTTP 503 when refuse(n), and
// closed right after its open packet when vanish(n); otherwise it answers
// every CONNECT with the sid "s<n>" and closes when it gets the event
// "drop". Either func may be nil. attempts counts the attempts.
type v4Peer struct {
	refuse, vanish func(n int32) bool
	attempts       atomic.Int32
}

func (p *v4Peer) start(t *testing.T) *testserver.Server {
	return startServer(t, testserver.WithIntercept(func(ctx context.Context, w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Query().Get("transport") != "websocket" {
			return false
		}
		n := p.attempts.Add(1)
		if p.refuse != nil && p.refuse(n) {
			http.Error(w, "down for a moment", http.StatusServiceUnavailable)
			return true
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return true
		}
		defer c.CloseNow()
		open := fmt.Sprintf(`0{"sid":"e%d","upgrades":[],"pingInterval":25000,"pingTimeout":5000,"maxPayload":1000000}`, n)
		if c.Write(ctx, websocket.MessageText, []byte(open)) != nil || p.vanish != nil && p.vanish(n) {
			return true
		}
		for {
			_, msg, err := c.Read(ctx)
			if err != nil {
				return true
			}
			switch s := string(msg); {
			case strings.HasPrefix(s, "40"): // 40 or 40/nsp,
				nsp, _, _ := strings.Cut(strings.TrimPrefix(s, "40"), ",")
				if nsp != "" {
					nsp += ","
				}
				if c.Write(ctx, websocket.MessageText, fmt.Appendf(nil, `40%s{"sid":"s%d"}`, nsp, n)) != nil {
					return true
				}
			case s == `42["drop"]`:
				return true
			}
		}
	}))
}

// A connection can be lost while the reconnection joins the sockets on it,
// before the CONNECT goes out: the socket must then wait for the next
// connection, not stay joining on the dead one. Here every session after
// the first ends right after its open packet, twenty times in a row; the
// one after those answers, and the socket must be connected again.
func TestRejoinOnConnectionLostAtOnce(t *testing.T) {
	const vanishing = 20
	peer := &v4Peer{vanish: func(n int32) bool { return n > 1 && n <= 1+vanishing }}
	srv := peer.start(t)
	s, err := sio.Dial(testCtx(t), srv.URL(), sio.WithTransports(sio.WebSocket),
		sio.WithReconnect(sio.Backoff{Min: time.Millisecond, Max: time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if ev := next(t, s); ev.Type != sio.EventConnect {
		t.Fatalf("first event %v, want EventConnect", ev.Type)
	}
	if err := s.Emit(testCtx(t), "drop"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []sio.EventType{sio.EventDisconnect, sio.EventConnect} {
		if ev := next(t, s); ev.Type != want {
			t.Fatalf("event %v (%v), want %v", ev.Type, ev.Err, want)
		}
	}
	if want := fmt.Sprintf("s%d", vanishing+2); s.ID() != want {
		t.Fatalf("ID() = %q, want %q (the first session to answer)", s.ID(), want)
	}
}

// Manager.Socket called just as the connection drops must not cost the
// sockets already joined their reconnection: whichever of the two opens
// the next connection, every socket ends up joined on it.
func TestManagerSocketAsConnectionDrops(t *testing.T) {
	srv := (&v4Peer{}).start(t)
	m := newManager(t, srv.URL(), sio.WithTransports(sio.WebSocket),
		sio.WithReconnect(sio.Backoff{Min: time.Millisecond, Max: time.Millisecond}))
	ctx := testCtx(t)
	root := managerSocket(t, m, "/")
	for round := range 20 {
		if err := root.Emit(ctx, "drop"); err != nil {
			t.Fatal(err)
		}
		nsp := fmt.Sprintf("/r%d", round)
		s, err := m.Socket(ctx, nsp)
		if err == nil {
			if ev := next(t, s); ev.Type != sio.EventConnect {
				t.Fatalf("round %d, %s: first event %v (%v)", round, nsp, ev.Type, ev.Err)
			}
			s.Close()
		} else if !errors.Is(err, sio.ErrClosed) {
			// The connection may have dropped before the CONNECT could
			// go out: anything else is a bug.
			t.Fatalf("round %d: Socket(%s): %v", round, nsp, err)
		}
		for _, want := range []sio.EventType{sio.EventDisconnect, sio.EventConnect} {
			if ev := next(t, root); ev.Type != want {
				t.Fatalf("round %d, /: event %v (%v), want %v", round, ev.Type, ev.Err, want)
			}
		}
	}
}

// Manager.Socket called while the Manager reconnects returns once the
// reconnection has joined the new socket too, and the reconnection, which
// waits for the same news, ends as well: the next drop starts another.
func TestManagerSocketWhileReconnecting(t *testing.T) {
	peer := &v4Peer{refuse: func(n int32) bool { return n >= 2 && n <= 4 }}
	srv := peer.start(t)
	m := newManager(t, srv.URL(), sio.WithTransports(sio.WebSocket),
		sio.WithReconnect(sio.Backoff{Min: 50 * time.Millisecond, Max: 50 * time.Millisecond}))
	ctx := testCtx(t)
	root := managerSocket(t, m, "/")
	if err := root.Emit(ctx, "drop"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, root); ev.Type != sio.EventDisconnect {
		t.Fatalf("/: event %v, want EventDisconnect", ev.Type)
	}
	// Reconnecting now, for three refused attempts at least.
	b := managerSocket(t, m, "/b")
	if ev := next(t, root); ev.Type != sio.EventConnect {
		t.Fatalf("/: event %v, want EventConnect", ev.Type)
	}
	if got := peer.attempts.Load(); got != 5 {
		t.Fatalf("%d connection attempts, want 5", got)
	}
	if b.ID() != "s5" || root.ID() != "s5" {
		t.Fatalf("IDs %q and %q, want both joined on the fifth connection", b.ID(), root.ID())
	}
	// The reconnection is over: the next drop starts another.
	if err := root.Emit(ctx, "drop"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*sio.Socket{root, b} {
		for _, want := range []sio.EventType{sio.EventDisconnect, sio.EventConnect} {
			if ev := next(t, s); ev.Type != want {
				t.Fatalf("%s after the second drop: event %v (%v), want %v", s.Namespace(), ev.Type, ev.Err, want)
			}
		}
		if s.ID() != "s6" {
			t.Fatalf("%s: ID %q, want s6", s.Namespace(), s.ID())
		}
	}
}
