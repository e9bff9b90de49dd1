package sio

import "context"

// Dial connects to the Socket.IO server at rawURL and joins the namespace
// named by the URL's path ("/" when it has none), like the JS client's
// io(url): "http://localhost:3000/admin" joins /admin. The URL's query is
// sent with every request.
//
// Dial returns once the server has accepted the socket; a refusal is
// returned as a *ConnectError. ctx bounds connecting and joining (together
// with WithConnectTimeout) and is not kept.
//
// The socket has a connection of its own (a Manager with one socket), which
// its Close closes. To share one connection among several namespaces, use
// NewManager.
func Dial(ctx context.Context, rawURL string, opts ...Option) (*Socket, error) {
	m, nsp, err := newManager(rawURL, opts)
	if err != nil {
		return nil, err
	}
	m.private = true
	s, err := m.socket(ctx, nsp, m.cfg.socket)
	if err != nil {
		m.Close()
		return nil, err
	}
	return s, nil
}
