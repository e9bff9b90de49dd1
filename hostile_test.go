package sio_test

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/ack"
	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/test/testserver"
	"github.com/sio-go/sio/transport"
)

// Hostile and broken servers, scripted with the test server, over both
// transports where the case applies. socket_test.go has the packet-level
// cases over WebSocket (TestHostilePackets, TestBadOpen, TestDuplicateAck,
// TestMaxMessageSize); this file adds polling, the HTTP-level faults
// (status 500, redirect loops, bodies that never end) and oversized frames
// with the memory they cost.

// bothTransports are the transports a case runs over when it applies to
// both, each alone so that the case hits the one named.
var bothTransports = []sio.Transport{sio.WebSocket, sio.Polling}

// scriptedOver starts a test server that serves only transport tr and runs
// steps on every session (opts come first).
func scriptedOver(t *testing.T, tr sio.Transport, opts []testserver.Option, steps ...testserver.Step) *testserver.Server {
	t.Helper()
	opts = append(opts, testserver.WithTransports(tr.String()), testserver.WithHandler(testserver.Script(steps...)))
	return startServer(t, opts...)
}

// allocated returns the bytes the whole process (test server included)
// allocated while fn ran (MemStats.TotalAlloc): an upper bound on how much
// the heap grew meanwhile, whenever the garbage collector ran.
func allocated(fn func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// firstSession returns an interceptor that answers, with answer, the
// polling requests of one method of the first session that makes one, from
// its from-th (from 1) on, and lets every other request through: the
// sessions of a reconnection are served as usual.
func firstSession(method string, from int32, answer func(ctx context.Context, w http.ResponseWriter, r *http.Request)) testserver.Interceptor {
	var (
		mu  sync.Mutex
		sid string
		n   int32
	)
	return func(ctx context.Context, w http.ResponseWriter, r *http.Request) bool {
		q := r.URL.Query()
		if r.Method != method || q.Get("transport") != "polling" || q.Get("sid") == "" {
			return false
		}
		mu.Lock()
		if sid == "" {
			sid = q.Get("sid")
		}
		hit := false
		if q.Get("sid") == sid {
			n++
			hit = n >= from
		}
		mu.Unlock()
		if hit {
			answer(ctx, w, r)
		}
		return hit
	}
}

// status answers a request with an HTTP status and a short body.
func status(code int) func(context.Context, http.ResponseWriter, *http.Request) {
	return func(_ context.Context, w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "hostile", code)
	}
}

// redirectToSelf answers a request with a redirect to its own URL.
func redirectToSelf(code int) func(context.Context, http.ResponseWriter, *http.Request) {
	return func(_ context.Context, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, r.URL.String(), code)
	}
}

// stream answers a request with st as the body.
func stream(st testserver.Stream) func(context.Context, http.ResponseWriter, *http.Request) {
	return func(ctx context.Context, w http.ResponseWriter, _ *http.Request) {
		_ = st.ServeHTTP(ctx, w) // fails when the client refuses the body
	}
}

// pollingServer starts a test server that serves polling only, with the
// default behaviour, and intercepts requests with ic.
func pollingServer(t *testing.T, ic testserver.Interceptor) *testserver.Server {
	t.Helper()
	return startServer(t, testserver.WithTransports("polling"), testserver.WithIntercept(ic))
}

// timedDisconnect waits for the socket's disconnect and checks that it
// came within limit.
func timedDisconnect(t *testing.T, s *sio.Socket, limit time.Duration) error {
	t.Helper()
	start := time.Now()
	err := disconnected(t, s)
	if d := time.Since(start); d > limit {
		t.Fatalf("disconnected after %v (reason %v), want within %v", d, err, limit)
	}
	return err
}

const (
	kib      = 1 << 10
	mib      = 1 << 20
	hugeSize = 100 * mib
	// misc bounds what a hostile case allocates beyond the frame it
	// refuses: the handshake, the HTTP machinery, the server's buffers.
	misc = 16 * mib
)

