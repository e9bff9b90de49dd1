// Package transport carries Engine.IO frames between the client and a server.
//
// A Conn is one established transport connection. Engine.IO v4 defines two
// transports, HTTP long-polling and WebSocket; both, and any later one (such
// as WebTransport), implement Conn, so the Engine.IO connection above them
// does not know which one it is using.
package transport

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/sio-go/sio/packet"
)

// Names of the transports on the wire (the transport query parameter).
const (
	NamePolling      = "polling"
	NameWebSocket    = "websocket"
	NameWebTransport = "webtransport"
)

// Conn is one transport connection carrying Engine.IO frames.
//
// Read is called by one goroutine and Write by one other goroutine; Close may
// be called at any time from any goroutine, and makes pending and later Read
// and Write calls return an error.
type Conn interface {
	// Name returns the transport's wire name, such as "websocket".
	Name() string
	// Read returns the next frame from the server. The first frame of a
	// fresh handshake is the open packet.
	Read(ctx context.Context) (packet.Frame, error)
	// Write sends frames in order. A transport may put several frames in one
	// request (polling) or send each as its own message (WebSocket).
	Write(ctx context.Context, frames []packet.Frame) error
	// Close ends the connection without further frames, politely (a
	// WebSocket close handshake; an Engine.IO close packet over polling).
	// It is idempotent.
	Close() error
	// Abort ends the connection at once and sends nothing: pending and
	// later Read and Write calls return an error. Over polling the server
	// is not told, so an upgrade can drop the polling transport while the
	// session lives on over WebSocket. It is idempotent, and may follow or
	// race Close.
	Abort()
	// FrameSize returns the bytes f takes on this transport, to check it
	// against the server's maxPayload before sending.
	FrameSize(f packet.Frame) int
}

// Dialer opens a transport this package does not carry itself, for a new
// Engine.IO session: WebTransport, from the nested module
// github.com/sio-go/sio/webtransport, which keeps its QUIC dependencies out
// of the core module. The Conn it returns has sent what its transport sends
// to open a session; its first Read returns the server's open packet. A
// Dialer is used by several goroutines at once.
type Dialer interface {
	// Name returns the transport's wire name, such as "webtransport".
	Name() string
	// Dial opens the transport to the server cfg describes.
	Dial(ctx context.Context, cfg Config) (Conn, error)
}

// Config says how to reach an Engine.IO server. It is shared by every
// transport, so that adding one (or an option such as per-message
// compression) changes this struct, not the callers.
type Config struct {
	// URL is the Engine.IO endpoint with the user's query: scheme http or
	// https (ws and wss are accepted too), host, the Engine.IO path (such as
	// /socket.io/) and any query parameters to send on every request.
	URL *url.URL
	// Header is sent with every HTTP request and the WebSocket handshake.
	Header http.Header
	// HTTPClient makes the requests; nil means http.DefaultClient. Its
	// Transport, TLS settings and cookie Jar apply. When its Transport is
	// an *http.Transport, each polling session and each WebSocket dial
	// uses a clone of it, so that the connections a session or a dial
	// leaves idle are closed when it ends rather than kept in a pool
	// shared by every client (its per-host limits then apply to each
	// session).
	HTTPClient *http.Client
	// ReadLimit bounds the size of one frame read from the server. Over
	// long-polling it bounds each frame of a response body, which may hold
	// several (binary ones in base64), and the body to the limit plus
	// 16 MiB; zero or less means 32 MiB there.
	ReadLimit int64
	// MaxPayload is the server's limit on one polling request body (and
	// one WebSocket message), used when its open packet announces none, as
	// those of Socket.IO 2.x and 3.x and python-socketio do; zero or less
	// means 1e6 bytes, their default. An announced maxPayload wins.
	MaxPayload int64
	// EIO is the Engine.IO protocol version to speak: 0 or 4 for v4
	// (socket.io 3.x and 4.x servers), 3 for v3 (socket.io 2.x servers, or
	// later ones started with allowEIO3). Over v3, polling requests carry
	// b64=1 and use length-prefixed bodies, and a binary WebSocket message
	// starts with the byte 4. Other values make the Dial functions fail.
	EIO int
	// CompressThreshold, when positive, asks for per-message deflate over
	// WebSocket (permessage-deflate, used when the server accepts it): a
	// message of at least that many bytes is sent compressed, unless its
	// frame is marked Uncompressed. Zero turns compression off. Polling
	// does not use it: net/http already asks for gzip responses.
	CompressThreshold int
}

// Endpoint returns the URL of the request that opens transport (its wire
// name) for a new session (sid "") or joins session sid: the configured URL
// with EIO, transport and sid set, for a Dialer.
func (c *Config) Endpoint(transport, sid string) *url.URL { return c.endpoint(transport, sid) }

// endpoint returns the URL of one Engine.IO request: the configured URL with
// EIO, transport and, when joining an existing session, sid added. Over v3,
// a polling request also carries b64=1, so that the server sends binary
// packets as base64 in a text body; a WebSocket request must not (the server
// would then send binary messages as base64 text).
func (c *Config) endpoint(transport, sid string) *url.URL {
	u := *c.URL
	q := u.Query()
	if c.EIO == 3 {
		q.Set("EIO", "3")
		if transport == NamePolling {
			q.Set("b64", "1")
		} else {
			q.Del("b64")
		}
	} else {
		q.Set("EIO", "4")
	}
	q.Set("transport", transport)
	if sid != "" {
		q.Set("sid", sid)
	} else {
		q.Del("sid")
	}
	u.RawQuery = q.Encode()
	return &u
}

// ErrInvalidUTF8 is returned by Read for a text message that is not UTF-8.
var ErrInvalidUTF8 = errors.New("transport: invalid UTF-8")

// HandshakeError is a server's refusal of a transport request, such as
// HTTP 400 {"code":0,"message":"Transport unknown"}.
type HandshakeError struct {
	Transport  string // the transport that was refused
	StatusCode int    // the HTTP status
	Code       int    // the Engine.IO error code, -1 when the body had none
	Message    string // the Engine.IO error message, or the start of the body
}

// Engine.IO error codes found in HandshakeError.Code.
const (
	CodeTransportUnknown   = 0
	CodeSessionIDUnknown   = 1
	CodeBadHandshakeMethod = 2
	CodeBadRequest         = 3
	CodeForbidden          = 4
	CodeUnsupportedVersion = 5
)

func (e *HandshakeError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	s := fmt.Sprintf("transport: %s refused: HTTP %d: %s", e.Transport, e.StatusCode, msg)
	if e.Code >= 0 {
		s += " (code " + strconv.Itoa(e.Code) + ")"
	}
	return s
}
