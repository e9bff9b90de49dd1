package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sio-go/sio/packet"
)

// wsServer serves WebSockets with script and returns a Config to reach it.
// After script returns, the server keeps reading until the client closes,
// so that the close handshake completes.
func wsServer(t *testing.T, script func(ctx context.Context, c *websocket.Conn, r *http.Request)) Config {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(r.Context(), testTimeout)
		defer cancel()
		script(ctx, c, r)
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL + "/engine.io/?token=abc")
	if err != nil {
		t.Fatal(err)
	}
	return Config{URL: u, Header: http.Header{"X-Test": {"yes"}}, HTTPClient: srv.Client()}
}

func dialWS(t *testing.T, cfg Config, sid string) Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := DialWebSocket(ctx, cfg, sid)
	if err != nil {
		t.Fatalf("DialWebSocket: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestWebSocketReadWrite(t *testing.T) {
	type received struct {
		query  url.Values
		header http.Header
		msgs   []string
		types  []websocket.MessageType
		err    error
	}
	got := make(chan received, 1)
	cfg := wsServer(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		rec := received{query: r.URL.Query(), header: r.Header.Clone()}
		defer func() { got <- rec }()
		if rec.err = c.Write(ctx, websocket.MessageText, []byte("40")); rec.err != nil {
			return
		}
		if rec.err = c.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3}); rec.err != nil {
			return
		}
		if rec.err = c.Write(ctx, websocket.MessageBinary, nil); rec.err != nil {
			return
		}
		for range 3 {
			typ, data, err := c.Read(ctx)
			if err != nil {
				rec.err = err
				return
			}
			rec.types = append(rec.types, typ)
			rec.msgs = append(rec.msgs, string(data))
		}
	})
	c := dialWS(t, cfg, "S1")
	if c.Name() != "websocket" {
		t.Errorf("Name() = %q", c.Name())
	}
	wantFrame(t, readFrame(t, c), "40", false)
	wantFrame(t, readFrame(t, c), "\x01\x02\x03", true)
	wantFrame(t, readFrame(t, c), "", true)
	writeFrames(t, c, packet.TextFrame(packet.FrameMessage, `2["a"]`), packet.Frame{Data: []byte{4, 5}, Binary: true},
		packet.TextFrame(packet.FramePing, "probe"))

	rec := <-got
	if rec.err != nil {
		t.Fatal(rec.err)
	}
	if rec.query.Get("EIO") != "4" || rec.query.Get("transport") != "websocket" || rec.query.Get("sid") != "S1" ||
		rec.query.Get("token") != "abc" || rec.header.Get("X-Test") != "yes" {
		t.Errorf("handshake: %v %v", rec.query, rec.header)
	}
	wantMsgs := []string{`42["a"]`, "\x04\x05", "2probe"}
	wantTypes := []websocket.MessageType{websocket.MessageText, websocket.MessageBinary, websocket.MessageText}
	for i := range wantMsgs {
		if rec.msgs[i] != wantMsgs[i] || rec.types[i] != wantTypes[i] {
			t.Errorf("message %d: %v %q, want %v %q", i, rec.types[i], rec.msgs[i], wantTypes[i], wantMsgs[i])
		}
	}
	if got := c.(interface{ FrameSize(packet.Frame) int }).FrameSize(packet.Frame{Data: []byte{1, 2, 3, 4}, Binary: true}); got != 4 {
		t.Errorf("FrameSize = %d, want 4", got)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestWebSocketInvalidText(t *testing.T) {
	cfg := wsServer(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		for _, m := range []string{"4\xff", "9x", "", "4ok"} {
			if c.Write(ctx, websocket.MessageText, []byte(m)) != nil {
				return
			}
		}
	})
	c := dialWS(t, cfg, "")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, err := c.Read(ctx); !errors.Is(err, ErrInvalidUTF8) {
		t.Fatalf("invalid UTF-8: %v, want ErrInvalidUTF8", err)
	}
	if _, err := c.Read(ctx); !errors.Is(err, packet.ErrBadFrame) {
		t.Fatalf("bad type: %v, want ErrBadFrame", err)
	}
	if _, err := c.Read(ctx); !errors.Is(err, packet.ErrBadFrame) {
		t.Fatalf("empty text: %v, want ErrBadFrame", err)
	}
	wantFrame(t, readFrame(t, c), "4ok", false)
}

