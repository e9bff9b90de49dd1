package testserver

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// recordSeparator joins the packets of a polling body.
const recordSeparator = '\x1e'

// noopInterval: while a WebSocket probe is in progress, a GET with nothing to
// carry is answered with a noop "6" after at most this long, as the official
// server's upgrade check loop does (every 100ms).
const noopInterval = 100 * time.Millisecond

// pollCloseWait bounds how long Close waits for a GET to carry the close
// packet of a polling session.
const pollCloseWait = 5 * time.Second

// maxDrain bounds what is read of a POST body over maxPayload before the 413.
const maxDrain = 8 << 20

var noop = []Frame{{Text: "6"}}

// pollTransport carries a session's packets over HTTP long-polling: POST
// bodies fill the inbound queue that read drains, writes fill the outbound
// queue that the GETs drain, each GET taking everything queued.
type pollTransport struct {
	c *Conn

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every change of the fields below
	inq       []Frame       // received, not yet read
	outq      []Frame       // written, not yet sent
	getting   bool          // a GET is in flight
	posting   bool          // a POST is in flight
	probing   bool          // a WebSocket probe was answered: GETs get noops
	noopNow   bool          // answer the pending GET with a noop at once
	closing   bool          // the close packet is queued: no more writes
	discarded bool          // the session moved to a WebSocket
	ended     bool
	endErr    error         // what read returns once inq is empty
	endReply  string        // the answer of a GET pending at the end; "" drops its connection
	done      chan struct{} // closed when ended
}

func newPollTransport(c *Conn) *pollTransport {
	return &pollTransport{c: c, changed: make(chan struct{}), done: make(chan struct{})}
}

func (p *pollTransport) name() string { return transportPolling }

// signalLocked wakes every goroutine waiting for a change.
func (p *pollTransport) signalLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

