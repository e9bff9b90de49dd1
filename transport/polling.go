package transport

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/sio-go/sio/packet"
)

// Pauser is implemented by transports that can be paused for an upgrade
// (polling).
type Pauser interface {
	// Pause makes Read return ErrPaused instead of starting a new poll, once
	// the poll in flight (if any) has returned and its frames were read. It
	// does not interrupt the poll in flight: cancelling a pending GET would
	// close the session. Pause may be called from any goroutine; it cannot
	// be undone.
	Pause()
}

// ErrPaused is returned by Read on a paused transport (see Pauser).
var ErrPaused = errors.New("transport: paused")

// ErrEIO3 is returned (wrapped) by DialPolling asked for Engine.IO v4 when
// the server answered the handshake in Engine.IO v3 framing, as socket.io 2.x
// servers do whatever EIO the client asks for. The caller may dial again with
// Config.EIO set to 3. DialPolling closes the v3 session it was given.
var ErrEIO3 = errors.New("transport: the server speaks Engine.IO v3")

// ErrFrameTooLarge is returned by a polling Write, before anything is sent,
// when one frame does not fit in a request body of the server's maxPayload,
// and by Read when a frame exceeds Config.ReadLimit (a WebSocket message, or
// a frame or the whole body of a polling response, see DialPolling).
var ErrFrameTooLarge = errors.New("transport: frame too large")

const (
	// defaultPollLimit bounds one frame when Config.ReadLimit is not set.
	defaultPollLimit = 32 << 20
	// bodySlack is what a polling response body may hold beyond one
	// frame's limit: the server puts every packet it has queued in one
	// response, so a body of many small frames may exceed the per-frame
	// limit while no frame does. Memory stays bounded by limit+bodySlack.
	bodySlack = 16 << 20
	// closeTimeout bounds Close: waiting for a POST in flight, then sending
	// the close packet.
	closeTimeout = time.Second
	// maxDrain is how much of a response body is read before closing it, so
	// that the connection can be reused; a longer body is cut.
	maxDrain = 4 << 10
	// postContentType is what the official client sends with a POST (v3
	// and v4 alike).
	postContentType = "text/plain;charset=UTF-8"
	// defaultV3MaxPayload bounds a POST body when the open packet announces
	// no maxPayload (Engine.IO v3; v4 of socket.io 3.x and python-socketio)
	// and Config.MaxPayload does not say: it is the default
	// maxHttpBufferSize of engine.io 3.x and 4.x (1e6 bytes), beyond which
	// such a server drops the connection. A server configured lower will
	// still do so.
	defaultV3MaxPayload = 1e6
)

// errClosed is returned by Read and Write once Close was called.
var errClosed = fmt.Errorf("transport: polling closed: %w", net.ErrClosed)

// polling is a Conn over HTTP long-polling: a GET waits for the server's
// packets, a POST sends the client's, both carrying the session id.
//
// It starts no goroutines: Read runs on the caller's reader goroutine and
// Write on its writer goroutine, so the GET and the POST are independent.
// Each side has at most one request in flight, as the server requires.
type polling struct {
	client     *http.Client // the session's own; see ownClient
	closeIdle  func()       // closes client's idle connections
	header     http.Header
	url        string // the URL of every request after the handshake (with sid)
	sid        string
	v3         bool  // Engine.IO v3: length-prefixed bodies
	maxPayload int   // bound on a POST body, 0 for none
	readLimit  int64 // bound on a GET body
	frameLimit int64 // bound on one frame in it (Config.ReadLimit)

	via string // " through proxy URL" when there is one, for errors

	// life is cancelled by Close: it aborts requests in flight.
	life   context.Context
	cancel context.CancelFunc

	// Reader side: used by the goroutine calling Read only.
	queue   []packet.Frame // frames of the last body not yet returned
	reading atomic.Bool    // a Read is running (guards against a second poll)

	// Writer side. post holds a token while a POST is in flight, so that
	// Close can wait for it before sending the close packet.
	post    chan struct{}
	buf     []byte        // body buffer, reused across POSTs
	bufFree chan struct{} // closed once the HTTP client released buf; nil before the first POST

	paused       atomic.Bool // Pause was called
	failed       atomic.Bool // a request failed: the session is probably gone
	remoteClosed atomic.Bool // the server sent the close packet
	closing      atomic.Bool // Close was called
	closeOnce    sync.Once
}