// A 100 MiB frame from the server, after the socket joined: over WebSocket
// one message, over polling one packet in a poll's body (chunked, so that
// the client learns its size only by reading; or announced in
// Content-Length). The client ends the connection at once with an error
// matching ErrTransportError and transport.ErrFrameTooLarge, without
// reading the frame: what the whole process allocates meanwhile, server
// included, is the read limit (over polling 4/3 of it, the base64 a binary
// frame within the limit may take) and a few MiB more, where buffering the
// frame would cost at least its 100 MiB.
func TestHostileHugeFrame(t *testing.T) {
	huge := testserver.Stream{Prefix: `42["big","`, Fill: "x", Size: hugeSize}
	for _, tc := range []struct {
		name      string
		tr        sio.Transport
		limit     int64 // WithMaxMessageSize; 0 for the default
		announced bool  // polling: Content-Length
	}{
		{"websocket", sio.WebSocket, mib, false},
		{"websocket default limit", sio.WebSocket, 0, false},
		{"polling", sio.Polling, mib, false},
		{"polling default limit", sio.Polling, 0, false},
		{"polling content-length", sio.Polling, mib, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var srv *testserver.Server
			steps := handshake(testserver.Open{})
			if tc.tr == sio.WebSocket {
				srv = scriptedOver(t, tc.tr, nil, append(steps, testserver.SendStream(huge), testserver.WaitForClose())...)
			} else {
				st := huge
				st.ContentLength = tc.announced
				// Poll 1 carries the CONNECT reply; poll 2 gets the frame.
				ic := firstSession(http.MethodGet, 2, stream(st))
				srv = scriptedOver(t, tc.tr, []testserver.Option{testserver.WithIntercept(ic)}, append(steps, testserver.WaitForClose())...)
			}
			opts := []sio.Option{sio.WithTransports(tc.tr), sio.WithoutReconnect()}
			limit := tc.limit
			if limit > 0 {
				opts = append(opts, sio.WithMaxMessageSize(limit))
			} else {
				limit = sio.DefaultMaxMessageSize
			}
			var reason error
			alloc := allocated(func() {
				s := dial(t, srv.URL(), opts...)
				reason = timedDisconnect(t, s, 4*time.Second)
			})
			t.Logf("allocated %.1f MiB; reason: %v", float64(alloc)/mib, reason)
			if !errors.Is(reason, sio.ErrTransportError) || !errors.Is(reason, transport.ErrFrameTooLarge) {
				t.Fatalf("reason %v, want ErrTransportError and transport.ErrFrameTooLarge", reason)
			}
			if bound := uint64(limit*3/2 + misc); alloc > bound {
				t.Fatalf("allocated %d bytes for a refused %d-byte frame with a read limit of %d, want at most %d",
					alloc, hugeSize, limit, bound)
			}
		})
	}
}

// Bodies and messages that never end. One endless packet is refused at the
// read limit; a poll body of valid noops without end at the body limit
// (the read limit plus 16 MiB); a trickle, which no limit stops, by the
// heartbeat: no ping can come while the poll (or the message) never ends,
// so the connection is declared dead after pingInterval + pingTimeout.
// Memory stays bounded and nothing hangs.
func TestHostileEndlessBody(t *testing.T) {
	const limit = mib
	for _, tc := range []struct {
		name  string
		tr    sio.Transport
		st    testserver.Stream
		want  []error
		bound uint64
	}{
		{"websocket endless message", sio.WebSocket,
			testserver.Stream{Prefix: `42["x","`, Fill: "x", Size: -1},
			[]error{sio.ErrTransportError, transport.ErrFrameTooLarge}, limit*3/2 + misc},
		{"websocket trickling message", sio.WebSocket,
			testserver.Stream{Prefix: `42["x","`, Fill: "x", Size: -1, Chunk: 1, Every: 10 * time.Millisecond},
			[]error{sio.ErrPingTimeout}, misc},
		{"polling endless packet", sio.Polling,
			testserver.Stream{Prefix: `42["x","`, Fill: "x", Size: -1},
			[]error{sio.ErrTransportError, transport.ErrFrameTooLarge}, limit*3/2 + misc},
		{"polling endless noops", sio.Polling,
			testserver.Stream{Prefix: "6", Fill: "\x1e6", Size: -1},
			[]error{sio.ErrTransportError, transport.ErrFrameTooLarge}, limit + 16*mib + misc},
		{"polling trickle", sio.Polling,
			testserver.Stream{Prefix: "6", Fill: "\x1e6", Size: -1, Chunk: 2, Every: 10 * time.Millisecond},
			[]error{sio.ErrPingTimeout}, misc},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var srv *testserver.Server
			var open testserver.Open // the default heartbeat: 45 s
			if errors.Is(tc.want[0], sio.ErrPingTimeout) {
				open = testserver.Open{PingInterval: 200, PingTimeout: 200}
			}
			steps := handshake(open)
			if tc.tr == sio.WebSocket {
				srv = scriptedOver(t, tc.tr, nil, append(steps, testserver.SendStream(tc.st), testserver.WaitForClose())...)
			} else {
				ic := firstSession(http.MethodGet, 2, stream(tc.st))
				srv = scriptedOver(t, tc.tr, []testserver.Option{testserver.WithIntercept(ic)}, append(steps, testserver.WaitForClose())...)
			}
			var reason error
			alloc := allocated(func() {
				s := dial(t, srv.URL(), sio.WithTransports(tc.tr), sio.WithMaxMessageSize(limit), sio.WithoutReconnect())
				// A trickle's heartbeat limit is 400 ms.
				reason = timedDisconnect(t, s, 4*time.Second)
			})
			t.Logf("allocated %.1f MiB; reason: %v", float64(alloc)/mib, reason)
			for _, w := range tc.want {
				if !errors.Is(reason, w) {
					t.Fatalf("reason %v, want %v", reason, w)
				}
			}
			if alloc > tc.bound {
				t.Fatalf("allocated %d bytes, want at most %d", alloc, tc.bound)
			}
		})
	}
}

