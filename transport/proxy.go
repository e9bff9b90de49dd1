package transport

import (
	"net/http"
	"net/url"
)

// viaProxy returns " through proxy URL" (the URL without its password) when
// client sends a request for u through a proxy, for the errors of such
// requests: a proxy's refusal, as net/http reports it, does not say that a
// proxy answered. It returns "" when there is no proxy, or when client's
// transport is not an *http.Transport, whose choice cannot be known.
func viaProxy(client *http.Client, u *url.URL) string {
	_, t := clientTransport(client)
	if t == nil || t.Proxy == nil {
		return ""
	}
	req := &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}}
	p, err := t.Proxy(req)
	if err != nil || p == nil {
		return ""
	}
	return " through proxy " + p.Redacted()
}

// clientTransport returns hc, http.DefaultClient when it is nil, and its
// transport when that is an *http.Transport (http.DefaultTransport when it
// has none), nil when it is another RoundTripper.
func clientTransport(hc *http.Client) (*http.Client, *http.Transport) {
	if hc == nil {
		hc = http.DefaultClient
	}
	rt := hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	t, _ := rt.(*http.Transport)
	return hc, t
}