// servePollingHandshake opens a session over polling, starts its handler and
// answers the request as the session's first GET (with the open packet the
// handler sends).
func (s *Server) servePollingHandshake(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		http.Error(w, "server closing", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	c := newConn(s, r)
	p := newPollTransport(c)
	c.tr = p
	c.seq = int(s.accepted.Add(1))
	if !s.admit(c, nil) {
		http.Error(w, "server closing", http.StatusServiceUnavailable)
		return
	}
	go func() {
		defer s.wg.Done()
		s.runSession(c)
	}()
	if ck := c.cookie(); ck != "" {
		w.Header().Add("Set-Cookie", ck)
	}
	p.serveGet(w, r, true)
}

// servePolling serves a GET or POST of polling session c.
func (s *Server) servePolling(w http.ResponseWriter, r *http.Request, c *Conn) {
	if !s.enter() {
		http.Error(w, "server closing", http.StatusServiceUnavailable)
		return
	}
	defer s.wg.Done()
	p, ok := c.transport().(*pollTransport)
	if !ok {
		writeHTTPError(w, codeBadRequest) // the session is on a WebSocket
		return
	}
	switch r.Method {
	case http.MethodGet:
		p.serveGet(w, r, false)
	case http.MethodPost:
		p.servePost(w, r)
	default:
		w.WriteHeader(http.StatusInternalServerError) // as the official server
	}
}

// begin admits a GET or POST (busy is p.getting or p.posting): it answers
// and refuses a request for an ended or upgraded session, and one that
// overlaps the previous request of its kind, which ends the session as the
// official server does (the pending GET gets "1").
func (p *pollTransport) begin(w http.ResponseWriter, busy *bool, method string) bool {
	p.mu.Lock()
	switch {
	case p.ended:
		p.mu.Unlock()
		writeHTTPError(w, codeUnknownSID)
		return false
	case p.discarded:
		p.mu.Unlock()
		writeHTTPError(w, codeBadRequest)
		return false
	case *busy:
		p.mu.Unlock()
		p.end(fmt.Errorf("%w: overlapping %s requests", ErrProtocol, method), "1")
		w.WriteHeader(http.StatusBadRequest)
		return false
	}
	*busy = true
	p.mu.Unlock()
	return true
}

// finish ends the request begin admitted.
func (p *pollTransport) finish(busy *bool) {
	p.mu.Lock()
	*busy = false
	p.mu.Unlock()
}

// serveGet holds a GET until there are packets to send, then answers with
// all of them; except that the handshake GET is answered with the open packet
// alone when it comes first, as by the official server.
func (p *pollTransport) serveGet(w http.ResponseWriter, r *http.Request, handshake bool) {
	if !p.begin(w, &p.getting, "GET") {
		return
	}
	defer p.finish(&p.getting)

	var tick *time.Timer
	defer func() {
		if tick != nil {
			tick.Stop()
		}
	}()
	for {
		p.mu.Lock()
		var pkts []Frame
		last, drop := false, false
		switch {
		case p.ended:
			if p.endReply == "" {
				drop = true
			} else {
				pkts = []Frame{{Text: p.endReply}}
			}
		case len(p.outq) > 0:
			n := len(p.outq)
			if first := p.outq[0]; handshake && !first.IsBinary && strings.HasPrefix(first.Text, "0") {
				n = 1
			}
			pkts = p.outq[:n:n]
			p.outq = p.outq[n:]
			if len(p.outq) == 0 {
				p.outq = nil
			}
			last = p.closing && p.outq == nil // the close packet is the last one queued
		case p.discarded:
			pkts = []Frame{{Text: "1"}}
		case p.noopNow:
			p.noopNow = false
			pkts = noop
		}
		changed, probing := p.changed, p.probing
		p.mu.Unlock()

		if drop {
			panic(http.ErrAbortHandler) // closes the connection without a response
		}
		if pkts != nil {
			writePayload(w, pkts)
			if last {
				p.end(errSessionClosed, "1")
			}
			return
		}
		var tickC <-chan time.Time
		if probing {
			if tick == nil {
				tick = time.NewTimer(noopInterval)
			}
			tickC = tick.C
		}
		select {
		case <-changed:
		case <-tickC:
			writePayload(w, noop)
			return
		case <-r.Context().Done():
			p.end(errors.New("testserver: poll connection closed prematurely"), "")
			return
		}
	}
}

// servePost reads a POST body into the inbound queue and answers "ok".
func (p *pollTransport) servePost(w http.ResponseWriter, r *http.Request) {
	limit := p.c.maxPayload()
	if !p.begin(w, &p.posting, "POST") {
		return
	}
	defer p.finish(&p.posting)

	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/octet-stream" {
		p.end(fmt.Errorf("%w: binary POST body (application/octet-stream) in EIO 4", ErrProtocol), "1")
		writeHTTPError(w, codeBadRequest)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, limit+1))
	if err != nil {
		p.end(fmt.Errorf("testserver: reading a POST body: %w", err), "1")
		writeHTTPError(w, codeBadRequest)
		return
	}
	if int64(len(body)) > limit {
		p.tooBig(w, r, limit)
		return
	}
	pkts, perr := decodePayload(string(body))

	p.mu.Lock()
	if p.ended || p.discarded {
		code := codeUnknownSID
		if p.discarded {
			code = codeBadRequest // upgraded meanwhile: the packets are dropped
		}
		p.mu.Unlock()
		writeHTTPError(w, code)
		return
	}
	clientClose := false
	for _, f := range pkts {
		p.c.srv.record(f)
		p.inq = append(p.inq, f)
		if !f.IsBinary && f.Text[0] == '1' {
			clientClose = true // what follows is ignored, as by the official server
			break
		}
	}
	// End in the same critical section, so that the reader of these packets
	// cannot answer them (or close) over the transport before it ends.
	ended := false
	switch {
	case clientClose:
		ended = p.endLocked(errSessionClosed, "6") // the pending GET returns, as in the official server
	case perr != nil:
		ended = p.endLocked(fmt.Errorf("%w: malformed POST body: %v", ErrProtocol, perr), "1")
	default:
		p.signalLocked()
	}
	p.mu.Unlock()
	if ended {
		p.c.end()
	}
	if perr != nil && !clientClose {
		writeHTTPError(w, codeBadRequest)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html") // as the official server
	h.Set("Content-Length", "2")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, "ok")
}

// tooBig answers a POST body over maxPayload with 413 and closes the
// session. It reads (and drops) up to maxDrain more bytes first, so that a
// client still sending its body reads the 413 instead of a reset connection.
func (p *pollTransport) tooBig(w http.ResponseWriter, r *http.Request, limit int64) {
	n, _ := io.Copy(io.Discard, io.LimitReader(r.Body, maxDrain))
	p.end(fmt.Errorf("%w: POST body of %d bytes or more over maxPayload %d", ErrMessageTooBig, limit+1+n, limit), "1")
	w.WriteHeader(http.StatusRequestEntityTooLarge)
}

func (p *pollTransport) read(ctx context.Context) (Frame, error) {
	for {
		p.mu.Lock()
		if len(p.inq) > 0 {
			f := p.inq[0]
			p.inq[0] = Frame{}
			p.inq = p.inq[1:]
			p.mu.Unlock()
			return f, nil
		}
		discarded, ended, err, changed := p.discarded, p.ended, p.endErr, p.changed
		p.mu.Unlock()
		switch {
		case discarded:
			return Frame{}, errUpgraded
		case ended:
			return Frame{}, err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			p.end(ctx.Err(), "1")
			return Frame{}, ctx.Err()
		}
	}
}