func TestWebSocketCloseError(t *testing.T) {
	cfg := wsServer(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		c.Close(websocket.StatusGoingAway, "bye")
	})
	c := dialWS(t, cfg, "")
	_, err := c.Read(context.Background())
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != int(websocket.StatusGoingAway) {
		t.Fatalf("Read: %v, want a CloseError with code 1001", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close after the server's close: %v", err)
	}
}

func TestWebSocketReadLimit(t *testing.T) {
	cfg := wsServer(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		c.Write(ctx, websocket.MessageText, []byte("4123456789"))
		c.Write(ctx, websocket.MessageText, []byte("41234567890"))
	})
	cfg.ReadLimit = 10
	c := dialWS(t, cfg, "")
	wantFrame(t, readFrame(t, c), "4123456789", false)
	if _, err := c.Read(context.Background()); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("Read of a message over the limit: %v, want ErrFrameTooLarge", err)
	}
}

func TestWebSocketRefused(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   HandshakeError
	}{
		{400, `{"code":0,"message":"Transport unknown"}`,
			HandshakeError{Transport: "websocket", StatusCode: 400, Code: 0, Message: "Transport unknown"}},
		{400, `{"code":3,"message":"Bad request"}`,
			HandshakeError{Transport: "websocket", StatusCode: 400, Code: 3, Message: "Bad request"}},
		{403, `{"code":4,"message":"Forbidden"}`,
			HandshakeError{Transport: "websocket", StatusCode: 403, Code: 4, Message: "Forbidden"}},
		{404, "Not Found\n", HandshakeError{Transport: "websocket", StatusCode: 404, Code: -1, Message: "Not Found"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status, tt.want.Code), func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}))
			defer srv.Close()
			u, _ := url.Parse(srv.URL + "/engine.io/")
			c, err := DialWebSocket(context.Background(), Config{URL: u, HTTPClient: srv.Client()}, "")
			var he *HandshakeError
			if !errors.As(err, &he) {
				if c != nil {
					c.Close()
				}
				t.Fatalf("DialWebSocket: %v, want a *HandshakeError", err)
			}
			if *he != tt.want {
				t.Errorf("error %+v, want %+v", *he, tt.want)
			}
		})
	}
}

func TestWebSocketBadScheme(t *testing.T) {
	u, _ := url.Parse("ftp://example.com/engine.io/")
	if _, err := DialWebSocket(context.Background(), Config{URL: u}, ""); err == nil {
		t.Fatal("DialWebSocket of an ftp URL succeeded")
	}
}

// A Read given a context keeps nothing of it once it returns, even while no
// further message comes: coder/websocket would keep the context of a
// message's read until the next message starts, which after an upgrade's
// probe is the server's next ping.
func TestWebSocketReadKeepsNoContext(t *testing.T) {
	cfg := wsServer(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {
		c.Write(ctx, websocket.MessageText, []byte("3probe"))
	})
	c := dialWS(t, cfg, "S1")
	var freed atomic.Bool
	func() {
		type key struct{}
		marker := new([64]byte)
		runtime.AddCleanup(marker, func(f *atomic.Bool) { f.Store(true) }, &freed)
		ctx, cancel := context.WithTimeout(context.WithValue(context.Background(), key{}, marker), testTimeout)
		defer cancel()
		f, err := c.Read(ctx)
		if err != nil || string(f.Data) != "3probe" {
			t.Fatalf("Read = %q, %v", f.Data, err)
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for !freed.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the context of a Read that returned is still reachable")
		}
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
}

// A Read whose context ends while it waits returns the context's error and
// closes the connection, as coder/websocket does with a context it is given.
func TestWebSocketReadContextEnds(t *testing.T) {
	cfg := wsServer(t, func(ctx context.Context, c *websocket.Conn, r *http.Request) {})
	c := dialWS(t, cfg, "S1")
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Read(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Read = %v, want %v", err, context.DeadlineExceeded)
	}
	if _, err := c.Read(context.Background()); err == nil {
		t.Fatal("Read after a Read cut by its context: no error, want the connection closed")
	}
}
