package sio_test

// Regression tests for the lifecycle defects of issue 10: each one is about
// who owns a piece of state and when it ends.

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/test/testserver"
)

// goroutinesIn counts the goroutines whose stack mentions fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	n := 0
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, fn) {
			n++
		}
	}
	return n
}

// Defect 2: a Manager socket that the server kicked while the program had
// more unread events than Events holds leaves the Manager's map; Close must
// still stop its delivery: Events closes with at most its buffer left.
func TestManagerCloseStopsKickedSocketDelivery(t *testing.T) {
	srv := startServer(t)
	m := newManager(t, srv.URL(), sio.WithTransports(sio.WebSocket))
	s := managerSocket(t, m, "/")
	ctx := testCtx(t)
	if err := s.Emit(ctx, "stream", 200); err != nil {
		t.Fatal(err)
	}
	if err := s.Emit(ctx, "kick"); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Done():
	case <-ctx.Done():
		t.Fatal("not kicked")
	}
	m.Close()
	if n := goroutinesIn("(*mailbox).run"); n != 0 {
		t.Fatalf("%d delivery goroutines still run after Manager.Close returned", n)
	}
	n := 0
	for range s.Events() {
		n++
	}
	if n > 8 {
		t.Fatalf("%d events delivered after Manager.Close; want at most the channel's buffer", n)
	}
}

// Defect 3: WithConnectTimeout(0) means no timeout, for reconnections too.
func TestConnectTimeoutZeroReconnects(t *testing.T) {
	srv := startServer(t)
	s := dial(t, srv.URL(), sio.WithTransports(sio.WebSocket), sio.WithConnectTimeout(0),
		sio.WithReconnect(sio.Backoff{Min: time.Millisecond, Max: time.Millisecond, Attempts: 3}))
	if err := s.Emit(testCtx(t), "close-transport"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, s); ev.Type != sio.EventDisconnect {
		t.Fatalf("event %v (%v), want disconnect", ev.Type, ev.Err)
	}
	if ev := next(t, s); ev.Type != sio.EventConnect {
		t.Fatalf("event %v (%v), want connect: the reconnection failed", ev.Type, ev.Err)
	}
}

// Defect 4: emits, acknowledged emits and their resends racing
// Socket.Close are never written after the socket's DISCONNECT: the test
// server, like the official one, closes the whole connection on a packet
// for a namespace that is not joined ("invalid state"), which would take
// the sibling namespace down.
func TestEmitRacingCloseNotAfterDisconnect(t *testing.T) {
	srv := startServer(t)
	m := newManager(t, srv.URL(), sio.WithTransports(sio.WebSocket), sio.WithoutReconnect())
	root := managerSocket(t, m, "/")
	ctx := testCtx(t)
	for round := range 30 {
		admin := managerSocket(t, m, "/admin", sio.WithAckTimeout(time.Millisecond), sio.WithRetries(1000))
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					var err error
					if i%2 == 0 {
						err = admin.Emit(ctx, "echo", i)
					} else {
						_, err = admin.EmitWithAck(ctx, "ack", i)
					}
					if err != nil {
						return
					}
				}
			}()
		}
		time.Sleep(2 * time.Millisecond)
		admin.Close()
		wg.Wait()
		for range admin.Events() {
		}
		// A round trip on "/" proves the connection survived.
		f, err := root.EmitWithAck(ctx, "ack", round)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if _, err := f.Wait(ctx); err != nil {
			t.Fatalf("round %d: the shared connection was dropped: %v", round, err)
		}
	}
}

