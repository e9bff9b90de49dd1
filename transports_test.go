package sio_test

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/test/testserver"
)

// transportCases are the transport settings every basic behaviour must
// survive: the default (polling, then upgrade), each transport alone.
var transportCases = []struct {
	name  string
	opt   sio.Option
	final string // the transport the server should see at the end
}{
	{"default", sio.WithTransports(sio.Polling, sio.WebSocket), "websocket"},
	{"polling", sio.WithTransports(sio.Polling), "polling"},
	{"websocket", sio.WithTransports(sio.WebSocket), "websocket"},
}

// lastSession returns the server's view of its latest session, waiting for
// it to reach transport want.
func lastSession(t *testing.T, srv *testserver.Server, want string) testserver.SessionInfo {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ss := srv.Sessions()
		if len(ss) > 0 && ss[len(ss)-1].Transport == want {
			return ss[len(ss)-1]
		}
		if time.Now().After(deadline) {
			t.Fatalf("sessions %+v: none ended on %s", ss, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Echo, binary, acks both ways and order over every transport setting, with
// traffic flowing while the upgrade happens.
func TestTransports(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t)
			s := dial(t, srv.URL(), tc.opt, sio.WithoutReconnect())
			ctx := testCtx(t)

			// 2000 events each way, started at once: with the default
			// setting they cross the upgrade.
			const n = 2000
			errc := make(chan error, 1)
			go func() {
				for i := range n {
					if err := s.Emit(ctx, "echo", i, []byte{byte(i)}); err != nil {
						errc <- err
						return
					}
				}
				errc <- s.Emit(ctx, "stream", n)
			}()
			echoes, ticks := 0, 0
			for echoes < n || ticks < n {
				ev := nextMessage(t, s)
				var i int
				if err := ev.Args.Decode(&i); err != nil {
					t.Fatal(err)
				}
				switch ev.Name {
				case "echo":
					var b []byte
					if err := ev.Args.Decode(nil, &b); err != nil || i != echoes || !bytes.Equal(b, []byte{byte(i)}) {
						t.Fatalf("echo #%d: %d %v (%v)", echoes, i, b, err)
					}
					echoes++
				case "tick":
					if i != ticks {
						t.Fatalf("tick #%d: %d", ticks, i)
					}
					ticks++
				}
			}
			if err := <-errc; err != nil {
				t.Fatal(err)
			}
			lastSession(t, srv, tc.final)

			f, err := s.EmitWithAck(ctx, "ack", "x", bytes.Repeat([]byte{7}, 100_000))
			if err != nil {
				t.Fatal(err)
			}
			r, err := f.Wait(ctx)
			var x string
			var b []byte
			if err != nil || r.Decode(&x, &b) != nil || x != "x" || len(b) != 100_000 {
				t.Fatalf("ack: %v %v", r, err)
			}
			// The ack went out after the upgrade, so the client is on the
			// transport the server saw.
			if got := s.Manager().Transport(); got.String() != tc.final {
				t.Fatalf("Manager.Transport() = %v, want %s", got, tc.final)
			}
			s.Emit(ctx, "ask", 1)
			q := nextMessage(t, s)
			for q.Name != "question" {
				q = nextMessage(t, s) // stream-done comes first
			}
			if err := q.Ack(ctx, 2); err != nil {
				t.Fatal(err)
			}
			if ev := nextMessage(t, s); ev.Name != "answer" || ev.Args.String() != "[2]" {
				t.Fatalf("answer %q %v", ev.Name, ev.Args)
			}
		})
	}
}