// HTTP 500 on a poll (GET) and on a POST in the middle of a session: the
// socket disconnects with ErrTransportError, the *HandshakeError carrying
// the status wrapped; an ack waiting on the failed POST fails with the
// same reason. With reconnection on, the socket joins again on a new
// session and works.
func TestHostileHTTP500(t *testing.T) {
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		// GET 2 follows the one carrying the CONNECT reply; POST 2 follows
		// the CONNECT and carries the emit below.
		t.Run(method, func(t *testing.T) {
			srv := pollingServer(t, firstSession(method, 2, status(http.StatusInternalServerError)))
			s := dial(t, srv.URL(), sio.WithTransports(sio.Polling), sio.WithoutReconnect())
			var f *ack.Future[sio.Args]
			if method == http.MethodPost {
				var err error
				if f, err = s.EmitWithAck(testCtx(t), "ack", 1); err != nil {
					t.Fatal(err)
				}
			}
			reason := timedDisconnect(t, s, 4*time.Second)
			check500(t, reason)
			if f != nil {
				if _, err := f.Wait(testCtx(t)); !errors.Is(err, sio.ErrTransportError) {
					t.Fatalf("ack waiting on the failed POST: %v, want ErrTransportError", err)
				}
			}
			if err := s.Emit(testCtx(t), "echo"); !errors.Is(err, sio.ErrClosed) || !errors.Is(err, sio.ErrTransportError) {
				t.Fatalf("Emit after the disconnect: %v", err)
			}
		})
		t.Run(method+" reconnect", func(t *testing.T) {
			srv := pollingServer(t, firstSession(method, 2, status(http.StatusInternalServerError)))
			m := newManager(t, srv.URL(), sio.WithTransports(sio.Polling), fast)
			s := managerSocket(t, m, "/")
			var f *ack.Future[sio.Args]
			if method == http.MethodPost {
				var err error
				if f, err = s.EmitWithAck(testCtx(t), "ack", 1); err != nil {
					t.Fatal(err)
				}
			}
			ev := waitEvent(t, s, sio.EventDisconnect)
			check500(t, ev.Err)
			if f != nil {
				if _, err := f.Wait(testCtx(t)); !errors.Is(err, sio.ErrTransportError) {
					t.Fatalf("ack waiting on the failed POST: %v, want ErrTransportError", err)
				}
			}
			waitEvent(t, s, sio.EventConnect)
			echo(t, s, 2)
			// The Manager reported why it reconnected.
			select {
			case mev := <-m.Events():
				if mev.Type != sio.ReconnectAttempt || !errors.Is(mev.Err, sio.ErrTransportError) {
					t.Fatalf("manager event %v (%v), want a reconnect attempt for the transport error", mev.Type, mev.Err)
				}
			case <-testCtx(t).Done():
				t.Fatal("no manager event")
			}
			if n := srv.Connections(); n != 2 {
				t.Fatalf("%d sessions, want 2", n)
			}
		})
	}
}