var (
	_ Conn   = (*polling)(nil)
	_ Pauser = (*polling)(nil)
)

// DialPolling performs the Engine.IO handshake over HTTP long-polling
// (GET <URL>?EIO=4&transport=polling) and returns a Conn whose first Read
// returns the open packet, followed by any other packets of the handshake
// body. A refusal (HTTP 4xx or 5xx) is a *HandshakeError naming "polling".
//
// The Conn learns the session id and maxPayload from the open packet: every
// later request carries the sid, and Write splits a batch across POSTs so
// that no body exceeds maxPayload. Config.ReadLimit bounds each frame of a
// response (32 MiB when it is not set), and the whole body to that plus
// 16 MiB; a body is refused as soon as it is seen to exceed either. A Timeout on Config.HTTPClient must
// be longer than the server's pingInterval, which a poll may wait. The
// returned Conn implements Pauser.
//
// With Config.EIO set to 3 it speaks Engine.IO v3 instead (EIO=3&b64=1):
// bodies are length-prefixed (see packet.DecodePayloadV3), such as the
// handshake body 96:0{"sid":...}2:40 of a socket.io 2.x server, and as the
// open packet has no maxPayload, POST bodies are kept within Config.MaxPayload,
// by default 1e6 bytes, the default maxHttpBufferSize of such a server (so
// they are over v4 when the open packet has none). Asked for v4, DialPolling
// recognizes a v3 handshake body, text (it starts with a length prefix such
// as "96:") or binary (application/octet-stream, \x00\x09\x06\xff0{"sid":...,
// as v3 servers answer a client that does not send b64=1), and returns an
// error matching ErrEIO3, after closing that session.
func DialPolling(ctx context.Context, cfg Config) (Conn, error) {
	if err := checkEIO(cfg.EIO); err != nil {
		return nil, err
	}
	u := cfg.endpoint(NamePolling, "")
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "http"
	case "https", "wss":
		u.Scheme = "https"
	default:
		return nil, fmt.Errorf("transport: unsupported URL scheme %q", u.Scheme)
	}
	p := &polling{
		header:     cfg.Header,
		url:        u.String(),
		frameLimit: cfg.ReadLimit,
		v3:         cfg.EIO == 3,
		maxPayload: int(min(max(cfg.MaxPayload, 0), math.MaxInt)), // until the open packet says
		post:       make(chan struct{}, 1),
	}
	var t *http.Transport
	p.client, t, p.closeIdle = ownClient(cfg.HTTPClient)
	if u.Scheme == "http" {
		http1Only(t)
	}
	if p.frameLimit <= 0 {
		p.frameLimit = defaultPollLimit
	}
	p.readLimit = p.frameLimit + bodySlack
	p.via = viaProxy(p.client, u)
	p.life, p.cancel = context.WithCancel(context.Background())

	body, err := p.get(ctx)
	if err == nil && !p.v3 && isV3Body(body) {
		p.dropV3(cfg, u.Scheme, body)
		err = fmt.Errorf("transport: polling handshake: %w", ErrEIO3)
	}
	var frames []packet.Frame
	if err == nil {
		frames, err = p.decode(body)
	}
	if err == nil {
		err = p.handshake(frames)
	}
	if err != nil {
		p.cancel()
		p.closeIdle()
		return nil, err
	}
	p.queue = frames
	p.url = sessionURL(cfg, u.Scheme, p.sid)
	return p, nil
}

// sessionURL returns the URL of the requests of session sid; scheme is http
// or https (DialPolling maps ws(s) to them).
func sessionURL(cfg Config, scheme, sid string) string {
	u := cfg.endpoint(NamePolling, sid)
	u.Scheme = scheme
	return u.String()
}

// checkEIO reports an Engine.IO version the transports do not speak.
func checkEIO(eio int) error {
	switch eio {
	case 0, 3, 4:
		return nil
	}
	return fmt.Errorf("transport: unsupported Engine.IO version %d", eio)
}

