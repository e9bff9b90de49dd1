package webtransport

import (
	"bufio"
	"context"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/webtransport-go"

	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/transport"
)

const (
	// defaultReadLimit bounds one frame when Config.ReadLimit is not set.
	defaultReadLimit = 32 << 20
	// maxKeptBuffer bounds the write buffer kept between writes.
	maxKeptBuffer = 64 << 10
	// closeWriteTimeout bounds writing the close packet in Close.
	closeWriteTimeout = time.Second
)

// conn is a transport.Conn over one bidirectional stream of a WebTransport
// session. Read is called by one goroutine and Write by another; Close and
// Abort from any.
type conn struct {
	sess  *webtransport.Session
	str   *webtransport.Stream
	r     *bufio.Reader // used by Read only
	limit int64

	writeMu sync.Mutex // Write and Close's close packet
	wbuf    []byte     // under writeMu

	closeOnce sync.Once
}

func newConn(sess *webtransport.Session, str *webtransport.Stream, limit int64) *conn {
	if limit <= 0 {
		limit = defaultReadLimit
	}
	return &conn{sess: sess, str: str, r: bufio.NewReader(str), limit: limit}
}

func (c *conn) Name() string { return transport.NameWebTransport }

// FrameSize returns the bytes f takes, not counting its header: the
// server's maxHttpBufferSize bounds the packet.
func (c *conn) FrameSize(f packet.Frame) int { return len(f.Data) }

// Read returns the next frame. When ctx ends first, the stream's read side
// is given up: the connection cannot be read any more.
func (c *conn) Read(ctx context.Context) (packet.Frame, error) {
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { _ = c.str.SetReadDeadline(time.Now()) })
		defer stop()
	}
	f, err := readFrame(c.r, c.limit)
	if err != nil {
		return f, c.wrap(ctx, err)
	}
	return f, nil
}

// Write sends frames in order, in one stream write.
func (c *conn) Write(ctx context.Context, frames []packet.Frame) error {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { _ = c.str.SetWriteDeadline(time.Now()) })
		defer stop()
	}
	b := c.wbuf[:0]
	for _, f := range frames {
		b = appendFrame(b, f)
	}
	_, err := c.str.Write(b)
	clear(b) // drop the payloads' bytes
	if cap(b) <= maxKeptBuffer {
		c.wbuf = b[:0]
	} else {
		c.wbuf = nil
	}
	if err != nil {
		return c.wrap(ctx, err)
	}
	return nil
}

// Close sends the Engine.IO close packet (for at most a second), then
// closes the session. It is idempotent.
func (c *conn) Close() error {
	c.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), closeWriteTimeout)
		_ = c.Write(ctx, []packet.Frame{packet.TextFrame(packet.FrameClose, "")})
		cancel()
		_ = c.sess.CloseWithError(0, "")
	})
	return nil
}

// Abort closes the session at once, sending nothing more.
func (c *conn) Abort() {
	c.closeOnce.Do(func() { _ = c.sess.CloseWithError(0, "") })
}

// wrap classifies an error: the session closed by the server is a
// *transport.CloseError ("transport close"); a read or write given up
// because ctx ended is ctx's error; a closed session on this side is
// net.ErrClosed.
func (c *conn) wrap(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return errors.Join(ctx.Err(), err)
	}
	var se *webtransport.SessionError
	if errors.As(err, &se) {
		if se.Remote {
			return &transport.CloseError{Code: int(se.ErrorCode), Err: err}
		}
		return errors.Join(net.ErrClosed, err)
	}
	var ae *quic.ApplicationError
	if errors.As(err, &ae) && ae.Remote {
		return &transport.CloseError{Code: int(ae.ErrorCode), Err: err}
	}
	return err
}