func check500(t *testing.T, reason error) {
	t.Helper()
	t.Logf("reason: %v", reason)
	var he *sio.HandshakeError
	if !errors.Is(reason, sio.ErrTransportError) || !errors.As(reason, &he) || he.StatusCode != http.StatusInternalServerError {
		t.Fatalf("reason %v, want ErrTransportError with HTTP 500", reason)
	}
}

// HTTP 500 on the handshake, over either transport: Dial fails with a
// *HandshakeError carrying the status.
func TestHostileHandshake500(t *testing.T) {
	for _, tr := range bothTransports {
		t.Run(tr.String(), func(t *testing.T) {
			srv := startServer(t, testserver.WithIntercept(func(_ context.Context, w http.ResponseWriter, _ *http.Request) bool {
				http.Error(w, "hostile", http.StatusInternalServerError)
				return true
			}))
			_, err := sio.Dial(testCtx(t), srv.URL(), sio.WithTransports(tr))
			t.Logf("Dial: %v", err)
			var he *sio.HandshakeError
			if !errors.As(err, &he) || he.StatusCode != http.StatusInternalServerError || he.Transport != tr.String() {
				t.Fatalf("Dial = %v, want a HandshakeError with HTTP 500 over %s", err, tr)
			}
		})
	}
}

// A redirect loop on the handshake, over either transport, fails Dial
// after a bounded number of requests with an error that says so; in the
// middle of a polling session, a poll redirected in a loop ends the
// connection with ErrTransportError, and a POST answered with a 307 is not
// resent (net/http cannot replay its body) and ends it with the status.
func TestHostileRedirectLoop(t *testing.T) {
	for _, tr := range bothTransports {
		t.Run("handshake "+tr.String(), func(t *testing.T) {
			var requests atomic.Int32
			srv := startServer(t, testserver.WithIntercept(func(ctx context.Context, w http.ResponseWriter, r *http.Request) bool {
				requests.Add(1)
				redirectToSelf(http.StatusFound)(ctx, w, r)
				return true
			}))
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err := sio.Dial(ctx, srv.URL(), sio.WithTransports(tr))
			t.Logf("Dial after %d requests: %v", requests.Load(), err)
			if err == nil || errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "redirects") {
				t.Fatalf("Dial = %v after %d requests, want the redirects refused", err, requests.Load())
			}
			// net/http's default policy: 10 requests.
			if n := requests.Load(); n > 10 {
				t.Fatalf("%d requests", n)
			}
		})
	}
	t.Run("poll", func(t *testing.T) {
		srv := pollingServer(t, firstSession(http.MethodGet, 2, redirectToSelf(http.StatusFound)))
		s := dial(t, srv.URL(), sio.WithTransports(sio.Polling), sio.WithoutReconnect())
		reason := timedDisconnect(t, s, 4*time.Second)
		t.Logf("reason: %v", reason)
		if !errors.Is(reason, sio.ErrTransportError) || !strings.Contains(reason.Error(), "redirects") {
			t.Fatalf("reason %v, want ErrTransportError for the redirects", reason)
		}
	})
	t.Run("post", func(t *testing.T) {
		var posts atomic.Int32
		srv := pollingServer(t, firstSession(http.MethodPost, 2, func(ctx context.Context, w http.ResponseWriter, r *http.Request) {
			posts.Add(1)
			redirectToSelf(http.StatusTemporaryRedirect)(ctx, w, r)
		}))
		s := dial(t, srv.URL(), sio.WithTransports(sio.Polling), sio.WithoutReconnect())
		if err := s.Emit(testCtx(t), "echo", 1); err != nil {
			t.Fatal(err)
		}
		reason := timedDisconnect(t, s, 4*time.Second)
		t.Logf("reason: %v", reason)
		var he *sio.HandshakeError
		if !errors.Is(reason, sio.ErrTransportError) || !errors.As(reason, &he) || he.StatusCode != http.StatusTemporaryRedirect {
			t.Fatalf("reason %v, want ErrTransportError with HTTP 307", reason)
		}
		if n := posts.Load(); n != 1 {
			t.Fatalf("the POST was sent %d times", n)
		}
	})
}

