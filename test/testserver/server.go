package testserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// closeGrace bounds how long Server.Close waits for the close handshakes and
// the answered long-polls it starts before it cuts the remaining connections.
const closeGrace = time.Second

// Server is a running test server. All its methods may be called
// concurrently.
type Server struct {
	opts   options
	ln     net.Listener
	hs     *http.Server
	url    string
	pool   *x509.CertPool // the self-signed certificate (StartTLS); nil otherwise
	client *http.Client

	serveDone chan struct{} // closed when hs.Serve has returned
	ctx       context.Context
	cancel    context.CancelFunc // ends every handler's context
	wg        sync.WaitGroup     // handlers, WebSocket and polling requests
	accepted  atomic.Int64

	closeOnce sync.Once
	closeErr  error

	// mu is never held while taking a Conn's or a pollTransport's lock.
	mu       sync.Mutex
	closed   bool
	sessions []*Conn                           // every session, in handshake order
	live     map[*Conn]struct{}                // sessions whose handler runs
	sids     map[string]*Conn                  // routing of requests carrying a sid
	sockets  map[*wsTransport]struct{}         // accepted WebSockets not yet released
	received []string                          // see Received
	errs     []error                           // see Err
	rooms    map[string]map[*nsSocket]struct{} // namespace -> joined sockets (default behaviour)
}

// SessionInfo describes an Engine.IO session as the server saw it (see
// Server.Sessions).
type SessionInfo struct {
	// SID is the sid of the first open packet sent on the session; "" when
	// none was sent.
	SID string
	// Transport is the transport the session is on, or ended on:
	// "polling" or "websocket".
	Transport string
	// Upgraded reports a session that moved from polling to WebSocket.
	Upgraded bool
	// Query, Header and Cookies are those of the handshake request.
	Query   url.Values
	Header  http.Header
	Cookies []*http.Cookie
}

// Start starts a server listening on 127.0.0.1 on a random port. It needs no
// testing.T; call Close when done.
func Start(opts ...Option) (*Server, error) {
	return newServer(false, opts)
}

func newServer(useTLS bool, opts []Option) (*Server, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		opts:      o,
		serveDone: make(chan struct{}),
		live:      make(map[*Conn]struct{}),
		sids:      make(map[string]*Conn),
		sockets:   make(map[*wsTransport]struct{}),
		rooms:     make(map[string]map[*nsSocket]struct{}),
	}
	transport := &http.Transport{Proxy: nil}
	var tlsConf *tls.Config
	if useTLS {
		cert, pool, err := selfSigned()
		if err != nil {
			return nil, err
		}
		s.pool = pool
		// HTTP/1.1 only: WebSockets are served by hijacking the connection.
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"http/1.1"}}
		transport.TLSClientConfig = &tls.Config{RootCAs: pool.Clone()}
	}
	s.client = &http.Client{Transport: transport}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("testserver: listen: %w", err)
	}
	s.url = "http://" + ln.Addr().String()
	if tlsConf != nil {
		ln = tls.NewListener(ln, tlsConf)
		s.url = "https://" + ln.Addr().String()
	}
	s.ln = ln
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.hs = &http.Server{
		Handler:           http.HandlerFunc(s.serveHTTP),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() {
		defer close(s.serveDone)
		_ = s.hs.Serve(ln) // returns http.ErrServerClosed after Close
	}()
	return s, nil
}

// URL returns the server's base URL, "http://127.0.0.1:PORT", or
// "https://127.0.0.1:PORT" for a server started with StartTLS.
func (s *Server) URL() string { return s.url }

// Client returns an HTTP client for the server: with StartTLS it trusts the
// server's certificate. It does not follow the server's lifetime by itself,
// but Close closes its idle connections. It serves HTTP/1.1 only, so it can
// dial WebSockets (coder/websocket's DialOptions.HTTPClient).
func (s *Server) Client() *http.Client { return s.client }

// Connections returns the number of Engine.IO sessions opened so far (the
// handshakes, over either transport; an upgrade is not a new session).
func (s *Server) Connections() int { return int(s.accepted.Load()) }