// Defect 5: after a reconnection, a namespace whose CONNECT the server does
// not answer neither blocks the others from joining again nor waits past
// the connect timeout.
func TestRejoinUnansweredConnectDoesNotBlockOthers(t *testing.T) {
	srv := startServer(t, testserver.WithTransports("websocket"), testserver.WithHandler(func(ctx context.Context, c *testserver.Conn) error {
		if err := c.SendOpen(testserver.Open{PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1e6}); err != nil {
			return err
		}
		for {
			f, err := c.Read(ctx)
			if err != nil {
				return nil
			}
			if f.Text == `42["drop"]` {
				return c.Cut()
			}
			nsp, ok := strings.CutPrefix(f.Text, "40")
			if !ok {
				continue
			}
			if nsp == "/a," && c.Seq() > 1 {
				continue // never answered after the first connection
			}
			if err := c.SendText(ctx, fmt.Sprintf(`40%s{"sid":"x-%d"}`, nsp, c.Seq())); err != nil {
				return nil
			}
		}
	}))
	m := newManager(t, srv.URL(), sio.WithTransports(sio.WebSocket), sio.WithConnectTimeout(time.Second),
		sio.WithReconnect(sio.Backoff{Min: time.Millisecond, Max: time.Millisecond}))
	var socks []*sio.Socket
	for _, nsp := range []string{"/", "/a", "/b"} {
		socks = append(socks, managerSocket(t, m, nsp))
	}
	if err := socks[0].Emit(testCtx(t), "drop"); err != nil {
		t.Fatal(err)
	}
	for _, s := range socks {
		if ev := next(t, s); ev.Type != sio.EventDisconnect {
			t.Fatalf("%s: event %v, want disconnect", s.Namespace(), ev.Type)
		}
	}
	start := time.Now()
	for _, s := range []*sio.Socket{socks[0], socks[2]} {
		if ev := next(t, s); ev.Type != sio.EventConnect {
			t.Fatalf("%s: event %v (%v), want connect", s.Namespace(), ev.Type, ev.Err)
		}
	}
	// The unanswered one gives up after the connect timeout.
	select {
	case <-socks[1].Done():
		if err := socks[1].Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("/a ended with %v, want a deadline", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("/a still waits for its CONNECT's answer 10 s after the reconnection")
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("/a gave up after %v, before its connect timeout", d)
	}
}

// Defect 6: the event queue's byte limit counts what a queued event keeps:
// its name, and not the whole frame its arguments came in. 64 events of
// one small argument padded with 256 KiB of JSON whitespace stay far below
// 16 MiB (the 8 in the channel's buffer keep their frames); 12 events with
// a 512 KiB name exceed a 1 MiB limit.
func TestEventQueueBytesCountWhatIsKept(t *testing.T) {
	const pad = 1 << 20
	t.Run("whitespace", func(t *testing.T) {
		synced := make(chan struct{})
		frame := `42["e",1` + strings.Repeat(" ", pad/4) + `]`
		srv := scriptedEvents(t, frame, 64, synced)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		s := dial(t, srv.URL(), sio.WithTransports(sio.WebSocket), sio.WithEventQueueLimit(4096, 1<<20))
		select {
		case <-synced:
		case <-s.Done():
		case <-time.After(60 * time.Second):
			t.Fatal("the server's frames were not all handled in 60 s")
		}
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
		if grown > 8<<20 && !errors.Is(s.Err(), sio.ErrSlowConsumer) {
			t.Fatalf("64 unread events hold %d MiB under a 1 MiB queue limit", grown>>20)
		}
	})
	t.Run("name", func(t *testing.T) {
		synced := make(chan struct{})
		frame := `42["` + strings.Repeat("n", pad/2) + `",1]`
		srv := scriptedEvents(t, frame, 12, synced)
		s := dial(t, srv.URL(), sio.WithTransports(sio.WebSocket), sio.WithEventQueueLimit(4096, 1<<20))
		select {
		case <-s.Done():
		case <-synced: // every frame handled, and the socket still up
		case <-time.After(10 * time.Second):
		}
		if !errors.Is(s.Err(), sio.ErrSlowConsumer) {
			t.Fatalf("12 unread 512 KiB event names under a 1 MiB limit: Err = %v, want ErrSlowConsumer", s.Err())
		}
	})
}

// scriptedEvents starts a server that accepts "/", sends frame n times,
// then pings and closes synced once the pong shows the client's reader has
// handled every frame.
func scriptedEvents(t *testing.T, frame string, n int, synced chan struct{}) *testserver.Server {
	steps := handshake(testserver.Open{})
	for range n {
		steps = append(steps, testserver.Send(frame))
	}
	steps = append(steps, testserver.Send("2"), func(ctx context.Context, c *testserver.Conn) error {
		for {
			f, err := c.Read(ctx)
			if err != nil {
				return err
			}
			if f.Text == "3" {
				close(synced)
				return nil
			}
		}
	}, testserver.WaitForClose())
	return scripted(t, steps...)
}

// blockingServer accepts "/" and then reads nothing until its context
// ends, so that the client's writes back up into its send queue. Every
// connection after the first is cut once it has handed out seq.
func blockingServer(t *testing.T, stall <-chan struct{}) *testserver.Server {
	return startServer(t, testserver.WithTransports("websocket"), testserver.WithHandler(func(ctx context.Context, c *testserver.Conn) error {
		if err := testserver.Script(handshake(testserver.Open{})...)(ctx, c); err != nil {
			return err
		}
		select {
		case <-stall:
			return c.Cut()
		case <-ctx.Done():
			return nil
		}
	}))
}

// Defect 7: emits waiting for room in the send queue when the connection
// drops go back to the offline queue whatever its limit (README: "one in
// flight when the connection was lost goes back to the queue regardless").
func TestEmitsWaitingInSendQueueRequeuedOnLoss(t *testing.T) {
	stall := make(chan struct{})
	srv := blockingServer(t, stall)
	s := dial(t, srv.URL(), sio.WithTransports(sio.WebSocket), sio.WithOfflineQueueLimit(0),
		sio.WithReconnect(sio.Backoff{Min: time.Hour, Max: time.Hour}))
	ctx := testCtx(t)
	big := strings.Repeat("x", 500_000)
	const n = 48
	errs := make(chan error, n)
	var returned atomic.Int32
	for range n {
		go func() {
			err := s.Emit(ctx, "echo", big)
			returned.Add(1)
			errs <- err
		}()
	}
	// Every emit is queued, or waits for room in the send queue.
	for int(returned.Load())+goroutinesIn("(*engineConn).send(") < n {
		if ctx.Err() != nil {
			t.Fatal("the emits neither returned nor waited for room")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stall)
	failed := 0
	var last error
	for range n {
		if err := <-errs; err != nil {
			failed, last = failed+1, err
		}
	}
	if failed > 0 {
		t.Fatalf("%d emits made while connected failed when the connection dropped: %v", failed, last)
	}
}

// Defect 8: once Socket.Close has returned, no acknowledgement timer of the
// socket runs, even one that was resending into a full send queue.
func TestAckTimersEndWithSocketClose(t *testing.T) {
	stall := make(chan struct{})
	defer close(stall)
	srv := blockingServer(t, stall)
	m := newManager(t, srv.URL(), sio.WithTransports(sio.WebSocket))
	s := managerSocket(t, m, "/", sio.WithAckTimeout(10*time.Millisecond), sio.WithRetries(1000))
	ctx := testCtx(t)
	big := strings.Repeat("x", 100_000)
	var wg sync.WaitGroup
	var emitted atomic.Int32
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ectx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
			defer cancel()
			if _, err := s.EmitWithAck(ectx, "ack", big); err == nil {
				emitted.Add(1)
			}
		}()
	}
	wg.Wait()
	time.Sleep(100 * time.Millisecond) // timers fire and resend into the full queue
	if emitted.Load() == 0 {
		t.Fatal("no emit was queued")
	}
	s.Close()
	if n := goroutinesIn("(*Socket).ackTimedOut"); n != 0 {
		t.Fatalf("%d acknowledgement timers still run after Socket.Close returned", n)
	}
}