// Acks the client never asked for, and a second ack for the same id, over
// either transport: ignored. Each future resolves once with the first
// reply, and the socket goes on working both ways.
func TestHostileAcks(t *testing.T) {
	for _, tr := range bothTransports {
		t.Run(tr.String(), func(t *testing.T) {
			srv := scriptedOver(t, tr, nil, append(handshake(testserver.Open{}),
				testserver.Send(`43999["never asked"]`),
				testserver.Expect(`420["q"]`),
				testserver.Send(`430["first"]`),
				testserver.Send(`430["second"]`),
				testserver.Expect(`421["r"]`),
				testserver.Send(`431["third"]`),
				testserver.Send(`431["fourth"]`),
				testserver.Send(`42["after"]`),
				testserver.WaitForClose())...)
			s := dial(t, srv.URL(), sio.WithTransports(tr), sio.WithoutReconnect())
			ctx := testCtx(t)
			wait := func(f *ackFuture, want string) {
				t.Helper()
				r, err := f.Wait(ctx)
				var got string
				if err != nil || r.Decode(&got) != nil || got != want {
					t.Fatalf("ack %v (%v), want %q", r, err, want)
				}
			}
			emit := func(event string) *ackFuture {
				t.Helper()
				f, err := s.EmitWithAck(ctx, event)
				if err != nil {
					t.Fatal(err)
				}
				return &ackFuture{Future: f}
			}
			q := emit("q")
			wait(q, "first")
			r := emit("r")
			wait(r, "third")
			if ev := nextMessage(t, s); ev.Name != "after" {
				t.Fatalf("got %q, want after", ev.Name)
			}
			// Resolved once: the later replies changed nothing.
			wait(q, "first")
			wait(r, "third")
			if !s.Connected() {
				t.Fatalf("disconnected: %v", s.Err())
			}
		})
	}
}

// Open packets with absurd values, over either transport: out of range
// ones fail Dial with packet.ErrBadOpen; a maxPayload too small for the
// CONNECT fails it with ErrPayloadTooLarge; the largest values allowed
// work (no overflow in a timer or a size check).
func TestHostileOpen(t *testing.T) {
	for _, tc := range []struct {
		name string
		open string
		want error // nil: the socket joins and works
	}{
		{"ping interval over a day", `0{"sid":"a","pingInterval":86400001,"pingTimeout":1,"maxPayload":1000}`, packet.ErrBadOpen},
		{"ping interval 1e300", `0{"sid":"a","pingInterval":1e300,"pingTimeout":1,"maxPayload":1000}`, packet.ErrBadOpen},
		{"ping interval 2^64", `0{"sid":"a","pingInterval":18446744073709551616,"pingTimeout":1,"maxPayload":1000}`, packet.ErrBadOpen},
		{"ping timeout over a day", `0{"sid":"a","pingInterval":1,"pingTimeout":99999999999,"maxPayload":1000}`, packet.ErrBadOpen},
		{"ping interval a string", `0{"sid":"a","pingInterval":"25000","pingTimeout":1,"maxPayload":1000}`, packet.ErrBadOpen},
		{"negative max payload", `0{"sid":"a","pingInterval":1000,"pingTimeout":1000,"maxPayload":-1}`, packet.ErrBadOpen},
		{"max payload 2^64", `0{"sid":"a","pingInterval":1000,"pingTimeout":1000,"maxPayload":18446744073709551616}`, packet.ErrBadOpen},
		{"max payload 1e400", `0{"sid":"a","pingInterval":1000,"pingTimeout":1000,"maxPayload":1e400}`, packet.ErrBadOpen},
		{"fractional max payload", `0{"sid":"a","pingInterval":1000,"pingTimeout":1000,"maxPayload":1.5}`, packet.ErrBadOpen},
		{"max payload 1 byte", `0{"sid":"a","pingInterval":25000,"pingTimeout":20000,"maxPayload":1}`, sio.ErrPayloadTooLarge},
		{"a day of ping interval and timeout", `0{"sid":"a","pingInterval":86400000,"pingTimeout":86400000,"maxPayload":1000000}`, nil},
		{"max payload 2^62", `0{"sid":"a","pingInterval":25000,"pingTimeout":20000,"maxPayload":4611686018427387904}`, nil},
	} {
		for _, tr := range bothTransports {
			t.Run(tc.name+" "+tr.String(), func(t *testing.T) {
				steps := []testserver.Step{testserver.Send(tc.open)}
				if tc.want == nil {
					steps = append(steps,
						testserver.Expect("40"), testserver.Send(`40{"sid":"x"}`),
						testserver.Expect(`420["q",`), testserver.Send(`430["ok"]`))
				}
				srv := scriptedOver(t, tr, nil, append(steps, testserver.WaitForClose())...)
				if tc.want != nil {
					_, err := sio.Dial(testCtx(t), srv.URL(), sio.WithTransports(tr), sio.WithoutReconnect())
					t.Logf("Dial: %v", err)
					if !errors.Is(err, tc.want) {
						t.Fatalf("Dial = %v, want %v", err, tc.want)
					}
					return
				}
				s := dial(t, srv.URL(), sio.WithTransports(tr), sio.WithoutReconnect())
				f, err := s.EmitWithAck(testCtx(t), "q", strings.Repeat("x", 100*kib))
				if err != nil {
					t.Fatal(err)
				}
				r, err := f.Wait(testCtx(t))
				var got string
				if err != nil || r.Decode(&got) != nil || got != "ok" {
					t.Fatalf("ack %v (%v)", r, err)
				}
			})
		}
	}
}