// Sessions returns every session opened so far, ended ones included, in
// handshake order.
func (s *Server) Sessions() []SessionInfo {
	s.mu.Lock()
	conns := append([]*Conn(nil), s.sessions...)
	s.mu.Unlock()
	out := make([]SessionInfo, len(conns))
	for i, c := range conns {
		out[i] = c.info()
	}
	return out
}

// Received returns every packet received from clients so far, over all
// sessions, in order: over polling as each POST body arrives, over WebSocket
// as each frame is read (the upgrade probe "2probe" and "5" included). Binary
// packets are recorded as "<binary N bytes>".
func (s *Server) Received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.received...)
}

// Err returns the errors returned by handlers (in scripted mode) or by the
// default behaviour (ErrProtocol, ErrPingTimeout, ErrMessageTooBig, wrapped)
// for the sessions that have ended, joined with errors.Join; nil when there
// were none. Call it after Close to see every session.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

// Close stops the server: it closes the listener, answers every pending
// long-poll GET with a close packet "1" and ends the polling sessions, sends
// a close frame (1001) on every WebSocket, waits up to one second for the
// close handshakes and the HTTP requests in flight, then cuts the connections
// that remain, cancels every handler's context and waits for every goroutine
// the server started. Close is idempotent; every call returns the first
// call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.shutdown() })
	return s.closeErr
}

func (s *Server) shutdown() error {
	s.mu.Lock()
	s.closed = true
	live := make([]*Conn, 0, len(s.live))
	for c := range s.live {
		live = append(live, c)
	}
	sockets := make([]*wsTransport, 0, len(s.sockets))
	for t := range s.sockets {
		sockets = append(sockets, t)
	}
	s.mu.Unlock()

	deadline := time.Now().Add(closeGrace)
	// Polling sessions end at once: their pending GETs get "1", their
	// upgrades in progress are cancelled.
	for _, c := range live {
		c.end()
	}
	var closers sync.WaitGroup
	for _, t := range sockets {
		closers.Go(func() { _ = t.ws.Close(1001, "server closing") })
	}
	// The listener, then the HTTP connections once their (answered) requests
	// are done; not the hijacked ones.
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	err := s.hs.Shutdown(ctx)
	cancel()
	if err != nil {
		err = s.hs.Close()
	}
	<-s.serveDone

	handshakes := make(chan struct{})
	go func() { closers.Wait(); close(handshakes) }()
	t := time.NewTimer(time.Until(deadline))
	select {
	case <-handshakes:
	case <-t.C:
	}
	t.Stop()
	s.cancel()
	for _, t := range sockets {
		t.cutTCP()
	}
	<-handshakes
	s.wg.Wait()
	if tr, ok := s.client.Transport.(*http.Transport); ok {
		tr.CloseIdleConnections()
	}
	return err
}

// serveHTTP validates an Engine.IO request and hands it to its transport.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if hook := s.opts.requestHook; hook != nil {
		hook(r)
	}
	if s.opts.intercept != nil && s.intercept(w, r) {
		return
	}
	if !strings.HasPrefix(r.URL.Path, s.opts.path) {
		http.NotFound(w, r)
		return
	}
	// The official server checks the transport, sid, method and upgrade
	// (verify) before the version (handshake); the version is checked second
	// here so that any request with a bad EIO gets code 5.
	q := r.URL.Query()
	transport := q.Get("transport")
	if !s.opts.allows(transport) {
		writeHTTPError(w, codeTransportUnknown)
		return
	}
	if q.Get("EIO") != "4" {
		writeHTTPError(w, codeUnsupportedVersion)
		return
	}
	if sid := q.Get("sid"); sid != "" {
		c := s.lookup(sid)
		switch {
		case c == nil:
			writeHTTPError(w, codeUnknownSID)
		case transport == transportPolling:
			s.servePolling(w, r, c)
		case !isUpgrade(r):
			writeHTTPError(w, codeBadRequest) // a plain HTTP request for the WebSocket
		default:
			s.serveUpgrade(w, r, c)
		}
		return
	}
	if r.Method != http.MethodGet {
		writeHTTPError(w, codeBadHandshakeMethod)
		return
	}
	if transport == transportPolling {
		s.servePollingHandshake(w, r)
		return
	}
	if !isUpgrade(r) {
		writeHTTPError(w, codeBadRequest)
		return
	}
	s.serveWebSocket(w, r)
}

