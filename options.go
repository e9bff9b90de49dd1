package sio

import (
	"math"
	"net/http"
	"net/url"
	"time"

	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/transport"
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

// Transport names a way to carry Engine.IO: HTTP long-polling, WebSocket,
// or WebTransport (HTTP/3, with the nested module
// github.com/sio-go/sio/webtransport).
type Transport int

// The transports, for WithTransports.
const (
	Polling Transport = iota + 1
	WebSocket
	// WebTransport needs webtransport.Enable from the nested module
	// github.com/sio-go/sio/webtransport, which supplies its Dialer.
	WebTransport
)

func (t Transport) String() string {
	switch t {
	case Polling:
		return "polling"
	case WebSocket:
		return "websocket"
	case WebTransport:
		return "webtransport"
	}
	return "Transport(?)"
}

// Backoff is a reconnection policy: before attempt n (from 0) the Manager
// waits min(Min·2ⁿ, Max), randomised by ±Jitter (a fraction of the delay,
// 0 to 1) and never more than Max, and it makes at most Attempts attempts
// (0 means no limit). The attempt count starts again once a connection has
// been up for the server's ping interval: one that fails sooner (a server
// that accepts the handshake, then breaks the session) counts as a failed
// attempt of the same outage.
type Backoff struct {
	Min, Max time.Duration
	Jitter   float64
	Attempts int
}

// defaultBackoff is the official client's policy: 1 s doubling up to 5 s,
// ±50 %, with no limit on attempts.
func defaultBackoff() *Backoff {
	return &Backoff{Min: time.Second, Max: 5 * time.Second, Jitter: 0.5}
}

// minBackoff is the least delay between attempts, whatever the policy says,
// so that no policy turns into a busy loop.
const minBackoff = 10 * time.Millisecond

// delay returns the wait before attempt n.
func (b Backoff) delay(n int, random float64, up bool) time.Duration {
	d := float64(b.Min) * math.Pow(2, float64(n))
	if b.Jitter > 0 {
		dev := random * b.Jitter * d
		if up {
			d += dev
		} else {
			d -= dev
		}
	}
	if max := float64(b.Max); d > max || math.IsInf(d, 0) || math.IsNaN(d) {
		d = max
	}
	return max(time.Duration(d), minBackoff)
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
	// DefaultOfflineQueue bounds the emits a socket holds while it waits
	// to reconnect.
	DefaultOfflineQueue = 1024
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
	serverMax      int64 // WithServerMaxPayload; 0: defaultMaxPayload
	eio            int   // 0: detect; 3 or 4: pinned
	codec          packet.Codec
	log            *logger      // WithLogger; nil is silent
	socket         socketConfig // for the socket Dial opens

	// compressThreshold: WebSocket messages this large are compressed;
	// 0: compression off (WithCompression)
	compressThreshold int
	tryAllTransports  bool             // WithTryAllTransports
	rememberUpgrade   bool             // WithRememberUpgrade
	webTransport      transport.Dialer // WithWebTransportDialer
}

// socketConfig is what the SocketOptions of one socket set.
type socketConfig struct {
	auth         any
	queueEvents  int
	queueBytes   int64
	offlineQueue int
	retries      int
	ackTimeout   time.Duration
}

func defaultConfig() config {
	return config{
		path:           DefaultPath,
		transports:     []Transport{Polling, WebSocket},
		reconnect:      defaultBackoff(),
		connectTimeout: DefaultConnectTimeout,
		maxMessageSize: DefaultMaxMessageSize,
		maxAttachments: DefaultMaxAttachments,
		codec:          packet.JSON{},
		socket:         defaultSocketConfig(),
	}
}

func defaultSocketConfig() socketConfig {
	return socketConfig{
		queueEvents:  DefaultEventQueueEvents,
		queueBytes:   DefaultEventQueueBytes,
		offlineQueue: DefaultOfflineQueue,
	}
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
// When the Transport is an *http.Transport, each polling session and each
// WebSocket dial uses a clone of it with a pool of connections of its own,
// which it closes when done; the clone has no IdleConnTimeout (net/http's
// idle timers would keep closed connections reachable until they fired).
func WithHTTPClient(hc *http.Client) Option {
	return optionFunc(func(c *config) { c.httpClient = hc })
}

// WithTransports sets the transports to use. The default, Polling then
// WebSocket, is the JS client's: the handshake goes over long-polling, which
// every server and proxy allows, and the connection then upgrades to
// WebSocket when the server offers it. WebSocket alone connects with a
// WebSocket handshake directly; Polling alone never upgrades. When the
// server refuses the first transport ("Transport unknown"), the next one is
// tried (on any failure with WithTryAllTransports).
func WithTransports(ts ...Transport) Option {
	return optionFunc(func(c *config) { c.transports = append([]Transport(nil), ts...) })
}

// WithTryAllTransports makes a connection attempt try the next transport of
// WithTransports when one fails for any reason (a proxy that refuses
// WebSocket, an HTTP error, a network error), not only when the server
// does not offer it: the official client's tryAllTransports. When every
// transport fails, the error joins their errors (errors.Is and errors.As
// see each). It is off by default, as in the official client, since
// trying the next transport delays reporting a server that is down.
func WithTryAllTransports() Option {
	return optionFunc(func(c *config) { c.tryAllTransports = true })
}

// WithWebTransportDialer makes WebTransport usable, opened by d. It is the
// seam of the nested module github.com/sio-go/sio/webtransport, whose
// Enable option a program uses instead. Unless WithTransports lists
// WebTransport, it is tried first, before the transports listed, as the
// official client does with transports: ["webtransport", ...]. A failed
// WebTransport attempt always goes on to the next transport (a network
// that drops UDP is common), with or without WithTryAllTransports.
// There is no upgrade from polling to WebTransport.
func WithWebTransportDialer(d transport.Dialer) Option {
	return optionFunc(func(c *config) { c.webTransport = d })
}

// WithRememberUpgrade makes a reconnection open WebSocket directly, without
// the polling handshake and the upgrade, when the connection it replaces
// had upgraded to WebSocket (or was opened on it): the official client's
// rememberUpgrade, remembered per Manager rather than per process. When
// that attempt fails, the next one goes back to the order of
// WithTransports. It applies only when WithTransports lists WebSocket.
func WithRememberUpgrade() Option {
	return optionFunc(func(c *config) { c.rememberUpgrade = true })
}

// WithReconnect sets the reconnection policy. The default is the official
// client's: Backoff{Min: time.Second, Max: 5 * time.Second, Jitter: 0.5},
// with no limit on attempts. A Min of zero or less means 1 s, a Max below Min means
// Min, and Jitter is clamped to [0, 1].
func WithReconnect(b Backoff) Option {
	if b.Min <= 0 {
		b.Min = time.Second
	}
	b.Max = max(b.Max, b.Min)
	b.Jitter = min(max(b.Jitter, 0), 1)
	return optionFunc(func(c *config) { c.reconnect = &b })
}

// WithoutReconnect turns reconnection off: when the connection ends, every
// socket ends with it.
func WithoutReconnect() Option {
	return optionFunc(func(c *config) { c.reconnect = nil })
}

// WithEngineIO pins the Engine.IO protocol version: 4 for Socket.IO 3.x and
// 4.x servers, 3 for Socket.IO 2.x servers. By default the client asks for
// 4 and speaks 3 when the server shows it speaks only that; pinning skips
// the guess (and the extra handshake a 2.x server then costs).
// Manager.EngineIO tells which version a connection speaks.
func WithEngineIO(version int) Option {
	return optionFunc(func(c *config) { c.eio = version })
}

// WithConnectTimeout bounds connecting and joining a namespace when the
// context given to Dial or Manager.Socket has no earlier deadline
// (default 20 s), and each attempt of a reconnection and each namespace's
// join after it. 0 means no timeout.
func WithConnectTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.connectTimeout = d })
}

