package sio

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/transport"
)

// A Manager is one connection to a Socket.IO server, shared by the sockets
// of every namespace opened on it: each Socket joins its namespace over the
// Manager's single Engine.IO connection, which is opened when the first
// socket needs it.
//
// When the connection is lost, the Manager reconnects with backoff (see
// WithReconnect) and every socket joins its namespace again, except those
// the server disconnected on purpose. Events tells how reconnection goes.
//
// All methods may be called concurrently. Close releases everything.
type Manager struct {
	cfg      config
	tcfg     transport.Config
	endpoint url.URL // tcfg.URL, kept here rather than as an object of its own
	codec    packet.Codec
	ctx      context.Context // cancelled by Close: bounds reconnection
	cancel   context.CancelFunc

	// eventsMu guards events, made by the first Events call or event (an
	// idle Manager that never reconnects, as most of Dial's are, needs
	// none). It is a leaf: no other lock is taken while it is held.
	eventsMu     sync.Mutex
	events       chan ManagerEvent
	eventsClosed bool // Close has run: events is closed once made

	// The lock order of the package, outermost first (a goroutine that
	// holds one may take only those after it):
	//
	//	Manager.dialMu → sioConn.rootMu → Manager.mu → Socket.mu →
	//	mailbox.mu, ack.Table's mutex
	//
	// sioConn.leftMu, engineConn.abortMu and Manager.eventsMu are leaves,
	// taken with nothing else. Only dialMu is held across a wait (the dial, bounded
	// by its context); no other lock is held across a wait on the wire,
	// on a channel the program reads, or on another goroutine.
	dialMu sync.Mutex // serialises opening the connection

	mu      sync.Mutex // after dialMu and sioConn.rootMu, before Socket.mu
	conn    *sioConn   // the latest connection, nil before the first
	sockets []*Socket  // in the order they were made, one per namespace (see lookup)
	// draining are the mailboxes of sockets that ended and left sockets
	// while the program had events still to read: Close stops them too.
	draining     []*mailbox
	isClosed     bool
	reconnecting bool // the reconnection goroutine runs
	// attempts counts the reconnection attempts of the current outage. It
	// goes back to 0 only once a connection has been healthy (see
	// engineConn.healthy): one that fails at once does not end the outage,
	// so a server that accepts and then breaks every session cannot turn
	// the backoff into a hot loop of first attempts.
	attempts  int
	loops     sync.WaitGroup // the reconnection goroutine
	closeOnce sync.Once
	// private is set for the Manager of Dial: it closes with its socket.
	private bool
	// priorWebSocket: the latest connection ended on WebSocket, so a
	// reconnection with WithRememberUpgrade opens WebSocket first. Written
	// by connEnded and by a failed dial; read by dial.
	priorWebSocket atomic.Bool
}

// managerEventBuffer is the capacity of Manager.Events: small, since every
// Manager that reconnects or is asked for Events pays for it, and the events
// come seconds apart.
const managerEventBuffer = 8

// NewManager returns a Manager for the server at rawURL (http, https, ws or
// wss; the URL's path is ignored, its query is sent on every request). It
// does no I/O: the connection is opened by the first Manager.Socket.
func NewManager(rawURL string, opts ...Option) (*Manager, error) {
	m, _, err := newManager(rawURL, opts)
	return m, err
}

