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
// WebSocket message, text or binary. Over Engine.IO v3 a binary message
// starts with the packet type as a byte, 4 for a message.
type webSocket struct {
	c    *websocket.Conn
	v3   bool
	cork *corkConn // the TCP connection, for batching writes; nil if unknown

	buf []byte // Write's buffer for a v3 binary message, reused when small

	threshold int // messages this large are compressed; 0: compression off
}

const (
	// v3BinaryMessage is the first byte of an Engine.IO v3 binary
	// WebSocket message: the type of a message packet.
	v3BinaryMessage = byte(packet.FrameMessage)
	// maxKeptBuffer bounds the v3 Write buffer kept between messages.
	maxKeptBuffer = 64 << 10
	// maxFrameHeader is the most a WebSocket frame header takes from a
	// client: 2 bytes, 8 of extended length, 4 of mask.
	maxFrameHeader = 14
)

// DialWebSocket opens a WebSocket to the server. With an empty sid it starts
// a new Engine.IO session (the server's first frame is the open packet);
// with a sid it joins that session, as an upgrade from polling does.
//
// With Config.EIO set to 3 it speaks Engine.IO v3: a binary frame is sent
// as a binary message starting with the byte 4 (the message type), and a
// binary message received must start with it, which Read strips (another
// first byte is an error matching packet.ErrBadFrame). Text messages are
// the same in both versions. Unlike DialPolling, DialWebSocket cannot tell a
// v3 server asked for v4: the caller sees it in the open packet, which has no
// maxPayload.
func DialWebSocket(ctx context.Context, cfg Config, sid string) (Conn, error) {
	if err := checkEIO(cfg.EIO); err != nil {
		return nil, err
	}
	u := cfg.endpoint(NameWebSocket, sid)
	switch u.Scheme {
	case "http", "ws":
		u.Scheme = "ws"
	case "https", "wss":
		u.Scheme = "wss"
	default:
		return nil, fmt.Errorf("transport: unsupported URL scheme %q", u.Scheme)
	}
	hc, closeIdle, corked := corkingClient(cfg.HTTPClient)
	// hc's transport is this dial's own: a refused handshake (or a
	// redirect) left its connection in its pool, which nobody else uses.
	defer closeIdle()
	if hc.CheckRedirect == nil {
		// coder/websocket installs a CheckRedirect of its own that
		// follows any number of redirects when the client has none:
		// a redirect loop would go on until ctx ends. Keep net/http's
		// default policy.
		c := *hc
		c.CheckRedirect = maxRedirects
		hc = &c
	}
	opts := &websocket.DialOptions{HTTPClient: hc, HTTPHeader: cfg.Header}
	if cfg.CompressThreshold > 0 {
		// Without context takeover: the flate writers then go back to
		// coder/websocket's pool after each message, where context
		// takeover would keep one (hundreds of KiB) per connection.
		opts.CompressionMode = websocket.CompressionNoContextTakeover
		opts.CompressionThreshold = cfg.CompressThreshold
	}
	c, resp, err := websocket.Dial(ctx, u.String(), opts)
	if err != nil {
		if herr := refusal(NameWebSocket, resp); herr != nil {
			return nil, herr
		}
		hu := *u
		hu.Scheme = strings.Replace(u.Scheme, "ws", "http", 1)
		return nil, fmt.Errorf("transport: websocket dial%s: %w", viaProxy(hc, &hu), err)
	}
	if cfg.ReadLimit > 0 {
		c.SetReadLimit(cfg.ReadLimit)
	}
	w := &webSocket{c: c, v3: cfg.EIO == 3, threshold: cfg.CompressThreshold}
	if corked != nil {
		w.cork = corked()
	}
	return w, nil
}

// maxRedirects is net/http's default redirect policy: at most 10.
func maxRedirects(_ *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return errors.New("stopped after 10 redirects")
	}
	return nil
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
// WebSocket framing: each frame is one message holding f.Data, after the
// type byte for a binary frame over v3.
func (w *webSocket) FrameSize(f packet.Frame) int {
	if w.v3 && f.Binary {
		return 1 + len(f.Data)
	}
	return len(f.Data)
}

func (w *webSocket) Read(ctx context.Context) (packet.Frame, error) {
	if ctx.Done() != nil {
		return w.readWithin(ctx)
	}
	// c.Read would io.ReadAll the message: see readAll for why not.
	typ, r, err := w.c.Reader(ctx)
	if err != nil {
		return packet.Frame{}, w.wrap(err)
	}
	// The rest is a function of its own: an idle reader waits in Reader,
	// and the frames below it are what its goroutine's stack holds then.
	return w.readMessage(typ, r)
}

