package testserver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// closeGrace bounds how long Server.Close waits for the close handshakes it
// starts before it cuts the remaining TCP connections.
const closeGrace = time.Second

// Server is a running test server. All its methods may be called
// concurrently.
type Server struct {
	opts options
	ln   net.Listener
	hs   *http.Server
	url  string

	serveDone chan struct{} // closed when hs.Serve has returned
	ctx       context.Context
	cancel    context.CancelFunc // ends every handler's context
	wg        sync.WaitGroup     // one per WebSocket handler
	accepted  atomic.Int64

	closeOnce sync.Once
	closeErr  error

	mu       sync.Mutex
	closed   bool
	conns    map[*Conn]struct{}
	received []string
	errs     []error
	rooms    map[string]map[*nsSocket]struct{} // namespace -> joined sockets (default behaviour)
}

// Start starts a server listening on 127.0.0.1 on a random port. It needs no
// testing.T; call Close when done.
func Start(opts ...Option) (*Server, error) {
	o := defaultOptions()
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.validate(); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("testserver: listen: %w", err)
	}
	s := &Server{
		opts:      o,
		ln:        ln,
		url:       "http://" + ln.Addr().String(),
		serveDone: make(chan struct{}),
		conns:     make(map[*Conn]struct{}),
		rooms:     make(map[string]map[*nsSocket]struct{}),
	}
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

// URL returns the server's base URL, "http://127.0.0.1:PORT".
func (s *Server) URL() string { return s.url }

// Connections returns the number of Engine.IO (WebSocket) connections
// accepted so far.
func (s *Server) Connections() int { return int(s.accepted.Load()) }

// Received returns every text frame received from clients so far, over all
// connections, in the order they were read. Binary frames are recorded as
// "<binary N bytes>".
func (s *Server) Received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.received...)
}

// Err returns the errors returned by handlers (in scripted mode) or by the
// default behaviour (ErrProtocol, ErrPingTimeout, ErrMessageTooBig, wrapped)
// for the connections that have ended, joined with errors.Join; nil when there
// were none. Call it after Close to see every connection.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return errors.Join(s.errs...)
}

// Close stops the server: it closes the listener, sends a close frame (1001)
// on every WebSocket, waits up to one second for the close handshakes, then
// cuts the TCP connections that remain, cancels every handler's context and
// waits for every goroutine the server started. Close is idempotent; every
// call returns the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.shutdown() })
	return s.closeErr
}

func (s *Server) shutdown() error {
	s.mu.Lock()
	s.closed = true
	conns := make([]*Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()

	// Listener and the connections net/http still owns (not the hijacked ones).
	err := s.hs.Close()
	<-s.serveDone

	var closers sync.WaitGroup
	for _, c := range conns {
		closers.Go(func() { _ = c.ws.Close(websocket.StatusGoingAway, "server closing") })
	}
	handshakes := make(chan struct{})
	go func() { closers.Wait(); close(handshakes) }()
	t := time.NewTimer(closeGrace)
	select {
	case <-handshakes:
	case <-t.C:
	}
	t.Stop()
	s.cancel()
	for _, c := range conns {
		c.cut()
	}
	<-handshakes
	s.wg.Wait()
	return err
}

// serveHTTP validates an Engine.IO request and hands it to its transport.
// A polling transport would be dispatched here, beside serveWebSocket.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if hook := s.opts.requestHook; hook != nil {
		hook(r)
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
	switch transport {
	case "websocket":
	default:
		writeHTTPError(w, codeTransportUnknown)
		return
	}
	if q.Get("EIO") != "4" {
		writeHTTPError(w, codeUnsupportedVersion)
		return
	}
	if q.Get("sid") != "" {
		// No sessions can exist without the polling transport.
		writeHTTPError(w, codeUnknownSID)
		return
	}
	if r.Method != http.MethodGet {
		writeHTTPError(w, codeBadHandshakeMethod)
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

// record appends a frame read by any connection to Received.
func (s *Server) record(f Frame) {
	entry := f.Text
	if f.IsBinary {
		entry = fmt.Sprintf("<binary %d bytes>", len(f.Binary))
	}
	s.mu.Lock()
	s.received = append(s.received, entry)
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