// isV3Body reports whether a handshake body is in Engine.IO v3 framing,
// where a v4 body starts with the open packet, "0{". A v3 body starts with a
// length prefix: in text framing decimal digits and then ':'; in the binary
// framing a v3 server uses when the client does not ask for b64=1
// (application/octet-stream), a byte 0 (a string packet) or 1 (binary), the
// length's decimal digits as bytes 0 to 9, then the byte 255.
func isV3Body(body []byte) bool {
	if len(body) > 0 && body[0] <= 1 {
		_, ok := binaryV3First(body)
		return ok
	}
	i := 0
	for i < len(body) && body[i] >= '0' && body[i] <= '9' {
		i++
	}
	return i > 0 && i < len(body) && body[i] == ':'
}

// binaryV3First returns the first packet of an Engine.IO v3 body in binary
// framing, <0 or 1><length digits as bytes 0-9><255><packet>, and whether
// the body starts that way (the packet may be cut short; at most 9 digits).
func binaryV3First(body []byte) ([]byte, bool) {
	if len(body) == 0 || body[0] > 1 {
		return nil, false
	}
	n, i := 0, 1
	for ; i < len(body) && i <= 9 && body[i] <= 9; i++ {
		n = 10*n + int(body[i])
	}
	if i == 1 || i >= len(body) || body[i] != 0xff {
		return nil, false
	}
	rest := body[i+1:]
	return rest[:min(n, len(rest))], true
}

// dropV3 closes, best effort, the Engine.IO v3 session that a handshake asked
// for v4 opened (the server may already have connected the client to a
// namespace): it POSTs the close packet in v3 framing with the session id of
// the handshake body. p is discarded afterwards.
func (p *polling) dropV3(cfg Config, scheme string, body []byte) {
	var first []byte
	if pkt, ok := binaryV3First(body); ok {
		first = pkt
	} else if frames, err := packet.DecodePayloadV3(body); err == nil {
		first = frames[0].Data
	}
	f, err := packet.ParseFrame(first, false)
	if err != nil || f.Type() != packet.FrameOpen {
		return
	}
	open, err := packet.ParseOpen(f.Payload())
	if err != nil {
		return
	}
	cfg.EIO = 3
	p.v3 = true
	p.url = sessionURL(cfg, scheme, open.SID)
	p.sendClose()
}

// handshake reads the open packet at the start of the handshake body.
func (p *polling) handshake(frames []packet.Frame) error {
	if f := frames[0]; f.Type() != packet.FrameOpen {
		return fmt.Errorf("transport: polling handshake: expected the open packet, got %s", f.Type())
	}
	open, err := packet.ParseOpen(frames[0].Payload())
	if err != nil {
		return fmt.Errorf("transport: polling handshake: %w", err)
	}
	p.sid = open.SID
	if open.MaxPayload > 0 {
		p.maxPayload = int(min(open.MaxPayload, math.MaxInt))
	}
	if p.maxPayload == 0 {
		// v3 servers, v4 ones of socket.io 3.x and python-socketio
		// announce none, and Config.MaxPayload did not say.
		p.maxPayload = defaultV3MaxPayload
	}
	return nil
}

func (p *polling) Name() string { return NamePolling }

// FrameSize returns the bytes f takes in a POST body (a binary frame is
// base64-encoded): over v4 not counting the separator between frames, over
// v3 including the length prefix.
func (p *polling) FrameSize(f packet.Frame) int {
	if p.v3 {
		return packet.PayloadSizeV3(f)
	}
	return packet.PayloadSize(f)
}

// Pause implements Pauser.
func (p *polling) Pause() { p.paused.Store(true) }

// Read returns the next frame: from the body of the last poll while it has
// frames, otherwise from a new long-poll GET. The server's close packet is
// returned like any other frame. Read returns ErrPaused, without polling,
// once Pause was called and the frames already received were read.
func (p *polling) Read(ctx context.Context) (packet.Frame, error) {
	if !p.reading.CompareAndSwap(false, true) {
		// A second GET would make the server close the session.
		return packet.Frame{}, errors.New("transport: concurrent polling Read")
	}
	defer p.reading.Store(false)
	if p.closing.Load() {
		return packet.Frame{}, errClosed
	}
	if len(p.queue) == 0 {
		if p.paused.Load() {
			return packet.Frame{}, ErrPaused
		}
		frames, err := p.poll(ctx)
		if err != nil {
			return packet.Frame{}, err
		}
		p.queue = frames
	}
	f := p.queue[0]
	p.queue[0] = packet.Frame{}
	p.queue = p.queue[1:]
	if f.Type() == packet.FrameClose {
		p.remoteClosed.Store(true)
	}
	return f, nil
}

