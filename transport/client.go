package transport

import "net/http"

// ownClient returns the client of one polling session or one WebSocket
// dial: a copy of hc (http.DefaultClient when nil) with a clone t of its
// *http.Transport (http.DefaultTransport when nil), which the caller may
// change (corkingClient wraps its dialer) and owns, pool of idle
// connections included; and closeIdle, which the owner calls when it ends
// (a session closed, aborted or whose handshake failed; a dial that
// returned). closeIdle closes the clone's idle connections, now and
// whenever a request still in flight returns one. Nobody else uses the
// clone's pool or would close it: without closeIdle, a session that ends
// or upgrades to WebSocket would leave its last GET's and POST's keep-alive
// connections there, and a refused WebSocket handshake (or a redirect) its
// connection, each holding a file, two net/http goroutines and 8 KiB of
// buffers, for good. A WebSocket that was opened has left the pool.
//
// The clone has no IdleConnTimeout: net/http arms a timer for each idle
// connection that CloseIdleConnections does not stop, and that timer would
// keep a connection it closed, with its buffers and the clone, for the
// timeout (90 s with http.DefaultTransport) after the session upgraded or
// ended. The owner closes the pool itself, and a live session's POST
// connection is used at least once a ping interval (the pong).
//
// When hc's Transport is another RoundTripper, which cannot be cloned, it
// returns hc as it is, a nil t, and a closeIdle that does nothing: that pool
// is the caller's.
func ownClient(hc *http.Client) (c *http.Client, t *http.Transport, closeIdle func()) {
	hc, ht := clientTransport(hc)
	if ht == nil {
		return hc, nil, func() {}
	}
	t = ht.Clone()
	t.IdleConnTimeout = 0
	own := *hc
	own.Transport = t
	return &own, t, t.CloseIdleConnections
}
