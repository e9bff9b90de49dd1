package testserver

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime/debug"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// readSlack is added to maxPayload for the WebSocket read limit, so that the
// default behaviour sees (and closes on) a frame slightly over maxPayload
// itself; far larger frames are refused by coder/websocket, also with 1009.
const readSlack = 64 << 10

// serveWebSocket upgrades a validated request and runs the connection's
// handler on the request's goroutine.
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		http.Error(w, "server closing", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	// Count the connection before the 101 response goes out, so that a client
	// whose dial has returned sees it in Connections.
	var seq int
	hr := &hijackRecorder{ResponseWriter: w, onUpgrade: func() { seq = int(s.accepted.Add(1)) }}
	ws, err := websocket.Accept(hr, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered the request
	}
	ws.SetReadLimit(s.opts.maxPayload + readSlack)
	c := &Conn{srv: s, ws: ws, nc: hr.conn, req: r, seq: seq}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = ws.CloseNow()
		return
	}
	s.conns[c] = struct{}{}
	s.mu.Unlock()

	h := s.opts.handler
	if h == nil {
		h = func(ctx context.Context, c *Conn) error { return c.Serve(ctx) }
	}
	ctx, cancel := context.WithCancel(s.ctx)
	err = runHandler(ctx, h, c)
	cancel()
	if err != nil {
		s.recordErr(fmt.Errorf("connection %d: %w", c.seq, err))
		_ = ws.Close(websocket.StatusInternalError, closeReason(err.Error()))
	} else {
		_ = ws.Close(websocket.StatusNormalClosure, "")
	}

	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
}

func runHandler(ctx context.Context, h Handler, c *Conn) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("testserver: handler panic: %v\n%s", v, debug.Stack())
		}
	}()
	return h(ctx, c)
}

// closeReason truncates s to what fits in a close frame.
func closeReason(s string) string {
	const maxReason = 123
	if len(s) <= maxReason {
		return s
	}
	n := maxReason
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// hijackRecorder keeps the TCP connection websocket.Accept hijacks, so that
// Server.Close can cut a connection whose close handshake does not finish.
// It also reports the moment the upgrade is accepted.
type hijackRecorder struct {
	http.ResponseWriter
	onUpgrade func()
	conn      net.Conn
}

func (h *hijackRecorder) WriteHeader(code int) {
	if code == http.StatusSwitchingProtocols && h.onUpgrade != nil {
		h.onUpgrade()
		h.onUpgrade = nil
	}
	h.ResponseWriter.WriteHeader(code)
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	h.conn = c
	return c, brw, err
}

func (h *hijackRecorder) Unwrap() http.ResponseWriter { return h.ResponseWriter }