// poll makes one GET and decodes its body.
func (p *polling) poll(ctx context.Context) ([]packet.Frame, error) {
	body, err := p.get(ctx)
	if err != nil {
		return nil, err
	}
	return p.decode(body)
}

// decode splits a response body into frames.
func (p *polling) decode(body []byte) ([]packet.Frame, error) {
	var frames []packet.Frame
	var err error
	if p.v3 {
		frames, err = packet.DecodePayloadV3(body)
	} else {
		frames, err = packet.DecodePayload(body)
	}
	if err != nil {
		return nil, fmt.Errorf("transport: polling GET: %w", err)
	}
	for _, f := range frames {
		if int64(len(f.Data)) > p.frameLimit {
			return nil, fmt.Errorf("%w: a %d-byte frame exceeds the read limit of %d bytes", ErrFrameTooLarge, len(f.Data), p.frameLimit)
		}
	}
	return frames, nil
}

// get makes one GET and returns its body.
func (p *polling) get(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // no request was made: the session is intact
	}
	ctx, done := p.requestContext(ctx)
	defer done()
	// net/http silently sends a GET again on a new connection when a reused
	// one fails before the response: the packets the server had written
	// to the dead connection would be lost without a trace. A request
	// written while an earlier one had no answer is such a resend (a
	// redirect follows an answer; a resend of a request that never left is
	// harmless): abort it at once, since the server, its packets gone, may
	// answer the resent poll only a ping interval later.
	var unanswered atomic.Bool
	ctx, resent := context.WithCancelCause(ctx)
	defer resent(nil)
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil && unanswered.Swap(true) {
				resent(ErrResent)
			}
		},
		GotFirstResponseByte: func() { unanswered.Store(false) },
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.url, nil)
	if err != nil {
		return nil, fmt.Errorf("transport: polling: %w", err)
	}
	p.setHeader(req)
	resp, err := p.client.Do(req)
	if errors.Is(context.Cause(ctx), ErrResent) {
		if err == nil {
			closeBody(resp)
		}
		return nil, p.requestError("GET", ErrResent)
	}
	if err != nil {
		return nil, p.requestError("GET", err)
	}
	defer closeBody(resp)
	if resp.StatusCode != http.StatusOK {
		return nil, p.statusError(resp)
	}
	return p.readBody(resp)
}

// ErrResent reports a poll that net/http sent again after its connection
// failed: what the server wrote to the first one may be lost, so the session
// cannot be trusted to be complete.
var ErrResent = errors.New("transport: poll was resent on a new connection; packets may be lost")

// readBody reads a response body of at most readLimit bytes. Over v4, it
// stops as soon as one record is longer than any frame within frameLimit
// can take (a binary frame's base64 included), so that a body holding one
// huge frame costs about frameLimit, not readLimit. A body of unknown length
// is read in chunks (see readAll), so that one refused half-way costs what
// was read.
func (p *polling) readBody(resp *http.Response) ([]byte, error) {
	n := resp.ContentLength
	if n > p.readLimit {
		return nil, fmt.Errorf("%w: polling response of %d bytes exceeds the read limit of %d bytes",
			ErrFrameTooLarge, n, p.readLimit)
	}
	var r io.Reader = &bodyLimiter{r: resp.Body, limit: p.readLimit}
	if !p.v3 {
		r = &recordLimiter{r: r, max: 1 + int64(base64.StdEncoding.EncodedLen(int(min(p.frameLimit, math.MaxInt/2))))}
	}
	var body []byte
	var err error
	if n > 0 {
		var buf bytes.Buffer
		buf.Grow(int(n) + 1) // +1: ReadFrom wants room to see EOF
		_, err = buf.ReadFrom(r)
		body = buf.Bytes()
	} else {
		body, err = readAll(r)
	}
	if errors.Is(err, ErrFrameTooLarge) {
		return nil, err
	}
	if err != nil {
		return nil, p.requestError("GET", err)
	}
	return body, nil
}