// A server that offers only one transport: the client falls back from the
// one refused, or fails with an error naming it when it has no other.
func TestTransportFallback(t *testing.T) {
	wsOnly := startServer(t, testserver.WithTransports("websocket"))
	s := dial(t, wsOnly.URL())
	lastSession(t, wsOnly, "websocket")
	s.Close()

	_, err := sio.Dial(testCtx(t), wsOnly.URL(), sio.WithTransports(sio.Polling))
	var he *sio.HandshakeError
	if !errors.As(err, &he) || he.Transport != "polling" || he.Code != 0 {
		t.Fatalf("polling against a WebSocket-only server: %v", err)
	}

	pollOnly := startServer(t, testserver.WithTransports("polling"))
	s = dial(t, pollOnly.URL())
	echo(t, s, 5)
	if info := lastSession(t, pollOnly, "polling"); info.Upgraded {
		t.Fatal("upgraded on a server that does not offer WebSocket")
	}
	_, err = sio.Dial(testCtx(t), pollOnly.URL(), sio.WithTransports(sio.WebSocket))
	if !errors.As(err, &he) || he.Transport != "websocket" {
		t.Fatalf("WebSocket against a polling-only server: %v", err)
	}
}

// A message over maxPayload as polling encodes it (binary in base64) is
// refused by Emit; the connection goes on.
func TestPollingPayloadTooLarge(t *testing.T) {
	srv := startServer(t, testserver.WithMaxPayload(1000))
	s := dial(t, srv.URL(), sio.WithTransports(sio.Polling))
	// 800 bytes fit in 1000 on a WebSocket, not as base64.
	if err := s.Emit(testCtx(t), "echo", make([]byte, 800)); !errors.Is(err, sio.ErrPayloadTooLarge) {
		t.Fatalf("Emit = %v, want ErrPayloadTooLarge", err)
	}
	echo(t, s, 6)
}

// Headers, query, auth and cookies reach the server on every transport,
// and TLS works with a private CA through WithHTTPClient.
func TestHTTPOptions(t *testing.T) {
	var mu sync.Mutex
	var seen []string // the sticky cookie on each request after the handshake
	srv, err := testserver.StartTLS(
		testserver.WithCookie(&http.Cookie{Name: "sticky", Value: "abc", Path: "/"}),
		testserver.WithRequestHook(func(r *http.Request) {
			if r.URL.Query().Get("sid") == "" {
				return
			}
			c, err := r.Cookie("sticky")
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				seen = append(seen, r.Method+" without")
			} else {
				seen = append(seen, r.Method+" "+r.URL.Query().Get("transport")+" "+c.Value)
			}
		}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := srv.Client()
	hc.Jar = jar
	s := dial(t, srv.URL()+"/admin?from=url",
		sio.WithHTTPClient(hc),
		sio.WithHeader(http.Header{"X-Trace": {"t1"}}),
		sio.WithQuery(url.Values{"room": {"r1"}}),
	)
	echo(t, s, 7)
	ss := srv.Sessions()
	first := ss[len(ss)-1]
	if first.Header.Get("X-Trace") != "t1" || first.Query.Get("room") != "r1" || first.Query.Get("from") != "url" {
		t.Fatalf("handshake header %v query %v", first.Header, first.Query)
	}
	// The cookie set on the handshake comes back on every later request:
	// polls, posts and the WebSocket upgrade.
	lastSession(t, srv, "websocket")
	mu.Lock()
	defer mu.Unlock()
	if len(seen) == 0 || !slices.Contains(seen, "GET websocket abc") {
		t.Fatalf("requests after the handshake: %q", seen)
	}
	for _, r := range seen {
		if strings.HasSuffix(r, "without") {
			t.Fatalf("a request without the cookie: %q", seen)
		}
	}

	// Without the CA the handshake fails.
	_, err = sio.Dial(testCtx(t), srv.URL())
	if err == nil {
		t.Fatal("TLS with an unknown CA succeeded")
	}
}

// Manager.Transport is 0 without a connection, and again once it is closed.
func TestManagerTransportLifecycle(t *testing.T) {
	srv := startServer(t)
	m, err := sio.NewManager(srv.URL(), sio.WithTransports(sio.WebSocket))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Transport(); got != 0 {
		t.Fatalf("before the first socket: Transport() = %v", got)
	}
	if _, err := m.Socket(testCtx(t), "/"); err != nil {
		t.Fatal(err)
	}
	if got := m.Transport(); got != sio.WebSocket {
		t.Fatalf("connected: Transport() = %v", got)
	}
	m.Close()
	if got := m.Transport(); got != 0 {
		t.Fatalf("closed: Transport() = %v", got)
	}
}
