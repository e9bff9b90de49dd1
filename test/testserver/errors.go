package testserver

import (
	"encoding/json"
	"errors"
	"net/http"
)

// Errors recorded by Server.Err when the default behaviour closes a session
// on its own initiative. They are wrapped with details; test them with
// errors.Is. Over polling, Conn.Read returns the first and last of them when
// the polling transport itself closed the session.
var (
	// ErrProtocol: the client sent something the official server would reject
	// as a parse error or an invalid state (the WebSocket is closed with 1002;
	// a polling session gets "1"). Over polling it also stands for a malformed
	// POST body, a binary (application/octet-stream) one, and overlapping GETs
	// or POSTs.
	ErrProtocol = errors.New("testserver: protocol error")
	// ErrPingTimeout: no pong "3" arrived within the ping timeout (closed with
	// 1000, reason "ping timeout"; a polling session gets "1").
	ErrPingTimeout = errors.New("testserver: ping timeout")
	// ErrMessageTooBig: a WebSocket frame exceeded maxPayload (closed with
	// 1009), or a polling POST body did (HTTP 413).
	ErrMessageTooBig = errors.New("testserver: message too big")
)

// RefuseError lets a WithAuth function refuse a CONNECT with a message and
// extra data: the server answers 44{"message":Message,"data":Data} ("data" is
// left out when Data is nil).
type RefuseError struct {
	Message string
	Data    any
}

func (e *RefuseError) Error() string { return e.Message }

// connectErrorPayload is the JSON of a CONNECT_ERROR packet for err.
func connectErrorPayload(err error) []byte {
	type payload struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}
	p := payload{Message: err.Error()}
	var re *RefuseError
	if errors.As(err, &re) {
		p.Data = re.Data
	}
	b, mErr := json.Marshal(p)
	if mErr != nil {
		// Data could not be marshalled: refuse with the message alone.
		b, _ = json.Marshal(payload{Message: p.Message})
	}
	return b
}

// Engine.IO HTTP error codes, as the official server numbers them.
const (
	codeTransportUnknown   = 0
	codeUnknownSID         = 1
	codeBadHandshakeMethod = 2
	codeBadRequest         = 3
	codeUnsupportedVersion = 5
)

func httpErrorMessage(code int) string {
	switch code {
	case codeTransportUnknown:
		return "Transport unknown"
	case codeUnknownSID:
		return "Session ID unknown"
	case codeBadHandshakeMethod:
		return "Bad handshake method"
	case codeBadRequest:
		return "Bad request"
	case codeUnsupportedVersion:
		return "Unsupported protocol version"
	}
	return "Unknown error"
}

// writeHTTPError answers a bad Engine.IO request with HTTP 400 and the JSON
// body {"code":N,"message":"..."}.
func writeHTTPError(w http.ResponseWriter, code int) {
	b, _ := json.Marshal(struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}{code, httpErrorMessage(code)})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	_, _ = w.Write(b)
}