// Write sends frames in order, in as few sequential POSTs as maxPayload
// allows (the separators, or over v3 the length prefixes, count); when one
// fails, the frames of the POSTs before it were delivered. A frame that does
// not fit in a body by itself makes Write fail with ErrFrameTooLarge before
// anything is sent. Write also refuses, before sending anything, a text
// frame that is empty or, over v4, holds the record separator 0x1e, which a
// v4 body cannot carry, or, over v3, is not valid UTF-8, whose length in
// UTF-16 code units the server would count differently.
func (p *polling) Write(ctx context.Context, frames []packet.Frame) error {
	for _, f := range frames {
		if err := p.check(f); err != nil {
			return err
		}
	}
	if len(frames) == 0 {
		return nil
	}
	select {
	case p.post <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-p.life.Done():
		return errClosed
	}
	defer func() { <-p.post }()
	for len(frames) > 0 {
		if p.closing.Load() {
			return errClosed
		}
		n := p.fit(frames)
		if err := p.send(ctx, frames[:n]); err != nil {
			return err
		}
		frames = frames[n:]
	}
	return nil
}

// check reports whether f can be sent at all.
func (p *polling) check(f packet.Frame) error {
	if !f.Binary {
		bad := len(f.Data) == 0
		if p.v3 {
			bad = bad || !utf8.Valid(f.Data)
		} else {
			bad = bad || bytes.IndexByte(f.Data, 0x1e) >= 0
		}
		if bad {
			return fmt.Errorf("transport: polling cannot carry the text frame %.32q", f.Data)
		}
	}
	if size := p.FrameSize(f); p.maxPayload > 0 && size > p.maxPayload {
		return fmt.Errorf("%w: a %s frame takes %d bytes in a polling body, the server accepts %d",
			ErrFrameTooLarge, f.Type(), size, p.maxPayload)
	}
	return nil
}

// fit returns how many of frames (at least one) go into the next body.
func (p *polling) fit(frames []packet.Frame) int {
	if p.maxPayload <= 0 {
		return len(frames)
	}
	sep := 1 // the record separator of v4; a v3 length prefix is in FrameSize
	if p.v3 {
		sep = 0
	}
	size := p.FrameSize(frames[0])
	n := 1
	for ; n < len(frames); n++ {
		size += sep + p.FrameSize(frames[n])
		if size > p.maxPayload {
			break
		}
	}
	return n
}

// send POSTs one body holding frames.
func (p *polling) send(ctx context.Context, frames []packet.Frame) error {
	if err := ctx.Err(); err != nil {
		return err // no request was made: the session is intact
	}
	ctx, done := p.requestContext(ctx)
	defer done()
	return p.postBody(ctx, frames)
}

// postBody POSTs frames in one body; any 200 answer is success. The caller
// holds the post token.
func (p *polling) postBody(ctx context.Context, frames []packet.Frame) error {
	if p.bufFree != nil {
		select {
		case <-p.bufFree:
		default:
			// The HTTP client may still read the last body (it can
			// return before it is done writing): leave it that buffer.
			p.buf = nil
		}
	}
	if p.v3 {
		p.buf = packet.AppendPayloadV3(p.buf[:0], frames)
	} else {
		p.buf = packet.AppendPayload(p.buf[:0], frames)
	}
	body := &postBody{done: make(chan struct{})}
	body.r.Reset(p.buf)
	p.bufFree = body.done
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, body)
	if err != nil {
		body.Close()
		return fmt.Errorf("transport: polling: %w", err)
	}
	req.ContentLength = int64(len(p.buf))
	// Never resent by net/http: a POST the server processed but whose
	// answer was lost would deliver its packets twice.
	req.GetBody = nil
	p.setHeader(req)
	req.Header.Set("Content-Type", postContentType)
	resp, err := p.client.Do(req)
	if err != nil {
		return p.requestError("POST", err)
	}
	defer closeBody(resp)
	if resp.StatusCode != http.StatusOK {
		return p.statusError(resp)
	}
	// The body is not checked: the official client looks only at the
	// status, and servers differ ("ok" from Node, "OK" from
	// python-socketio).
	return nil
}

// Close ends the session. Unless a request failed or the server closed the
// session, it first sends the close packet (also while paused for an
// upgrade, which the close abandons), waiting at most one second for a POST
// in flight and for its own. Then it aborts any request in flight, so that
// pending and later Read and Write calls return an error matching
// net.ErrClosed, and closes the session's connections. Close is idempotent
// and returns nil.
func (p *polling) Close() error {
	p.closeOnce.Do(func() {
		p.closing.Store(true)
		if !p.failed.Load() && !p.remoteClosed.Load() {
			p.sendClose()
		}
		p.cancel()
		p.closeIdle()
	})
	return nil
}

