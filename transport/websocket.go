package transport

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/coder/websocket"

	"github.com/sio-go/sio/packet"
)

// webSocket is a Conn over one WebSocket: each Engine.IO frame is one
// WebSocket message, text or binary.
type webSocket struct {
	c *websocket.Conn
}

// DialWebSocket opens a WebSocket to the server. With an empty sid it starts
// a new Engine.IO session (the server's first frame is the open packet);
// with a sid it joins that session, as an upgrade from polling does.
func DialWebSocket(ctx context.Context, cfg Config, sid string) (Conn, error) {
	u := cfg.endpoint(NameWebSocket, sid)
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("transport: unsupported URL scheme %q", u.Scheme)
	}
	c, resp, err := websocket.Dial(ctx, u.String(), &websocket.DialOptions{
		HTTPClient: cfg.HTTPClient,
		HTTPHeader: cfg.Header,
	})
	if err != nil {
		if herr := refusal(NameWebSocket, resp); herr != nil {
			return nil, herr
		}
		return nil, fmt.Errorf("transport: websocket dial: %w", err)
	}
	if cfg.ReadLimit > 0 {
		c.SetReadLimit(cfg.ReadLimit)
	}
	return &webSocket{c: c}, nil
}

// refusal turns a failed handshake response into a *HandshakeError, or nil
// when there was no HTTP answer to speak of.
func refusal(transport string, resp *http.Response) error {
	if resp == nil || resp.StatusCode < 300 {
		return nil
	}
	e := &HandshakeError{Transport: transport, StatusCode: resp.StatusCode, Code: -1}
	if resp.Body != nil {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		var msg struct {
			Code    *int   `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(body, &msg) == nil && msg.Code != nil {
			e.Code, e.Message = *msg.Code, msg.Message
		} else {
			e.Message = strings.TrimSpace(string(body))
		}
	}
	return e
}

func (w *webSocket) Name() string { return NameWebSocket }

// FrameSize returns the bytes f takes on the wire, not counting the
// WebSocket framing: each frame is one message holding f.Data.
func (w *webSocket) FrameSize(f packet.Frame) int { return len(f.Data) }

func (w *webSocket) Read(ctx context.Context) (packet.Frame, error) {
	typ, data, err := w.c.Read(ctx)
	if err != nil {
		return packet.Frame{}, w.wrap(err)
	}
	binary := typ == websocket.MessageBinary
	if !binary && !utf8.Valid(data) {
		// RFC 6455 requires text messages to be UTF-8 (the Node server's
		// ws closes with 1007 on one that is not).
		return packet.Frame{}, fmt.Errorf("%w: text message is not valid UTF-8", ErrInvalidUTF8)
	}
	return packet.ParseFrame(data, binary)
}

func (w *webSocket) Write(ctx context.Context, frames []packet.Frame) error {
	for _, f := range frames {
		typ := websocket.MessageText
		if f.Binary {
			typ = websocket.MessageBinary
		}
		if err := w.c.Write(ctx, typ, f.Data); err != nil {
			return w.wrap(err)
		}
	}
	return nil
}

// Close closes the WebSocket with a normal closure. It does not wait for the
// server's close frame longer than coder/websocket's handshake timeout.
func (w *webSocket) Close() error {
	err := w.c.Close(websocket.StatusNormalClosure, "")
	if err != nil && errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// wrap classifies a WebSocket error: a close frame from the server becomes
// *CloseError (so that callers can tell "transport close" from "transport
// error").
func (w *webSocket) wrap(err error) error {
	if code := websocket.CloseStatus(err); code != -1 {
		return &CloseError{Code: int(code), Err: err}
	}
	return err
}

// CloseError reports that the server closed the transport on purpose (a
// WebSocket close frame, or an Engine.IO close over polling).
type CloseError struct {
	Code int   // the WebSocket close code, or 0 when there was none
	Err  error // the underlying error
}

func (e *CloseError) Error() string {
	return fmt.Sprintf("transport: closed by server (code %d): %v", e.Code, e.Err)
}

func (e *CloseError) Unwrap() error { return e.Err }
