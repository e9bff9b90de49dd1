package sio

import (
	"net/http"
	"net/url"
	"time"

	"github.com/sio-go/sio/packet"
)

// Option configures Dial and NewManager.
type Option interface {
	apply(*config)
}

// SocketOption configures one socket of a Manager (Manager.Socket). Options
// that concern a single namespace, such as WithAuth, are both an Option and a
// SocketOption.
type SocketOption interface {
	applySocket(*socketConfig)
}

// Transport names a way to carry Engine.IO: HTTP long-polling or WebSocket.
type Transport int

// The transports, for WithTransports.
const (
	Polling Transport = iota + 1
	WebSocket
)

func (t Transport) String() string {
	switch t {
	case Polling:
		return "polling"
	case WebSocket:
		return "websocket"
	}
	return "Transport(?)"
}

// Backoff is a reconnection policy: the n-th attempt waits
// min(Min·2ⁿ, Max), randomised by ±Jitter (a fraction, 0 to 1), and at most
// Attempts attempts are made (0 means no limit).
type Backoff struct {
	Min, Max time.Duration
	Jitter   float64
	Attempts int
}

// Defaults.
const (
	// DefaultPath is the Engine.IO path of the official server.
	DefaultPath = "/socket.io/"
	// DefaultMaxMessageSize bounds one frame received from the server.
	DefaultMaxMessageSize = 32 << 20
	// DefaultMaxAttachments bounds the binary attachments of one packet,
	// like the official parser's default.
	DefaultMaxAttachments = 10
	// DefaultEventQueueEvents and DefaultEventQueueBytes bound the events a
	// socket holds for a program that is not reading Events.
	DefaultEventQueueEvents = 4096
	DefaultEventQueueBytes  = 64 << 20
	// DefaultConnectTimeout bounds Dial and Manager.Socket when their
	// context has no earlier deadline.
	DefaultConnectTimeout = 20 * time.Second
)

// config is what the Options of a Manager set. It is copied, never shared.
type config struct {
	path           string
	query          url.Values
	header         http.Header
	httpClient     *http.Client
	transports     []Transport
	reconnect      *Backoff
	connectTimeout time.Duration
	maxMessageSize int64
	maxAttachments int
	codec          packet.Codec
	socket         socketConfig // for the socket Dial opens
}

// socketConfig is what the SocketOptions of one socket set.
type socketConfig struct {
	auth        any
	queueEvents int
	queueBytes  int64
}

func defaultConfig() config {
	return config{
		path:           DefaultPath,
		transports:     []Transport{WebSocket},
		connectTimeout: DefaultConnectTimeout,
		maxMessageSize: DefaultMaxMessageSize,
		maxAttachments: DefaultMaxAttachments,
		codec:          packet.JSON{},
		socket:         defaultSocketConfig(),
	}
}

func defaultSocketConfig() socketConfig {
	return socketConfig{queueEvents: DefaultEventQueueEvents, queueBytes: DefaultEventQueueBytes}
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// bothOption is an option of one socket, usable with Dial as well.
type bothOption func(*socketConfig)

func (f bothOption) apply(c *config)             { f(&c.socket) }
func (f bothOption) applySocket(c *socketConfig) { f(c) }

// WithPath sets the Engine.IO path on the server (default "/socket.io/").
func WithPath(path string) Option {
	return optionFunc(func(c *config) { c.path = path })
}

// WithQuery adds query parameters to every request and to the WebSocket URL.
// They are merged with the query of the URL given to Dial.
func WithQuery(q url.Values) Option {
	return optionFunc(func(c *config) {
		if c.query == nil {
			c.query = url.Values{}
		}
		for k, vs := range q {
			c.query[k] = append(c.query[k], vs...)
		}
	})
}

// WithHeader adds HTTP headers to every request and to the WebSocket
// handshake.
func WithHeader(h http.Header) Option {
	return optionFunc(func(c *config) {
		if c.header == nil {
			c.header = http.Header{}
		}
		for k, vs := range h {
			c.header[k] = append(c.header[k], vs...)
		}
	})
}

// WithHTTPClient sets the HTTP client used for every request: its Transport
// (TLS, proxies) and cookie Jar apply. The default is http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(c *config) { c.httpClient = hc })
}

// WithTransports sets the transports to use, in order of preference. In
// this version only WebSocket is implemented; asking for Polling makes Dial
// and Manager.Socket fail with ErrNotSupported.
func WithTransports(ts ...Transport) Option {
	return optionFunc(func(c *config) { c.transports = append([]Transport(nil), ts...) })
}

// WithReconnect sets the reconnection policy. Reconnection is not
// implemented in this version: Dial and Manager.Socket fail with
// ErrNotSupported when it is asked for.
func WithReconnect(b Backoff) Option {
	return optionFunc(func(c *config) { c.reconnect = &b })
}

// WithoutReconnect turns reconnection off: when the connection ends, every
// socket ends with it. This is the behaviour of this version.
func WithoutReconnect() Option {
	return optionFunc(func(c *config) { c.reconnect = nil })
}

// WithConnectTimeout bounds connecting and joining a namespace when the
// context given to Dial or Manager.Socket has no earlier deadline
// (default 20 s).
func WithConnectTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.connectTimeout = d })
}

// WithMaxMessageSize bounds the size of one frame received from the server
// (default 32 MiB). A larger frame ends the connection with an error.
func WithMaxMessageSize(n int64) Option {
	return optionFunc(func(c *config) { c.maxMessageSize = n })
}

// WithMaxAttachments bounds the number of binary attachments of one received
// packet (default 10, like the official parser). A packet announcing more
// ends the connection with a parse error.
func WithMaxAttachments(n int) Option {
	return optionFunc(func(c *config) { c.maxAttachments = n })
}

// WithAuth sets the auth payload sent when the socket joins its namespace
// (the JS client's auth option). It is encoded as JSON and must encode as an
// object.
func WithAuth(auth any) interface {
	Option
	SocketOption
} {
	return bothOption(func(c *socketConfig) { c.auth = auth })
}

// WithEventQueueLimit bounds what a socket holds for a program that does not
// read Events: at most events events and bytes bytes of payload (defaults
// 4096 and 64 MiB). When the program falls that far behind, the socket
// disconnects with ErrSlowConsumer rather than grow without bound or stall
// the connection.
func WithEventQueueLimit(events int, bytes int64) interface {
	Option
	SocketOption
} {
	return bothOption(func(c *socketConfig) { c.queueEvents, c.queueBytes = events, bytes })
}