func isUpgrade(r *http.Request) bool {
	return headerHasToken(r.Header, "Connection", "upgrade") &&
		headerHasToken(r.Header, "Upgrade", "websocket")
}

func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// enter counts a request goroutine in s.wg unless the server is closing; the
// caller calls s.wg.Done when it returns true.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// admit registers a new session, and its WebSocket when t is not nil, and
// counts its handler in s.wg. It returns false when the server is closing.
func (s *Server) admit(c *Conn, t *wsTransport) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	s.sessions = append(s.sessions, c)
	s.live[c] = struct{}{}
	if t != nil {
		s.sockets[t] = struct{}{}
	}
	return true
}

// addSocket registers an accepted WebSocket for Close; false when the server
// is closing.
func (s *Server) addSocket(t *wsTransport) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.sockets[t] = struct{}{}
	return true
}

func (s *Server) removeSocket(t *wsTransport) {
	s.mu.Lock()
	delete(s.sockets, t)
	s.mu.Unlock()
}

// route makes requests carrying sid reach c. A sid already routed to another
// session is taken over.
func (s *Server) route(sid string, c *Conn) {
	s.mu.Lock()
	s.sids[sid] = c
	s.mu.Unlock()
}

// unroute forgets c's sid: later requests carrying it get "Session ID
// unknown".
func (s *Server) unroute(c *Conn, sid string) {
	s.mu.Lock()
	if s.sids[sid] == c {
		delete(s.sids, sid)
	}
	s.mu.Unlock()
}

func (s *Server) lookup(sid string) *Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sids[sid]
}

// runSession runs the handler of a new session, then closes the session.
func (s *Server) runSession(c *Conn) {
	h := s.opts.handler
	if h == nil {
		h = func(ctx context.Context, c *Conn) error { return c.Serve(ctx) }
	}
	ctx, cancel := context.WithCancel(s.ctx)
	err := runHandler(ctx, h, c)
	cancel()
	if err != nil {
		s.recordErr(fmt.Errorf("connection %d: %w", c.seq, err))
		_ = c.Close(1011, closeReason(err.Error()))
	} else {
		_ = c.Close(1000, "")
	}
	c.end()

	s.mu.Lock()
	delete(s.live, c)
	s.mu.Unlock()
	if t, ok := c.transport().(*wsTransport); ok {
		s.removeSocket(t)
	}
}

func runHandler(ctx context.Context, h Handler, c *Conn) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("testserver: handler panic: %v\n%s", v, debug.Stack())
		}
	}()
	return h(ctx, c)
}

// record appends a packet received by any session to Received.
func (s *Server) record(f Frame) {
	s.mu.Lock()
	s.received = append(s.received, f.String())
	s.mu.Unlock()
}

func (s *Server) recordErr(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

// join adds a socket to its namespace's broadcast set.
func (s *Server) join(sock *nsSocket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.rooms[sock.nsp]
	if m == nil {
		m = make(map[*nsSocket]struct{})
		s.rooms[sock.nsp] = m
	}
	m[sock] = struct{}{}
}

// leave removes a socket from its namespace's broadcast set.
func (s *Server) leave(sock *nsSocket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if m := s.rooms[sock.nsp]; m != nil {
		delete(m, sock)
		if len(m) == 0 {
			delete(s.rooms, sock.nsp)
		}
	}
}

// members returns a snapshot of the sockets joined to namespace nsp.
func (s *Server) members(nsp string) []*nsSocket {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*nsSocket, 0, len(s.rooms[nsp]))
	for sock := range s.rooms[nsp] {
		out = append(out, sock)
	}
	return out
}
