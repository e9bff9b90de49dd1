package sio

import (
	"encoding/json"
	"errors"

	"github.com/sio-go/sio/transport"
)

// Reasons a socket disconnects. Event.Err of an EventDisconnect, and the
// errors returned by calls on a disconnected socket, match one of these with
// errors.Is; the underlying cause, when there is one, is wrapped too.
var (
	// ErrServerDisconnect: the server disconnected the socket ("io server
	// disconnect"), for example with socket.disconnect(). Such a socket is
	// not rejoined.
	ErrServerDisconnect = errors.New("sio: io server disconnect")
	// ErrClientDisconnect: the socket or its Manager was closed by this
	// program ("io client disconnect").
	ErrClientDisconnect = errors.New("sio: io client disconnect")
	// ErrPingTimeout: no ping came from the server within pingInterval +
	// pingTimeout ("ping timeout").
	ErrPingTimeout = errors.New("sio: ping timeout")
	// ErrTransportClose: the server closed the connection ("transport
	// close").
	ErrTransportClose = errors.New("sio: transport close")
	// ErrTransportError: the connection failed ("transport error").
	ErrTransportError = errors.New("sio: transport error")
	// ErrParse: the server sent a packet that could not be decoded ("parse
	// error"); the packet error is wrapped (see packet.DecodeError).
	ErrParse = errors.New("sio: parse error")
	// ErrSlowConsumer: the program did not read Events fast enough and the
	// socket's event queue reached its limit (see WithEventQueueLimit).
	ErrSlowConsumer = errors.New("sio: slow consumer")
)

// Errors returned by calls.
var (
	// ErrClosed is returned by calls on a socket or Manager that is closed
	// or disconnected for good.
	ErrClosed = errors.New("sio: closed")
	// ErrPayloadTooLarge is returned by Emit when a message would exceed
	// the server's maxPayload (which a server enforces by dropping the
	// connection).
	ErrPayloadTooLarge = errors.New("sio: payload too large")
	// ErrReservedEvent is returned by Emit for event names the protocol
	// reserves: connect, connect_error, disconnect, disconnecting,
	// newListener and removeListener.
	ErrReservedEvent = errors.New("sio: reserved event name")
	// ErrNoAck is returned by Event.Ack when the server did not ask for an
	// acknowledgement.
	ErrNoAck = errors.New("sio: event has no ack request")
	// ErrAlreadyAcked is returned by Event.Ack when the event was already
	// acknowledged: the server accepts one reply per request.
	ErrAlreadyAcked = errors.New("sio: event already acknowledged")
	// ErrNamespaceInUse is returned by Manager.Socket for a namespace that
	// already has an open socket on that Manager.
	ErrNamespaceInUse = errors.New("sio: namespace already has a socket")
	// ErrQueueFull is returned by emits made while the socket waits to
	// reconnect when its offline queue is full (WithOfflineQueueLimit).
	ErrQueueFull = errors.New("sio: offline queue full")
	// ErrDropped is returned by EmitVolatile when it dropped the event.
	ErrDropped = errors.New("sio: volatile event dropped")
	// ErrAckTimeout fails an acknowledgement that did not come within
	// WithAckTimeout (after the retries of WithRetries).
	ErrAckTimeout = errors.New("sio: acknowledgement timed out")
	// ErrReconnectFailed ends the sockets of a Manager that gave up
	// reconnecting (Backoff.Attempts); the last attempt's error is wrapped.
	ErrReconnectFailed = errors.New("sio: reconnection failed")
	// ErrProtocol is returned when the server speaks a protocol this client
	// does not, such as a Socket.IO 2.x server.
	ErrProtocol = errors.New("sio: unsupported server protocol")
)

// ConnectError is a server's refusal to let a socket join its namespace
// (a CONNECT_ERROR packet), as returned by Dial and Manager.Socket and
// carried by EventConnectError.
type ConnectError struct {
	Message string          // the error's message, as the server's middleware gave it
	Data    json.RawMessage // the error's data property, if any
}

func (e *ConnectError) Error() string { return "sio: connect refused: " + e.Message }

// ErrSessionUnknown: the server answered a poll of an established session
// with "Session ID unknown" (the *HandshakeError is wrapped too). Behind a
// load balancer, the likely cause is a missing sticky session or, with
// cookie-based stickiness, an HTTP client without a cookie jar (see
// WithHTTPClient).
var ErrSessionUnknown = transport.ErrSessionUnknown

// HandshakeError is a server's refusal of an Engine.IO request, such as
// HTTP 400 {"code":0,"message":"Transport unknown"}. Use errors.As to get it.
type HandshakeError = transport.HandshakeError
