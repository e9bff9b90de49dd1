package interop_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
)

// WithHTTPClient's cookie jar keeps the cookie set by the handshake (the
// server sets "sticky=abc") and sends it on the next connection. A Dial makes
// one handshake, so the first connection sends none; against socket.io 3.x
// too, where a WebSocket handshake is followed by a wait for the CONNECT a
// 2.x server would send unasked: that wait must not cost the session.
func TestHTTPClientCookieJar(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) { testCookieJar(t, srv.URL(), tr) })
}

func testCookieJar(t *testing.T, base string, tr transportCase) {
	ctx := testutil.Context(t, testTimeout)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Jar: jar}
	first := dial(t, ctx, base+"/admin", tr.with(sio.WithHTTPClient(hc))...)
	if c := info(t, ctx, first).Cookie; c != "" {
		t.Errorf("first connection sent cookie %q, want none", c)
	}
	u, _ := url.Parse(base + "/socket.io/")
	var found bool
	for _, c := range jar.Cookies(u) {
		found = found || (c.Name == "sticky" && c.Value == "abc")
	}
	if !found {
		t.Fatalf("the jar did not get the handshake's cookie: %v", jar.Cookies(u))
	}
	second := dial(t, ctx, base+"/chat", tr.with(sio.WithHTTPClient(hc))...)
	if c := info(t, ctx, second).Cookie; c != "sticky=abc" {
		t.Errorf("second connection sent cookie %q, want sticky=abc", c)
	}
	settle(t, ctx, second, tr)
	echo(t, ctx, second, "with cookie")
}

// The Engine.IO path is normalised; a wrong one fails the Dial.
func TestPath(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	for _, p := range []string{"/socket.io/", "/socket.io", "socket.io"} {
		t.Run(p, func(t *testing.T) {
			ctx := testutil.Context(t, testTimeout)
			s := dial(t, ctx, srv.URL()+"/admin", sio.WithPath(p))
			if inf := info(t, ctx, s); inf.Nsp != "/admin" || inf.ID != s.ID() {
				t.Errorf("info = %+v", inf)
			}
		})
	}
	// The server drops a WebSocket upgrade on an unknown path after 1 s
	// (a polling request on one gets no answer at all, so only the
	// WebSocket is tried here).
	t.Run("wrong", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(testutil.Context(t, testTimeout), 10*time.Second)
		defer cancel()
		s, err := sio.Dial(ctx, srv.URL()+"/admin", sio.WithPath("/nothing-here/"), sio.WithTransports(sio.WebSocket))
		if s != nil {
			s.Close()
		}
		if err == nil {
			t.Fatalf("Dial with a wrong path succeeded")
		}
		var ce *sio.ConnectError
		if errors.As(err, &ce) {
			t.Errorf("Dial with a wrong path = %v, a ConnectError", err)
		}
		if ctx.Err() != nil {
			t.Errorf("Dial with a wrong path took until the deadline: %v", err)
		}
	})
}

// WithTryAllTransports: a proxy in front of the server answers every
// long-polling request with 502 and passes WebSocket through. By default
// the client reports the 502; with WithTryAllTransports it goes on to
// WebSocket and connects.
func TestTryAllTransports(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	target, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("transport") == "polling" {
			http.Error(w, "no polling here", http.StatusBadGateway)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	ctx := testutil.Context(t, testTimeout)

	_, err = sio.Dial(ctx, front.URL, sio.WithoutReconnect())
	var he *sio.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway {
		t.Fatalf("without WithTryAllTransports: %v, want the 502", err)
	}

	s := dial(t, ctx, front.URL+"/admin", sio.WithTryAllTransports())
	if inf := info(t, ctx, s); inf.Transport != "websocket" || s.Manager().Transport() != sio.WebSocket {
		t.Errorf("transport %q (%v), want websocket", inf.Transport, s.Manager().Transport())
	}

	// Every transport failing: both errors, joined.
	_, err = sio.Dial(ctx, front.URL, sio.WithoutReconnect(), sio.WithTryAllTransports(), sio.WithTransports(sio.Polling, sio.Polling))
	if !errors.As(err, &he) || he.StatusCode != http.StatusBadGateway || strings.Count(err.Error(), "502") != 2 {
		t.Fatalf("every transport failing: %v, want both 502s", err)
	}
}

// WithRememberUpgrade: after a connection that upgraded to WebSocket is
// lost, the reconnection opens WebSocket directly; without the option it
// makes a polling handshake again. A proxy in front of the server counts
// the polling handshakes (GET transport=polling without a sid).
func TestRememberUpgrade(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	target, err := url.Parse(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	var handshakes atomic.Int32
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if q := r.URL.Query(); q.Get("transport") == "polling" && q.Get("sid") == "" {
			handshakes.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	for _, remember := range []bool{false, true} {
		ctx := testutil.Context(t, testTimeout)
		opts := []sio.Option{sio.WithTransports(sio.Polling, sio.WebSocket), fastReconnect(0)}
		if remember {
			opts = append(opts, sio.WithRememberUpgrade())
		}
		s := dial(t, ctx, front.URL+"/admin", opts...)
		settle(t, ctx, s, transportCases[2]) // upgraded to WebSocket
		before := handshakes.Load()
		if err := s.Emit(ctx, "close-transport"); err != nil {
			t.Fatal(err)
		}
		expectReconnect(t, ctx, s, sio.ErrTransportClose)
		inf := info(t, ctx, s)
		got := handshakes.Load() - before
		if remember && (got != 0 || inf.Transport != "websocket") {
			t.Errorf("remembered: %d polling handshakes on reconnection, transport %q; want 0, websocket", got, inf.Transport)
		}
		if !remember && got != 1 {
			t.Errorf("not remembered: %d polling handshakes on reconnection, want 1", got)
		}
		s.Close()
	}
}
