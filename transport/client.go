package transport

import "net/http"

// ownTransport returns a copy of hc (http.DefaultClient when nil) with a
// clone of its *http.Transport (http.DefaultTransport when nil), which the
// caller may change and owns: its pool of idle connections is the caller's
// alone. It returns hc and nil when hc's Transport is another RoundTripper,
// which cannot be cloned.
func ownTransport(hc *http.Client) (*http.Client, *http.Transport) {
	hc, ht := clientTransport(hc)
	if ht == nil {
		return hc, nil
	}
	t := ht.Clone()
	c := *hc
	c.Transport = t
	return &c, t
}

// sessionClient returns the client of one polling session: hc with a
// transport of the session's own (see ownTransport), and a function that
// closes the connections the session leaves idle, now and whenever a
// request still in flight returns one. Without it, every session that ends
// or upgrades to WebSocket would leave its last GET's and POST's keep-alive
// connections in hc's pool, each holding a file, two goroutines and 8 KiB
// of buffers. With a RoundTripper that is not an *http.Transport, hc is
// used as it is and the function does nothing.
func sessionClient(hc *http.Client) (*http.Client, func()) {
	c, t := ownTransport(hc)
	if t == nil {
		return c, func() {}
	}
	return c, t.CloseIdleConnections
}