// Malformed and unknown packets after the socket joined, over either
// transport (TestHostilePackets has more over WebSocket): each ends the
// connection with ErrParse and the packet error, or, where the protocol
// says to ignore it, is ignored and the socket goes on working both ways.
func TestHostilePacketsBothTransports(t *testing.T) {
	for _, tc := range []struct {
		name string
		send []string // text frames; "bin:" prefix sends the rest as a binary frame
		// want: the errors the reason matches, over both transports and
		// over WebSocket or polling only; none: ignored.
		want, ws, polling []error
		events            int // messages before the outcome
	}{
		{name: "unknown socket.io type", send: []string{`49["x"]`}, want: []error{sio.ErrParse, packet.ErrUnknownType}},
		{name: "unknown engine.io type", send: []string{`7`}, want: []error{sio.ErrParse}, ws: []error{packet.ErrBadFrame}, polling: []error{packet.ErrBadPolling}},
		{name: "engine.io type not a digit", send: []string{`x`}, want: []error{sio.ErrParse}, ws: []error{packet.ErrBadFrame}, polling: []error{packet.ErrBadPolling}},
		{name: "empty frame", send: []string{``}, want: []error{sio.ErrParse}, ws: []error{packet.ErrBadFrame}, polling: []error{packet.ErrBadPolling}},
		{name: "empty socket.io packet", send: []string{`4`}, want: []error{sio.ErrParse, packet.ErrUnknownType}},
		{name: "bad json", send: []string{`42["a"`}, want: []error{sio.ErrParse, packet.ErrBadJSON}},
		{name: "json with trailing bytes", send: []string{`42["a"]]`}, want: []error{sio.ErrParse, packet.ErrBadJSON}},
		{name: "invalid utf-8", send: []string{"42[\"\xff\xfe\"]"}, want: []error{sio.ErrParse}, ws: []error{transport.ErrInvalidUTF8}, polling: []error{packet.ErrBadPolling}},
		{name: "truncated utf-8", send: []string{"42[\"\xe2\x82\"]"}, want: []error{sio.ErrParse}, ws: []error{transport.ErrInvalidUTF8}, polling: []error{packet.ErrBadPolling}},
		{name: "event is not an array", send: []string{`42{"a":1}`}, want: []error{sio.ErrParse, packet.ErrBadPayload}},
		{name: "a billion attachments", send: []string{`451000000000-["x",{"_placeholder":true,"num":0}]`}, want: []error{sio.ErrParse, packet.ErrTooManyAttachments}},
		{name: "negative attachment count", send: []string{`45-1-["x"]`}, want: []error{sio.ErrParse, packet.ErrBadAttachment}},
		{name: "fewer attachments than announced", send: []string{`452-["x",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]`, "bin:a", `42["y"]`}, want: []error{sio.ErrParse, packet.ErrMissingAttachments}},
		{name: "more attachments than announced", send: []string{`451-["x",{"_placeholder":true,"num":0}]`, "bin:a", "bin:b"}, events: 1, want: []error{sio.ErrParse, packet.ErrUnexpectedAttachment}},
		{name: "placeholder out of range", send: []string{`451-["x",{"_placeholder":true,"num":5}]`, "bin:a"}, want: []error{sio.ErrParse, packet.ErrBadAttachment}},
		{name: "negative placeholder", send: []string{`451-["x",{"_placeholder":true,"num":-1}]`, "bin:a"}, want: []error{sio.ErrParse, packet.ErrBadAttachment}},
		{name: "ack without id", send: []string{`43["x"]`}, want: []error{sio.ErrParse, packet.ErrBadPayload}},
		{name: "bad ack id", send: []string{`4399999999999999999999["x"]`}, want: []error{sio.ErrParse, packet.ErrBadID}},
		{name: "second open packet", send: []string{`0{"sid":"b","pingInterval":1,"pingTimeout":1,"maxPayload":1}`}, want: []error{sio.ErrParse}},
		{name: "upgrade packet from the server", send: []string{`5`}, want: []error{sio.ErrParse}},
		{name: "engine close", send: []string{`1`}, want: []error{sio.ErrTransportClose}},
		{name: "namespace kick", send: []string{`41`}, want: []error{sio.ErrServerDisconnect}},
		// Ignored.
		{name: "event for another namespace", send: []string{`42/other,["x"]`}},
		{name: "noop and pong", send: []string{`6`, `3`}},
		{name: "late connect reply", send: []string{`40{"sid":"again"}`}},
		{name: "connect error for another namespace", send: []string{`44/other,{"message":"no"}`}},
	} {
		for _, tr := range bothTransports {
			t.Run(tc.name+" "+tr.String(), func(t *testing.T) {
				// Over polling, packets queued together go out in one
				// body: wait until the client has joined.
				steps := append(handshake(testserver.Open{}), testserver.Expect(`42["ready"]`))
				for _, f := range tc.send {
					if b, ok := strings.CutPrefix(f, "bin:"); ok {
						steps = append(steps, testserver.SendBinary([]byte(b)))
					} else {
						steps = append(steps, testserver.Send(f))
					}
				}
				want := tc.want
				if tr == sio.WebSocket {
					want = append(want, tc.ws...)
				} else {
					want = append(want, tc.polling...)
				}
				if want == nil {
					// The socket must still work both ways afterwards.
					steps = append(steps,
						testserver.Send(`42["after"]`),
						testserver.Expect(`420["check"]`),
						testserver.Send(`430["fine"]`))
				}
				srv := scriptedOver(t, tr, nil, append(steps, testserver.WaitForClose())...)
				s := dial(t, srv.URL(), sio.WithTransports(tr), sio.WithoutReconnect())
				if err := s.Emit(testCtx(t), "ready"); err != nil {
					t.Fatal(err)
				}
				for range tc.events {
					if ev := nextMessage(t, s); ev.Name == "" {
						t.Fatalf("empty event %+v", ev)
					}
				}
				if want == nil {
					if ev := nextMessage(t, s); ev.Name != "after" {
						t.Fatalf("got %q, want after", ev.Name)
					}
					echoCheck(t, s)
					return
				}
				reason := timedDisconnect(t, s, 4*time.Second)
				t.Logf("reason: %v", reason)
				for _, w := range want {
					if !errors.Is(reason, w) {
						t.Fatalf("reason %v, want %v", reason, w)
					}
				}
			})
		}
	}
}

// echoCheck makes the scripted round trip check/fine.
func echoCheck(t *testing.T, s *sio.Socket) {
	t.Helper()
	f, err := s.EmitWithAck(testCtx(t), "check")
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.Wait(testCtx(t))
	var got string
	if err != nil || r.Decode(&got) != nil || got != "fine" {
		t.Fatalf("ack %v (%v), want fine", r, err)
	}
}