// newManager also returns the namespace named by rawURL's path and the
// options' socket settings, for Dial.
func newManager(rawURL string, opts []Option) (*Manager, string, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o.apply(&cfg)
	}
	if cfg.webTransport != nil && !slices.Contains(cfg.transports, WebTransport) {
		cfg.transports = append([]Transport{WebTransport}, cfg.transports...)
	}
	for _, t := range cfg.transports {
		if t != WebSocket && t != Polling && t != WebTransport {
			return nil, "", fmt.Errorf("sio: WithTransports: unknown transport %v", t)
		}
		if t == WebTransport && cfg.webTransport == nil {
			return nil, "", fmt.Errorf("sio: WithTransports: WebTransport needs webtransport.Enable (github.com/sio-go/sio/webtransport)")
		}
	}
	if len(cfg.transports) == 0 {
		return nil, "", fmt.Errorf("sio: WithTransports: no transport")
	}
	if cfg.eio != 0 && cfg.eio != 3 && cfg.eio != 4 {
		return nil, "", fmt.Errorf("sio: WithEngineIO(%d): the versions are 3 and 4", cfg.eio)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, "", fmt.Errorf("sio: bad URL: %w", err)
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return nil, "", fmt.Errorf("sio: bad URL %q: scheme must be http, https, ws or wss", rawURL)
	}
	if u.Host == "" {
		return nil, "", fmt.Errorf("sio: bad URL %q: no host", rawURL)
	}
	nsp := u.Path
	if nsp == "" {
		nsp = "/"
	}
	eng := *u
	eng.Path = "/" + strings.Trim(cfg.path, "/") + "/"
	eng.RawPath = ""
	eng.Fragment = ""
	q := eng.Query()
	for k, vs := range cfg.query {
		q[k] = append(q[k], vs...)
	}
	eng.RawQuery = q.Encode()
	m := &Manager{
		cfg:      cfg,
		codec:    cfg.codec,
		endpoint: eng,
		tcfg: transport.Config{
			Header:     cfg.header,
			HTTPClient: cfg.httpClient,
			ReadLimit:  cfg.maxMessageSize,
			MaxPayload: cfg.serverMax,

			CompressThreshold: cfg.compressThreshold,
		},
	}
	m.tcfg.URL = &m.endpoint
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m, nsp, nil
}

// Socket joins namespace (such as "/" or "/admin") over the Manager's
// connection, opening the connection if there is none, and returns once the
// server has accepted the socket. A refusal is returned as a *ConnectError.
// ctx bounds connecting and joining (and so does WithConnectTimeout); it is
// not kept. Called while the Manager reconnects, or when the connection is
// lost after the socket's CONNECT went out, Socket waits for the
// reconnection to join the socket; opening the first connection is not
// retried (a failed dial is returned).
//
// The socket options given to NewManager (such as WithAuth or WithRetries)
// are the defaults of every socket; opts override them for this one.
func (m *Manager) Socket(ctx context.Context, namespace string, opts ...SocketOption) (*Socket, error) {
	scfg := m.cfg.socket
	for _, o := range opts {
		o.applySocket(&scfg)
	}
	return m.socket(ctx, namespace, scfg)
}

