package testserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// Option configures a Server; see Start.
type Option func(*options)

type options struct {
	path         string
	pingInterval time.Duration
	pingTimeout  time.Duration
	maxPayload   int64
	auth         func(namespace string, auth json.RawMessage) error
	handler      Handler
	requestHook  func(r *http.Request)
	intercept    Interceptor  // see WithIntercept
	transports   []string     // "polling", "websocket"
	cookie       *http.Cookie // set on handshake responses; nil for none
}

func defaultOptions() options {
	return options{
		path:         "/socket.io/",
		pingInterval: 25 * time.Second,
		pingTimeout:  20 * time.Second,
		maxPayload:   1_000_000,
		transports:   []string{transportPolling, transportWebSocket},
	}
}

// Transport names, as in the query parameter "transport".
const (
	transportPolling   = "polling"
	transportWebSocket = "websocket"
)

// allows reports whether transport t is served.
func (o *options) allows(t string) bool { return slices.Contains(o.transports, t) }

func (o *options) validate() error {
	switch {
	case o.pingInterval <= 0:
		return errors.New("testserver: ping interval must be positive")
	case o.pingTimeout <= 0:
		return errors.New("testserver: ping timeout must be positive")
	case o.maxPayload <= 0:
		return errors.New("testserver: max payload must be positive")
	case len(o.transports) == 0:
		return errors.New("testserver: no transport enabled")
	}
	for _, t := range o.transports {
		if t != transportPolling && t != transportWebSocket {
			return fmt.Errorf("testserver: unknown transport %q", t)
		}
	}
	if o.cookie != nil {
		c := *o.cookie
		if c.Value == "" {
			c.Value = "sid"
		}
		if err := c.Valid(); err != nil {
			return fmt.Errorf("testserver: cookie: %w", err)
		}
	}
	return nil
}

// WithPath sets the path the server answers on (default "/socket.io/"). As in
// the official server, a leading and a trailing slash are added when missing,
// and every request path that starts with it is handled.
func WithPath(p string) Option {
	return func(o *options) {
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		if !strings.HasSuffix(p, "/") {
			p += "/"
		}
		o.path = p
	}
}

// WithPingInterval sets the interval between the server's pings "2" and the
// value announced in the open packet (default 25s).
func WithPingInterval(d time.Duration) Option {
	return func(o *options) { o.pingInterval = d }
}

// WithPingTimeout sets how long the server waits for a pong "3" after a ping
// before it closes the connection, and the value announced in the open packet
// (default 20s).
func WithPingTimeout(d time.Duration) Option {
	return func(o *options) { o.pingTimeout = d }
}

// WithMaxPayload sets the maxPayload announced in the open packet (default
// 1e6 bytes). In the default behaviour a WebSocket frame from the client
// larger than this closes the connection with status 1009. Over polling, a
// POST body larger than the maxPayload announced to the session gets HTTP 413
// and closes the session, in every mode.
func WithMaxPayload(n int64) Option {
	return func(o *options) { o.maxPayload = n }
}

// WithAuth installs a check run for every Socket.IO CONNECT in the default
// behaviour. auth is the CONNECT packet's JSON payload (nil when the client
// sent none). A non-nil error refuses the connection with a CONNECT_ERROR
// packet 44 carrying {"message": err.Error()}, plus "data" when err is (or
// wraps) a *RefuseError with non-nil Data. fn may be called concurrently from
// several connections.
func WithAuth(fn func(namespace string, auth json.RawMessage) error) Option {
	return func(o *options) { o.auth = fn }
}

// WithHandler switches the server to scripted mode: h runs, in its own
// goroutine, for each new Engine.IO session (each handshake, over either
// transport; an upgrade keeps the session and its handler) instead of the
// default behaviour (which h can still start with Conn.Serve). The session is
// closed when h returns: on WebSocket with status 1000 when h returned nil,
// 1011 otherwise; on polling with a close packet "1". Errors returned by h are
// collected by Server.Err.
func WithHandler(h Handler) Option {
	return func(o *options) { o.handler = h }
}

// WithRequestHook lets tests see the headers, query and cookies of every HTTP
// request the server receives, before it is validated. fn may be called
// concurrently and must not modify r.
func WithRequestHook(fn func(r *http.Request)) Option {
	return func(o *options) { o.requestHook = fn }
}

// WithTransports sets the transports served, among "polling" and "websocket"
// (default both). A request for another transport gets HTTP 400 with
// {"code":0,"message":"Transport unknown"}, and the open packet of a polling
// session offers "websocket" as an upgrade only when it is served.
func WithTransports(names ...string) Option {
	return func(o *options) { o.transports = slices.Clone(names) }
}

// WithCookie sets c on every handshake response (the first polling GET, or
// the WebSocket's 101), as engine.io's "initial_headers" event or cookie
// option would; later requests of a session get no cookie. An empty Value is
// replaced by the sid the session's default open packet carries, as
// engine.io's cookie option does. c is copied.
func WithCookie(c *http.Cookie) Option {
	return func(o *options) {
		if c == nil {
			o.cookie = nil
			return
		}
		cc := *c
		o.cookie = &cc
	}
}