// readWithin is Read bounded by ctx. coder/websocket keeps the context of
// a message's read until the next message starts, which on an idle
// connection is the server's next ping: the upgrade's probe would keep its
// context, timer included, that long. So ctx is not handed to it; ctx's
// end closes the connection instead, as coder/websocket's own handling of
// a cancelled read does.
func (w *webSocket) readWithin(ctx context.Context) (packet.Frame, error) {
	aborted := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		w.Abort()
		close(aborted)
	})
	f, err := w.Read(context.Background())
	if !stop() {
		<-aborted // no goroutine of this call outlives it
		if err != nil {
			return packet.Frame{}, ctx.Err()
		}
	}
	return f, err
}

// readMessage reads the message that Reader returned.
func (w *webSocket) readMessage(typ websocket.MessageType, r io.Reader) (packet.Frame, error) {
	data, err := readAll(r)
	if err != nil {
		if errors.Is(err, websocket.ErrMessageTooBig) {
			// coder/websocket has sent the close frame (1009). The
			// server's could come only after the rest of the message,
			// which is what the limit refuses to read: a close
			// handshake would read it for 5 s. Cut the connection.
			_ = w.c.CloseNow()
		}
		return packet.Frame{}, w.wrap(err)
	}
	binary := typ == websocket.MessageBinary
	if !binary && !utf8.Valid(data) {
		// RFC 6455 requires text messages to be UTF-8 (the Node server's
		// ws closes with 1007 on one that is not).
		return packet.Frame{}, fmt.Errorf("%w: text message is not valid UTF-8", ErrInvalidUTF8)
	}
	if binary && w.v3 {
		if len(data) == 0 || data[0] != v3BinaryMessage {
			in := data[:min(len(data), 64)]
			return packet.Frame{}, fmt.Errorf("transport: websocket: Engine.IO v3 binary message without the message type byte 4: %w",
				&packet.DecodeError{Err: packet.ErrBadFrame, Input: string(in)})
		}
		data = data[1:]
	}
	return packet.ParseFrame(data, binary)
}

func (w *webSocket) Write(ctx context.Context, frames []packet.Frame) (err error) {
	if len(frames) > 1 && w.cork != nil {
		// One system call for the batch rather than one per message.
		size := 0
		for _, f := range frames {
			size += len(f.Data) + maxFrameHeader
		}
		w.cork.cork(size)
		defer func() {
			if uerr := w.cork.uncork(); err == nil && uerr != nil {
				err = w.wrap(uerr)
			}
		}()
	}
	for _, f := range frames {
		typ, data := websocket.MessageText, f.Data
		if f.Binary {
			typ = websocket.MessageBinary
			if w.v3 {
				// One buffer, so that the message goes out as one
				// WebSocket frame (the Writer API would fragment it).
				w.buf = append(append(w.buf[:0], v3BinaryMessage), f.Data...)
				data = w.buf
			}
		}
		var err error
		if f.Uncompressed && w.threshold > 0 && len(data) >= w.threshold {
			err = w.writeUncompressed(ctx, typ, data)
		} else {
			err = w.c.Write(ctx, typ, data)
		}
		if cap(w.buf) > maxKeptBuffer {
			w.buf = nil
		}
		if err != nil {
			return w.wrap(err)
		}
	}
	return nil
}

// writeUncompressed sends a message over the compression threshold without
// compressing it. coder/websocket has no per-message switch: its Write
// compresses every message over the threshold, and its Writer decides on
// the first Write of a message. So the first fragment is kept under the
// threshold and the message goes out as three frames (the part under the
// threshold, the rest, an empty final one), uncompressed: a few bytes of
// framing more. TestCompression (test/interop) guards this.
func (w *webSocket) writeUncompressed(ctx context.Context, typ websocket.MessageType, data []byte) error {
	mw, err := w.c.Writer(ctx, typ)
	if err != nil {
		return err
	}
	head := w.threshold - 1
	if _, err := mw.Write(data[:head]); err != nil {
		return err
	}
	if _, err := mw.Write(data[head:]); err != nil {
		return err
	}
	return mw.Close()
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

// Abort closes the TCP connection without a close handshake.
func (w *webSocket) Abort() { _ = w.c.CloseNow() }

// wrap classifies a WebSocket error: a close frame from the server becomes
// *CloseError (so that callers can tell "transport close" from "transport
// error"), and a message over the read limit matches ErrFrameTooLarge.
func (w *webSocket) wrap(err error) error {
	if errors.Is(err, websocket.ErrMessageTooBig) {
		// Over Config.ReadLimit: the same error as over polling.
		return fmt.Errorf("%w: %w", ErrFrameTooLarge, err)
	}
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