// WithMaxMessageSize bounds the size of one frame received from the server
// (default 32 MiB). A larger frame ends the connection with an error.
func WithMaxMessageSize(n int64) Option {
	return optionFunc(func(c *config) { c.maxMessageSize = n })
}

// WithServerMaxPayload states the server's limit on one message (a
// WebSocket message, or a long-polling request body) for a server whose
// handshake announces none: Socket.IO 2.x and 3.x (their maxHttpBufferSize),
// python-socketio (max_http_buffer_size) and some Go servers. Without it the
// client assumes 1e6 bytes, the default of those servers: Emit refuses a
// larger message with ErrPayloadTooLarge, and polling splits batches to fit,
// so that the server is never sent what would make it drop the connection.
// A limit the server announces (Socket.IO 4.x's maxPayload) wins over the
// stated one. Zero or less means the default.
func WithServerMaxPayload(n int64) Option {
	return optionFunc(func(c *config) { c.serverMax = n })
}

// WithMaxAttachments bounds the number of binary attachments of one received
// packet (default 10, like the official parser). A packet announcing more
// ends the connection with a parse error.
func WithMaxAttachments(n int) Option {
	return optionFunc(func(c *config) { c.maxAttachments = n })
}

// WithCodec sets the Socket.IO packet format, which must be the one the
// server's parser speaks: nothing in the handshake tells, and a server
// speaking another one drops the connection ("transport close"). The
// default is packet.JSON{}, the official socket.io-parser's. For a server
// created with parser: require("socket.io-msgpack-parser"), use
// msgpack.Codec{} from the nested module github.com/sio-go/sio/msgpack.
// A nil c means the default.
func WithCodec(c packet.Codec) Option {
	return optionFunc(func(cfg *config) {
		if c == nil {
			c = packet.JSON{}
		}
		cfg.codec = c
	})
}

// WithAuth sets the auth payload sent when the socket joins its namespace
// (the JS client's auth option). It is encoded as JSON and must encode as an
// object; a codec of another format (WithCodec) sends the same value in its
// own.
func WithAuth(auth any) interface {
	Option
	SocketOption
} {
	return bothOption(func(c *socketConfig) { c.auth = auth })
}

// WithOfflineQueueLimit bounds the emits a socket holds while it waits to
// reconnect (default 1024); past it, new emits fail with ErrQueueFull. An
// emit the queue took already, or one in flight when the connection was
// lost, is never dropped for lack of room: the queue holds at most the limit
// plus the emits that were in flight.
func WithOfflineQueueLimit(n int) interface {
	Option
	SocketOption
} {
	return bothOption(func(c *socketConfig) { c.offlineQueue = n })
}

// WithAckTimeout fails an acknowledgement that has not come d after its
// event was sent, with ErrAckTimeout (after any retries, see WithRetries).
// One timer per pending acknowledgement, stopped by the reply.
func WithAckTimeout(d time.Duration) interface {
	Option
	SocketOption
} {
	return bothOption(func(c *socketConfig) { c.ackTimeout = d })
}

// WithRetries makes EmitWithAck send an event again, with a new ack id, when
// its acknowledgement times out (WithAckTimeout) or the connection is lost
// before it came: at most n more times, in the order the events were first
// emitted (the JS client's retries option).
func WithRetries(n int) interface {
	Option
	SocketOption
} {
	return bothOption(func(c *socketConfig) { c.retries = max(n, 0) })
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
