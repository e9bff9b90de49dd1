package transport

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/sio-go/sio/packet"
)

// connTracker dials TCP connections and tells which are still open.
type connTracker struct {
	mu    sync.Mutex
	conns map[*trackedConn]bool // open
}

type trackedConn struct {
	net.Conn
	t    *connTracker
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.t.mu.Lock()
		c.t.conns[c] = false
		c.t.mu.Unlock()
	})
	return c.Conn.Close()
}

func (t *connTracker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: c, t: t}
	t.mu.Lock()
	t.conns[tc] = true
	t.mu.Unlock()
	return tc, nil
}

// open returns how many connections were dialed and how many are open.
func (t *connTracker) open() (dialed, open int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, o := range t.conns {
		dialed++
		if o {
			open++
		}
	}
	return dialed, open
}

// waitClosed fails the test unless every connection dialed is closed soon.
func (t *connTracker) waitClosed(tb testing.TB) {
	tb.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		dialed, open := t.open()
		if dialed > 0 && open == 0 {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d connections still open", open, dialed)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A polling session's keep-alive connections end with it, whether it is
// closed, or aborted once upgraded to WebSocket, even when the user's
// transport would keep many idle connections per host: one session's GET
// and POST connections are not left in a pool, each holding a file, two
// goroutines and their buffers, for every client that upgraded.
func TestPollingLeavesNoIdleConnections(t *testing.T) {
	for _, end := range []string{"close", "abort"} {
		t.Run(end, func(t *testing.T) {
			s := newFakePolling(t)
			tr := &connTracker{conns: make(map[*trackedConn]bool)}
			cfg := s.config(t)
			cfg.HTTPClient = &http.Client{Transport: &http.Transport{DialContext: tr.dial, MaxIdleConnsPerHost: 100}}
			c := dialFake(t, s, cfg)
			readFrame(t, c)
			ch := readAsync(context.Background(), c)
			s.next(t) // the poll
			c.(Pauser).Pause()
			writeFrames(t, c, packet.TextFrame(packet.FrameMessage, "x"))
			s.nextPost(t)
			s.polls <- pollAnswer{body: "6"}
			if r := waitRead(t, ch); r.err != nil {
				t.Fatal(r.err)
			}
			if dialed, _ := tr.open(); dialed < 2 {
				t.Fatalf("%d connections dialed; the test wants a GET's and a POST's", dialed)
			}
			if end == "close" {
				c.Close()
			} else {
				c.Abort()
			}
			tr.waitClosed(t)
		})
	}
}

// Over https, polling speaks HTTP/2 when the client and server can, and a
// WebSocket still opens over the same client: a clone is limited to
// HTTP/1.1 only where HTTP/2 could not be used anyway (a WebSocket
// handshake, or http:// without unencrypted HTTP/2).
func TestHTTP2WhereItCanBeUsed(t *testing.T) {
	protos := make(chan int, 10)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("transport") == "websocket" {
			c, err := websocket.Accept(w, r, nil)
			if err != nil {
				return
			}
			defer c.CloseNow()
			c.Read(r.Context()) // until the client closes
			return
		}
		protos <- r.ProtoMajor
		io.WriteString(w, openBody(1000000))
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL + "/engine.io/")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{URL: u, HTTPClient: srv.Client()}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	p, err := DialPolling(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if got := <-protos; got != 2 {
		t.Errorf("polling over https with an HTTP/2 client and server: HTTP/%d, want HTTP/2", got)
	}
	ws, err := DialWebSocket(ctx, cfg, "S1")
	if err != nil {
		t.Fatalf("WebSocket over https with an HTTP/2 client and server: %v", err)
	}
	ws.Close()
}
