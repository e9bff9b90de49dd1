package testserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"
)

// Interceptor answers an HTTP request in place of the server: a status such
// as 500, a redirect, a body that never ends. It returns true when it has
// answered the request, false to let the server handle it as usual (it must
// then not have written anything). ctx ends when the request ends (the
// client went away) or the server closes; an interceptor that keeps a
// response open must return when ctx ends.
type Interceptor func(ctx context.Context, w http.ResponseWriter, r *http.Request) bool

// WithIntercept installs fn in front of the server's handling of every HTTP
// request, the WebSocket handshakes and the polling requests of every
// session included, after WithRequestHook and before any validation. fn may
// be called concurrently, and Server.Close waits for the calls in progress.
// A request it answers never reaches a session: an intercepted poll GET
// takes nothing from the session's queue, an intercepted POST delivers
// nothing to it.
func WithIntercept(fn Interceptor) Option {
	return func(o *options) { o.intercept = fn }
}

// intercept runs the interceptor for r; true when it answered r.
func (s *Server) intercept(w http.ResponseWriter, r *http.Request) bool {
	if !s.enter() {
		http.Error(w, "server closing", http.StatusServiceUnavailable)
		return true
	}
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	return s.opts.intercept(ctx, w, r)
}

// defaultChunk is what Stream writes at a time when its Chunk is not set.
const defaultChunk = 64 << 10

// Stream is an HTTP response body, or a WebSocket message (Conn.SendStream),
// written a chunk at a time from one small buffer, so that a test can send
// a body of any size, or one that never ends, without holding it in memory:
// Prefix, then Fill over and over (such as "x", one endless packet, or
// "\x1e6", noops without end) until the body holds Size bytes (forever when
// Size is negative), in writes of about Chunk bytes (64 KiB when 0; a whole
// number of Fills, at least one), each flushed to the network, with a pause
// of Every between them (a trickle).
type Stream struct {
	Prefix string
	Fill   string
	Size   int64
	Chunk  int
	Every  time.Duration
	// ContentLength announces Size in the Content-Length header of an HTTP
	// response; otherwise the body is chunked and its size unknown to the
	// client until it ends. Not used on a WebSocket.
	ContentLength bool
}

// ServeHTTP answers an HTTP request with status 200 and the stream as its
// body (Content-Type text/plain, as a poll response). It returns nil once
// the whole body is written, ctx's error when ctx ended first, or the write
// error when the client went away (as a client that refuses the body does).
func (st Stream) ServeHTTP(ctx context.Context, w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	if st.ContentLength && st.Size >= 0 {
		h.Set("Content-Length", strconv.FormatInt(st.Size, 10))
	}
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	return st.write(ctx, func(b []byte) error {
		if _, err := w.Write(b); err != nil {
			return err
		}
		return rc.Flush()
	})
}

// write produces the stream through emit, one chunk at a time.
func (st Stream) write(ctx context.Context, emit func([]byte) error) error {
	chunk := st.Chunk
	if chunk <= 0 {
		chunk = defaultChunk
	}
	fill := st.Fill
	if fill == "" {
		fill = " "
	}
	buf := []byte(strings.Repeat(fill, max(chunk/len(fill), 1)))
	chunk = len(buf)
	remaining := st.Size // < 0: no end
	prefix := []byte(st.Prefix)
	if remaining >= 0 && int64(len(prefix)) > remaining {
		prefix = prefix[:remaining]
	}
	var tick *time.Ticker
	if st.Every > 0 {
		tick = time.NewTicker(st.Every)
		defer tick.Stop()
	}
	first := true
	for len(prefix) > 0 || remaining != 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		if tick != nil && !first {
			select {
			case <-tick.C:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		first = false
		var b []byte
		if len(prefix) > 0 {
			b = prefix[:min(len(prefix), chunk)]
			prefix = prefix[len(b):]
		} else {
			b = buf
		}
		if remaining >= 0 {
			b = b[:min(int64(len(b)), remaining)]
			remaining -= int64(len(b))
		}
		if err := emit(b); err != nil {
			return err
		}
	}
	return nil
}

// errNotWebSocket is returned by SendStream on a session that is not on a
// WebSocket.
var errNotWebSocket = errors.New("testserver: SendStream needs a WebSocket session (over polling, answer a GET with WithIntercept and Stream.ServeHTTP)")

// SendStream sends st as one WebSocket text message, in fragments of
// st.Chunk bytes, without holding it in memory: the way to send a frame of
// 100 MiB, or one that never ends (Size < 0). It holds the session's write
// lock until the message is complete, and returns the write error when the
// client refuses the message (by closing the connection, as a client over its
// read limit does), ctx's error when ctx ends. Over polling it fails at once:
// a poll response is answered whole; use WithIntercept and Stream.ServeHTTP.
func (c *Conn) SendStream(ctx context.Context, st Stream) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	t, ok := c.transport().(*wsTransport)
	if !ok {
		return errNotWebSocket
	}
	mw, err := t.ws.Writer(ctx, websocket.MessageText)
	if err != nil {
		return err
	}
	if err := st.write(ctx, func(b []byte) error {
		_, err := mw.Write(b)
		return err
	}); err != nil {
		return fmt.Errorf("testserver: streaming a message: %w", err)
	}
	return mw.Close()
}

// SendStream is a Step that sends st as one WebSocket message (see
// Conn.SendStream).
func SendStream(st Stream) Step {
	return func(ctx context.Context, c *Conn) error { return c.SendStream(ctx, st) }
}
