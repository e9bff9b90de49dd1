package transport

import (
	"net/http"
	"slices"
)

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

// http1Only makes t, a clone, speak HTTP/1.1 alone. A clone configures
// HTTP/2 on its first request (about twenty objects and 3 KiB, every
// session and every WebSocket dial) even where HTTP/2 cannot be used: a
// WebSocket handshake is an HTTP/1.1 upgrade (net/http sends it over
// HTTP/1.1 whatever t allows), and over http:// net/http speaks HTTP/2 only
// when t enables unencrypted HTTP/2, and t is then left as it is. Its TLS
// configuration stops offering h2 too (net/http adds h2 to a transport's
// once it has used HTTP/2): a TLS proxy could agree to it.
func http1Only(t *http.Transport) {
	if t == nil || t.Protocols != nil && t.Protocols.UnencryptedHTTP2() {
		return
	}
	var p http.Protocols
	p.SetHTTP1(true)
	t.Protocols = &p
	if c := t.TLSClientConfig; c != nil && slices.Contains(c.NextProtos, "h2") {
		// c is the clone's own; its NextProtos is shared with the original.
		c.NextProtos = slices.DeleteFunc(slices.Clone(c.NextProtos), func(p string) bool { return p == "h2" })
	}
}
