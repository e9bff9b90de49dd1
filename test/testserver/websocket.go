package testserver

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
)

// readSlack is added to maxPayload for the WebSocket read limit, so that the
// default behaviour sees (and closes on) a frame slightly over maxPayload
// itself; far larger frames are refused by coder/websocket, also with 1009.
const readSlack = 64 << 10

// upgradeTimeout bounds an upgrade from the WebSocket request to the upgrade
// packet "5", as the official server's upgradeTimeout (10s).
const upgradeTimeout = 10 * time.Second

// wsTransport carries a session's packets over a WebSocket, one packet per
// message.
type wsTransport struct {
	ws *websocket.Conn
	nc net.Conn // the hijacked TCP connection
}

func (t *wsTransport) name() string { return transportWebSocket }

func (t *wsTransport) read(ctx context.Context) (Frame, error) {
	typ, b, err := t.ws.Read(ctx)
	if err != nil {
		return Frame{}, err
	}
	if typ == websocket.MessageBinary {
		return Frame{Binary: b, IsBinary: true}, nil
	}
	return Frame{Text: string(b)}, nil
}

func (t *wsTransport) write(ctx context.Context, pkts []Frame) error {
	for _, p := range pkts {
		var err error
		if p.IsBinary {
			err = t.ws.Write(ctx, websocket.MessageBinary, p.Binary)
		} else {
			err = t.ws.Write(ctx, websocket.MessageText, []byte(p.Text))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (t *wsTransport) close(code int, reason string) error {
	return t.ws.Close(websocket.StatusCode(code), reason)
}

func (t *wsTransport) cut() error { return t.ws.CloseNow() }

// cutTCP closes the TCP connection under whatever the WebSocket is doing, to
// end a close handshake the client does not answer.
func (t *wsTransport) cutTCP() {
	if t.nc != nil {
		_ = t.nc.Close()
	}
}

// accept upgrades a validated request to a WebSocket; onUpgrade runs just
// before the 101 response goes out. It returns nil when Accept has answered
// the request with an error.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, maxPayload int64, onUpgrade func()) *wsTransport {
	hr := &hijackRecorder{ResponseWriter: w, onUpgrade: onUpgrade}
	ws, err := websocket.Accept(hr, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return nil
	}
	ws.SetReadLimit(max(maxPayload, s.opts.maxPayload) + readSlack)
	return &wsTransport{ws: ws, nc: hr.conn}
}

// serveWebSocket opens a session over a WebSocket and runs its handler on
// the request's goroutine.
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request) {
	c := newConn(s, r)
	if ck := c.cookie(); ck != "" {
		w.Header().Add("Set-Cookie", ck)
	}
	// Count the session before the 101 response goes out, so that a client
	// whose dial has returned sees it in Connections.
	t := s.accept(w, r, 0, func() { c.seq = int(s.accepted.Add(1)) })
	if t == nil {
		return
	}
	c.tr = t
	if !s.admit(c, t) {
		_ = t.ws.CloseNow()
		return
	}
	defer s.wg.Done()
	s.runSession(c)
}

// serveUpgrade takes a WebSocket request carrying the sid of polling session
// c: it answers the probe "2probe" with "3probe" (and from then on answers
// the session's GETs with noops "6"), and on the upgrade packet "5" moves the
// session to the WebSocket. Anything else, an error, the session's end or
// upgradeTimeout closes the WebSocket and leaves the session on polling.
func (s *Server) serveUpgrade(w http.ResponseWriter, r *http.Request, c *Conn) {
	if !s.enter() {
		http.Error(w, "server closing", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	ctx, cancel := context.WithTimeout(s.ctx, upgradeTimeout)
	defer cancel()
	p, ok := c.beginUpgrade(cancel)
	if !ok {
		// Not on polling (a WebSocket session, or upgraded already), or
		// probing already.
		writeHTTPError(w, codeBadRequest)
		return
	}
	defer c.endUpgrade()
	t := s.accept(w, r, c.maxPayload(), nil)
	if t == nil {
		return
	}
	if !s.addSocket(t) {
		_ = t.ws.CloseNow()
		return
	}
	err := c.probe(ctx, p, t)
	if err == nil {
		return // the session owns t now; runSession releases it
	}
	p.stopProbe()
	if ctx.Err() != nil {
		_ = t.ws.CloseNow()
	} else {
		_ = t.ws.Close(websocket.StatusNormalClosure, "")
	}
	s.removeSocket(t)
}

// probe runs the upgrade handshake on t for polling transport p.
func (c *Conn) probe(ctx context.Context, p *pollTransport, t *wsTransport) error {
	for {
		f, err := t.read(ctx)
		if err != nil {
			return err
		}
		c.srv.record(f)
		switch {
		case !f.IsBinary && f.Text == "2probe":
			if err := t.write(ctx, []Frame{{Text: "3probe"}}); err != nil {
				return err
			}
			p.startProbe()
		case !f.IsBinary && f.Text == "5":
			return c.switchTo(p, t)
		default:
			return fmt.Errorf("testserver: unexpected packet %s during upgrade", f)
		}
	}
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
