package sio

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"

	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/transport"
)

// A Manager is one connection to a Socket.IO server, shared by the sockets
// of every namespace opened on it: each Socket joins its namespace over the
// Manager's single Engine.IO connection, which is opened when the first
// socket needs it.
//
// All methods may be called concurrently. Close releases everything.
type Manager struct {
	cfg    config
	tcfg   transport.Config
	codec  packet.Codec
	closed chan struct{} // closed by Close

	dialMu sync.Mutex // serialises opening the connection

	mu        sync.Mutex
	conn      *engineConn        // the latest connection, nil before the first
	sockets   map[string]*Socket // by namespace
	isClosed  bool
	closeOnce sync.Once
	// private is set for the Manager of Dial: it closes with its socket.
	private bool
}

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
	if cfg.reconnect != nil {
		return nil, "", fmt.Errorf("%w: reconnection (WithReconnect)", ErrNotSupported)
	}
	for _, t := range cfg.transports {
		if t != WebSocket {
			return nil, "", fmt.Errorf("%w: the %v transport", ErrNotSupported, t)
		}
	}
	if len(cfg.transports) == 0 {
		return nil, "", fmt.Errorf("sio: WithTransports: no transport")
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
		cfg:   cfg,
		codec: cfg.codec,
		tcfg: transport.Config{
			URL:        &eng,
			Header:     cfg.header,
			HTTPClient: cfg.httpClient,
			ReadLimit:  cfg.maxMessageSize,
		},
		closed:  make(chan struct{}),
		sockets: make(map[string]*Socket),
	}
	return m, nsp, nil
}

// Socket joins namespace (such as "/" or "/admin") over the Manager's
// connection, opening the connection if there is none, and returns once the
// server has accepted the socket. A refusal is returned as a *ConnectError.
// ctx bounds connecting and joining (and so does WithConnectTimeout); it is
// not kept.
func (m *Manager) Socket(ctx context.Context, namespace string, opts ...SocketOption) (*Socket, error) {
	scfg := defaultSocketConfig()
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
	if m.cfg.connectTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.cfg.connectTimeout)
		defer cancel()
	}
	conn, err := m.connect(ctx)
	if err != nil {
		return nil, err
	}
	s := newSocket(m, nsp, scfg)
	m.mu.Lock()
	switch {
	case m.isClosed:
		m.mu.Unlock()
		return nil, ErrClosed
	case m.sockets[nsp] != nil:
		m.mu.Unlock()
		return nil, fmt.Errorf("%w: %s", ErrNamespaceInUse, nsp)
	}
	m.sockets[nsp] = s
	m.mu.Unlock()

	if err := s.join(ctx, conn, auth); err != nil {
		m.remove(s)
		return nil, err
	}
	return s, nil
}

// encodeAuth checks the auth payload early, so that a bad one is the
// caller's error rather than a failed connection.
func encodeAuth(auth any) (any, error) {
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
func (m *Manager) connect(ctx context.Context) (*engineConn, error) {
	m.dialMu.Lock()
	defer m.dialMu.Unlock()
	m.mu.Lock()
	conn, closed := m.conn, m.isClosed
	m.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if conn != nil && !conn.ended() {
		return conn, nil
	}
	conn, err := dialEngine(ctx, &m.tcfg, m, m.codec.NewDecoder(m.cfg.maxAttachments))
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

// handleMessage decodes a Socket.IO packet and hands it to its socket. It
// runs on the connection's reader goroutine and never blocks.
func (m *Manager) handleMessage(c *engineConn, f packet.Frame) error {
	p, ok, err := c.dec.Decode(f)
	if err != nil || !ok {
		return err
	}
	m.mu.Lock()
	s := m.sockets[p.Namespace]
	m.mu.Unlock()
	if s == nil {
		return nil // a namespace this client left or never joined
	}
	return s.handle(c, p)
}

// connEnded is called once when a connection ends: every socket on it is
// disconnected for good (this version does not reconnect).
func (m *Manager) connEnded(c *engineConn, err error) {
	m.mu.Lock()
	var gone []*Socket
	for nsp, s := range m.sockets {
		if s.onConn(c) {
			gone = append(gone, s)
			delete(m.sockets, nsp)
		}
	}
	m.mu.Unlock()
	for _, s := range gone {
		s.end(err, false)
	}
}

// remove forgets a socket. When the Manager belongs to Dial and this was its
// socket, the connection closes too.
func (m *Manager) remove(s *Socket) {
	m.mu.Lock()
	if m.sockets[s.nsp] == s {
		delete(m.sockets, s.nsp)
	}
	last := m.private && len(m.sockets) == 0
	conn := m.conn
	m.mu.Unlock()
	if last && conn != nil {
		// This may run on the connection's own reader (a kick), which
		// must not wait for the connection to end: ask, don't wait.
		conn.shutdown()
	}
}

// Close disconnects every socket of the Manager (their Events channels
// close), closes the connection and waits for all of the Manager's
// goroutines to return. It is idempotent and may be called from any
// goroutine.
func (m *Manager) Close() error {
	m.closeOnce.Do(func() {
		m.mu.Lock()
		m.isClosed = true
		close(m.closed)
		conn := m.conn
		sockets := make([]*Socket, 0, len(m.sockets))
		for _, s := range m.sockets {
			sockets = append(sockets, s)
		}
		m.mu.Unlock()
		for _, s := range sockets {
			s.Close()
		}
		if conn != nil {
			conn.close()
		}
	})
	return nil
}