func (m *Manager) socket(ctx context.Context, nsp string, scfg socketConfig) (*Socket, error) {
	if !strings.HasPrefix(nsp, "/") {
		nsp = "/" + nsp
	}
	auth, err := encodeAuth(scfg.auth)
	if err != nil {
		return nil, err
	}
	ctx, cancel := m.connectContext(ctx)
	defer cancel()
	conn, err := m.connect(ctx)
	if err != nil {
		return nil, err
	}
	s := newSocket(m, nsp, scfg, auth)
	m.mu.Lock()
	for old := m.lookup(nsp); old != nil && !m.isClosed && old.isAbandoned(); old = m.lookup(nsp) {
		// An earlier join of this namespace was given up on after its
		// CONNECT went out. A second CONNECT would make the server close
		// the connection: take that join over if it is still waiting,
		// else wait until it has left.
		if old.revive() {
			m.mu.Unlock()
			if err := old.awaitJoin(ctx); err != nil {
				return nil, err
			}
			return old, nil
		}
		freed := old.freed()
		m.mu.Unlock()
		select {
		case <-freed:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		m.mu.Lock()
	}
	switch {
	case m.isClosed:
		m.mu.Unlock()
		return nil, ErrClosed
	case m.lookup(nsp) != nil:
		m.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrNamespaceInUse, nsp)
	}
	m.sockets = append(m.sockets, s)
	if conn == nil || conn.ended() {
		conn = m.conn
	}
	waitForReconnect := m.reconnecting && (conn == nil || conn.ended())
	if waitForReconnect {
		// The reconnection goroutine joins every waiting socket once it
		// has a connection.
		s.waitForRejoin()
	}
	m.mu.Unlock()

	if waitForReconnect {
		err = s.awaitJoin(ctx)
	} else {
		err = s.join(ctx, conn)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

// connectContext bounds connecting or joining by WithConnectTimeout, when
// it sets one: 0 means no timeout, for the first connection and every
// reconnection alike.
func (m *Manager) connectContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if m.cfg.connectTimeout > 0 {
		return context.WithTimeout(ctx, m.cfg.connectTimeout)
	}
	return context.WithCancel(ctx)
}

// encodeAuth checks the auth payload early, so that a bad one is the
// caller's error rather than a failed connection.
func encodeAuth(auth any) (json.RawMessage, error) {
	if auth == nil {
		return nil, nil
	}
	raw, err := json.Marshal(auth)
	if err != nil {
		return nil, fmt.Errorf("sio: WithAuth: %w", err)
	}
	if len(raw) == 0 || raw[0] != '{' {
		if string(raw) == "null" {
			return nil, nil
		}
		return nil, fmt.Errorf("sio: WithAuth: auth must encode as a JSON object, not %.20s", raw)
	}
	return json.RawMessage(raw), nil
}

// connect returns the live connection, opening one if there is none.
func (m *Manager) connect(ctx context.Context) (*sioConn, error) {
	m.dialMu.Lock()
	defer m.dialMu.Unlock()
	m.mu.Lock()
	conn, closed, reconnecting := m.conn, m.isClosed, m.reconnecting
	m.mu.Unlock()
	if conn != nil && conn.ended() && !closed {
		// Lost a moment ago: its connEnded hands the sockets on it to the
		// reconnection, which must start before a new connection replaces
		// it (connEnded ends the sockets of a connection replaced).
		select {
		case <-conn.done():
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		m.mu.Lock()
		closed, reconnecting = m.isClosed, m.reconnecting
		m.mu.Unlock()
	}
	switch {
	case closed:
		return nil, ErrClosed
	case conn != nil && !conn.ended():
		return conn, nil
	case reconnecting:
		return nil, nil // the reconnection goroutine will connect
	}
	conn, err := m.dial(ctx)
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	if m.isClosed {
		m.mu.Unlock()
		conn.close()
		return nil, ErrClosed
	}
	m.conn = conn
	m.mu.Unlock()
	return conn, nil
}

// EngineIO returns the Engine.IO protocol version of the Manager's current
// connection: 4 (Socket.IO 3.x and 4.x servers), 3 (Socket.IO 2.x), or 0
// when it has none.
func (m *Manager) EngineIO() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conn == nil {
		return 0
	}
	return m.conn.eio()
}

// Transport returns the transport the Manager's current connection uses:
// Polling, or WebSocket once an upgrade has completed, or WebTransport; 0
// when it has no connection.
func (m *Manager) Transport() Transport {
	m.mu.Lock()
	c := m.conn
	m.mu.Unlock()
	if c == nil || c.ended() {
		return 0
	}
	switch c.transportName() {
	case transport.NameWebSocket:
		return WebSocket
	case transport.NameWebTransport:
		return WebTransport
	}
	return Polling
}

// dial opens a new connection, WebSocket first when WithRememberUpgrade
// says so.
func (m *Manager) dial(ctx context.Context) (*sioConn, error) {
	cfg := &m.cfg
	remembered := cfg.rememberUpgrade && m.priorWebSocket.Load() && slices.Contains(cfg.transports, WebSocket)
	if remembered {
		c := *cfg
		c.transports = append([]Transport{WebSocket}, slices.DeleteFunc(slices.Clone(c.transports), func(t Transport) bool { return t == WebSocket })...)
		cfg = &c
	}
	c, err := dialSIO(ctx, m, cfg)
	if err != nil && remembered {
		m.priorWebSocket.Store(false) // as the JS client forgets it: the usual order next time
	}
	return c, err
}

// socketFor returns the socket of namespace nsp, nil when there is none.
func (m *Manager) socketFor(nsp string) *Socket {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lookup(nsp)
}

// lookup is socketFor with m.mu held. A Manager has the sockets its
// program asked for, a few namespaces, never more at the server's word: a
// slice of them, searched in order, costs an idle connection 8 bytes where
// a map's smallest table is 256 in two objects.
func (m *Manager) lookup(nsp string) *Socket {
	for _, s := range m.sockets {
		if s.nsp == nsp {
			return s
		}
	}
	return nil
}

// Events returns the channel on which the Manager reports reconnection:
// attempts, their failures, success, and giving up. It is buffered and
// lossy (an event that finds it full is dropped), and closed by Close.
func (m *Manager) Events() <-chan ManagerEvent { return m.eventsChan() }

// eventsChan returns the Events channel, making it if need be.
func (m *Manager) eventsChan() chan ManagerEvent {
	m.eventsMu.Lock()
	defer m.eventsMu.Unlock()
	if m.events == nil {
		m.events = make(chan ManagerEvent, managerEventBuffer)
		if m.eventsClosed {
			close(m.events)
		}
	}
	return m.events
}

// remove forgets a socket. When the Manager belongs to Dial and this was its
// socket, the connection closes too: here, unless the Manager is closing
// (Close closes the connection itself, waiting for what is queued).
func (m *Manager) remove(s *Socket) {
	m.mu.Lock()
	removed := m.lookup(s.nsp) == s
	if removed {
		m.sockets = slices.DeleteFunc(m.sockets, func(x *Socket) bool { return x == s })
		s.release()
		m.draining = slices.DeleteFunc(m.draining, (*mailbox).isClosed)
		if b := s.undelivered(); b != nil {
			m.draining = append(m.draining, b)
		}
	}
	// Only the call that removed the last socket asks: every call asking
	// would fill the writer's queue with requests, and shutdown cuts the
	// connection when it finds the queue full.
	last := removed && m.private && len(m.sockets) == 0 && !m.isClosed
	conn := m.conn
	m.mu.Unlock()
	if last && conn != nil {
		// This may run on the connection's own reader (a kick), which
		// must not wait for the connection to end: ask, don't wait.
		conn.shutdown()
	}
}

// Close disconnects every socket of the Manager (their Events channels
// close), stops reconnecting, closes the connection and waits for all of
// the Manager's goroutines to return; then it closes Events. It is
// idempotent and may be called from any goroutine.
func (m *Manager) Close() error {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.isClosed = true
		conn := m.conn
		sockets := slices.Clone(m.sockets)
		m.mu.Unlock()
		m.cancel()
		for _, s := range sockets {
			s.leave(ErrClientDisconnect, true)
		}
		// Sockets that ended before (kicked, refused) may still be
		// delivering their last events: stop that too. None is added
		// from now on (the sockets above left already).
		m.mu.Lock()
		draining := m.draining
		m.draining = nil
		m.mu.Unlock()
		for _, b := range draining {
			b.discard()
		}
		if conn != nil {
			conn.close()
		}
		m.loops.Wait()
		// A connection the reconnection goroutine made just before it
		// stopped is closed by rejoin; the latest one is closed here.
		m.mu.Lock()
		last := m.conn
		m.mu.Unlock()
		if last != nil && last != conn {
			last.close()
		}
		m.eventsMu.Lock()
		m.eventsClosed = true
		if m.events != nil {
			close(m.events)
		}
		m.eventsMu.Unlock()
	})
	return nil
}