func (p *pollTransport) write(_ context.Context, pkts []Frame) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.discarded:
		return errUpgraded
	case p.ended, p.closing:
		return errSessionClosed
	}
	p.outq = append(p.outq, pkts...)
	p.signalLocked()
	return nil
}

// close queues the close packet "1" and waits for a GET to carry it.
func (p *pollTransport) close(int, string) error {
	p.mu.Lock()
	switch {
	case p.discarded:
		p.mu.Unlock()
		return errUpgraded
	case p.ended:
		p.mu.Unlock()
		return nil
	}
	if !p.closing {
		p.closing = true
		p.outq = append(p.outq, Frame{Text: "1"})
		p.signalLocked()
	}
	done := p.done
	p.mu.Unlock()

	t := time.NewTimer(pollCloseWait)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	case <-p.c.srv.ctx.Done():
	}
	p.end(errSessionClosed, "1")
	return nil
}

func (p *pollTransport) cut() error {
	p.mu.Lock()
	discarded := p.discarded
	p.mu.Unlock()
	if discarded {
		return errUpgraded
	}
	p.end(errSessionClosed, "")
	return nil
}

// end ends the transport, and with it the session, unless it has ended or
// the session moved to a WebSocket. reply answers a GET pending now.
func (p *pollTransport) end(err error, reply string) {
	p.mu.Lock()
	ended := p.endLocked(err, reply)
	p.mu.Unlock()
	if ended {
		p.c.end()
	}
}

// endLocked is end for a caller that holds p.mu; the caller then calls
// p.c.end, without p.mu, when it returns true.
func (p *pollTransport) endLocked(err error, reply string) bool {
	if p.ended || p.discarded {
		return false
	}
	p.ended, p.endErr, p.endReply = true, err, reply
	p.outq = nil
	close(p.done)
	p.signalLocked()
	return true
}

// startProbe makes GETs return noops while the client completes an upgrade,
// the pending one at once.
func (p *pollTransport) startProbe() {
	p.mu.Lock()
	p.probing = true
	p.noopNow = p.getting
	p.signalLocked()
	p.mu.Unlock()
}

// stopProbe ends the noops of a failed upgrade.
func (p *pollTransport) stopProbe() {
	p.mu.Lock()
	p.probing, p.noopNow = false, false
	p.mu.Unlock()
}

// discard hands the session over to a WebSocket: it returns the packets
// queued and not sent, and makes read return errUpgraded once the inbound
// queue is drained. A GET still pending gets "1", as in the official server.
// It fails when the transport ended or is closing.
func (p *pollTransport) discard() ([]Frame, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended || p.closing {
		return nil, errSessionClosed
	}
	p.discarded = true
	p.probing, p.noopNow = false, false
	pending := p.outq
	p.outq = nil
	p.signalLocked()
	return pending, nil
}

// writePayload answers a GET with packets joined by the record separator.
func writePayload(w http.ResponseWriter, pkts []Frame) {
	body := encodePayload(pkts)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, body)
}

// encodePayload joins packets with the record separator, binary ones as "b"
// + standard base64.
func encodePayload(pkts []Frame) string {
	var b strings.Builder
	for i, p := range pkts {
		if i > 0 {
			b.WriteByte(recordSeparator)
		}
		if p.IsBinary {
			b.WriteByte('b')
			b.WriteString(base64.StdEncoding.EncodeToString(p.Binary))
		} else {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// decodePayload splits a POST body into packets. It returns the packets
// before the first malformed one (empty, of an unknown type, or "b" followed
// by anything but padded standard base64) and an error describing it.
func decodePayload(body string) ([]Frame, error) {
	var out []Frame
	for pkt := range strings.SplitSeq(body, string(recordSeparator)) {
		switch {
		case pkt == "":
			return out, errors.New("empty packet")
		case pkt[0] == 'b':
			b, err := base64.StdEncoding.DecodeString(pkt[1:])
			if err != nil {
				return out, fmt.Errorf("binary packet: %v", err)
			}
			out = append(out, Frame{Binary: b, IsBinary: true})
		case '0' <= pkt[0] && pkt[0] <= '6':
			out = append(out, Frame{Text: pkt})
		default:
			return out, fmt.Errorf("unknown packet type %q", pkt[0])
		}
	}
	return out, nil
}