// Abort aborts whatever is in flight, sends nothing, and closes the
// session's connections.
func (p *polling) Abort() {
	p.closeOnce.Do(func() {
		p.closing.Store(true)
		p.cancel()
		p.closeIdle()
	})
}

// sendClose POSTs the close packet, best effort, within closeTimeout.
func (p *polling) sendClose() {
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	select {
	case p.post <- struct{}{}:
	case <-ctx.Done():
		return
	}
	defer func() { <-p.post }()
	_ = p.postBody(ctx, []packet.Frame{packet.TextFrame(packet.FrameClose, "")})
}

// requestContext returns the context of one request: cancelled with ctx, or
// when Close aborts the connection; and the function to call once the
// request is over. A request made while or after Close closed the pool
// opened it again (net/http undoes CloseIdleConnections for every new
// request), and the connection dialed for it may come back to the pool
// after it failed: that function closes the pool again then.
func (p *polling) requestContext(ctx context.Context) (context.Context, func()) {
	if ctx.Done() == nil {
		// Only Close ends the request (the reader's polls, the writer's
		// POSTs): the session's own context is the request's, and every
		// request of a session costs two contexts fewer.
		return p.life, p.closeIdleIfClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(p.life, cancel)
	return ctx, func() {
		stop()
		cancel()
		p.closeIdleIfClosed()
	}
}

// closeIdleIfClosed closes the pool again once Close has run (see
// requestContext).
func (p *polling) closeIdleIfClosed() {
	if p.life.Err() != nil {
		p.closeIdle()
	}
}

// setHeader adds the configured header to req. The values are shared with
// Config.Header, clipped so that an append cannot write into them.
func (p *polling) setHeader(req *http.Request) {
	for k, v := range p.header {
		req.Header[k] = v[:len(v):len(v)]
	}
}

// requestError marks the connection failed and classifies err: after Close,
// the request was aborted on purpose. The error names the proxy, if any.
func (p *polling) requestError(method string, err error) error {
	p.failed.Store(true)
	if p.life.Err() != nil {
		return errClosed
	}
	return fmt.Errorf("transport: polling %s%s: %w", method, p.via, err)
}

// ErrSessionUnknown is returned, wrapping the *HandshakeError, when the
// server answers a request of an established polling session with "Session
// ID unknown". Behind a load balancer that usually means the request reached
// another server than the handshake did: the balancer needs sticky sessions
// and, when they are cookie-based, the HTTP client a cookie jar. A server
// that restarted or dropped the session answers the same way.
var ErrSessionUnknown = errors.New("transport: the server does not know the session " +
	"(likely cause: a load balancer without sticky sessions, or no cookie jar in the HTTP client)")

// statusError turns a response other than 200 into an error, usually a
// *HandshakeError such as 400 {"code":1,"message":"Session ID unknown"};
// after the handshake, that one also matches ErrSessionUnknown.
func (p *polling) statusError(resp *http.Response) error {
	p.failed.Store(true)
	if err := refusal(NamePolling, resp); err != nil {
		if he, ok := err.(*HandshakeError); ok && he.Code == CodeSessionIDUnknown && p.sid != "" {
			return fmt.Errorf("%w: %w", ErrSessionUnknown, err)
		}
		return err
	}
	return &HandshakeError{
		Transport:  NamePolling,
		StatusCode: resp.StatusCode,
		Code:       -1,
		Message:    "unexpected HTTP status " + resp.Status,
	}
}

// closeBody drains (up to maxDrain bytes) and closes a response body, so
// that its connection can carry the next request.
func closeBody(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, maxDrain)
	_ = resp.Body.Close()
}

// postBody is a POST's body over the shared buffer; done is closed when the
// HTTP client closes it, after which the buffer may be reused.
type postBody struct {
	r    bytes.Reader
	once sync.Once
	done chan struct{}
}

func (b *postBody) Read(p []byte) (int, error) { return b.r.Read(p) }

func (b *postBody) Close() error {
	b.once.Do(func() { close(b.done) })
	return nil
}