// Defect 9: a Wait given up on drops the emit's resend state (its
// arguments, its timer) at once, not at the timeout or the next
// disconnection.
func TestCancelledWaitDropsResendState(t *testing.T) {
	srv := scripted(t, append(handshake(testserver.Open{}), testserver.WaitForClose())...)
	s := dial(t, srv.URL(), sio.WithTransports(sio.WebSocket), sio.WithAckTimeout(time.Hour), sio.WithRetries(1))
	ctx := testCtx(t)
	var freed atomic.Int32
	const n = 50
	for i := range n {
		arg := &payload{Data: strings.Repeat("x", 10_000), N: i}
		runtime.SetFinalizer(arg, func(*payload) { freed.Add(1) })
		f, err := s.EmitWithAck(ctx, "ack", arg)
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := f.Wait(wctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("Wait: %v", err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for freed.Load() < n && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if got := freed.Load(); got < n {
		t.Fatalf("%d of %d arguments of cancelled waits are still kept", n-got, n)
	}
}

type payload struct {
	Data string
	N    int
}

// A Socket call for a namespace whose rejoin was given up waits, without a
// second CONNECT, until the server's late answer to the first one lets the
// old socket leave; its context bounds that wait; and it joins then.
func TestSocketWaitsForAbandonedRejoinToLeave(t *testing.T) {
	var connects atomic.Int32 // CONNECTs for /a on the second connection
	srv := startServer(t, testserver.WithTransports("websocket"), testserver.WithHandler(func(ctx context.Context, c *testserver.Conn) error {
		if err := c.SendOpen(testserver.Open{PingInterval: 25000, PingTimeout: 20000, MaxPayload: 1e6}); err != nil {
			return err
		}
		answerA := c.Seq() == 1
		for {
			f, err := c.Read(ctx)
			if err != nil {
				return nil
			}
			switch {
			case f.Text == `42["drop"]`:
				return c.Cut()
			case f.Text == `42["answer"]`: // the late answer to the rejoin of /a
				answerA = true
				if err := c.SendText(ctx, `40/a,{"sid":"late"}`); err != nil {
					return nil
				}
				continue
			}
			nsp, ok := strings.CutPrefix(f.Text, "40")
			if !ok {
				continue
			}
			if nsp == "/a," && c.Seq() > 1 {
				connects.Add(1)
				if !answerA {
					continue
				}
			}
			if err := c.SendText(ctx, fmt.Sprintf(`40%s{"sid":"x-%d-%d"}`, nsp, c.Seq(), connects.Load())); err != nil {
				return nil
			}
		}
	}))
	m := newManager(t, srv.URL(), sio.WithTransports(sio.WebSocket), sio.WithConnectTimeout(300*time.Millisecond),
		sio.WithReconnect(sio.Backoff{Min: time.Millisecond, Max: time.Millisecond}))
	main, a := managerSocket(t, m, "/"), managerSocket(t, m, "/a")
	if err := main.Emit(testCtx(t), "drop"); err != nil {
		t.Fatal(err)
	}
	if ev := next(t, main); ev.Type != sio.EventDisconnect {
		t.Fatalf("/: event %v, want disconnect", ev.Type)
	}
	if ev := next(t, main); ev.Type != sio.EventConnect {
		t.Fatalf("/: event %v (%v), want connect", ev.Type, ev.Err)
	}
	select {
	case <-a.Done(): // its rejoin was given up; it waits for the answer
	case <-time.After(10 * time.Second):
		t.Fatal("the unanswered rejoin of /a was not given up")
	}

	// The old /a has not left: a call whose context ends first fails with
	// it, and sends nothing.
	short, cancel := context.WithTimeout(testCtx(t), 200*time.Millisecond)
	defer cancel()
	if s, err := m.Socket(short, "/a"); !errors.Is(err, context.DeadlineExceeded) {
		if s != nil {
			s.Close()
		}
		t.Fatalf("Socket(/a) while the old one waits for its answer: %v, want a deadline", err)
	}
	type result struct {
		s   *sio.Socket
		err error
	}
	got := make(chan result, 1)
	go func() {
		s, err := m.Socket(testCtx(t), "/a")
		got <- result{s, err}
	}()
	select {
	case r := <-got:
		t.Fatalf("Socket(/a) returned (%v) while the old one waits for its answer", r.err)
	case <-time.After(200 * time.Millisecond):
	}
	if n := connects.Load(); n != 1 {
		t.Fatalf("%d CONNECTs for /a on the new connection before the answer, want 1 (the rejoin)", n)
	}
	if err := main.Emit(testCtx(t), "answer"); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("Socket(/a) still waits after the old one got its answer")
	}
	if r.err != nil {
		t.Fatalf("Socket(/a) after the old one left: %v", r.err)
	}
	defer r.s.Close()
	if !r.s.Connected() || r.s.ID() == "late" {
		t.Fatalf("the new /a: connected %v, id %q", r.s.Connected(), r.s.ID())
	}
	if n := connects.Load(); n != 2 {
		t.Fatalf("%d CONNECTs for /a on the new connection, want 2", n)
	}
}
