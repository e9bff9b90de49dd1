package sio

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/transport"
)

// readLoop is the reader goroutine. An idle reader waits in the transport's
// Read, called from here: everything else is done in functions of their
// own, so that this frame, which its stack holds while it waits, is small
// (see "Goroutine stacks" in doc.go).
func (c *engineConn) readLoop() error {
	for {
		f, err := c.rtr.Read(context.Background())
		if err != nil {
			return c.readFailed(err)
		}
		if err := c.handleFrame(f); err != nil {
			return err
		}
	}
}

// readFailed ends the reader on a read error: it returns the connection's
// error, or nil when polling was paused for the upgrade and a new reader
// took over.
func (c *engineConn) readFailed(err error) error {
	if !errors.Is(err, transport.ErrPaused) {
		return c.readError(err)
	}
	// Polling paused for the upgrade: wait for the WebSocket.
	u := c.upg.Load() // set: only a probe that worked pauses polling…
	if u == nil {
		// …unless the upgrade gave up waiting for this poll.
		return fmt.Errorf("%w: upgrade: the poll returned after the upgrade gave up", ErrTransportError)
	}
	close(u.readerPaused)
	select {
	case c.rtr = <-u.switchReader:
		// The upgrade is over: nothing of it is kept.
		c.upg.Store(nil)
		// Read the WebSocket on a fresh goroutine: this one's stack grew
		// deep in net/http's client while polling, and an idle goroutine
		// keeps the stack it grew to.
		c.running.Add(1)
		c.spawn((*engineConn).readLoop)
		return nil
	case <-c.ctx.Done():
		return context.Cause(c.ctx)
	}
}

// handleFrame acts on one frame the reader read.
func (c *engineConn) handleFrame(f packet.Frame) error {
	c.log.packets(dirRecv, f)
	switch f.Type() {
	case packet.FramePing:
		c.queueHeartbeat(duePong)
		if c.eio != 3 {
			c.heard()
		}
	case packet.FramePong:
		if c.eio == 3 {
			c.heard()
		}
	case packet.FrameMessage:
		if err := c.handler.handleMessage(f); err != nil {
			return fmt.Errorf("%w: %w", ErrParse, err)
		}
	case packet.FrameClose:
		return fmt.Errorf("%w: the server sent close", ErrTransportClose)
	case packet.FrameNoop:
	default:
		return fmt.Errorf("%w: unexpected %s packet", ErrParse, f.Type())
	}
	return nil
}

// heard tells the heartbeat that the server's side of it arrived.
func (c *engineConn) heard() {
	if c.pinged == nil {
		c.heardAt.Store(int64(time.Since(c.started)))
		return
	}
	select {
	case c.pinged <- struct{}{}:
	default:
	}
}

// readError classifies the error that ended the reader.
func (c *engineConn) readError(err error) error {
	if cause := context.Cause(c.ctx); cause != nil {
		return cause // another goroutine ended the connection first
	}
	if c.closing.Load() {
		return errClientClose
	}
	var ce *transport.CloseError
	switch {
	case errors.As(err, &ce), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		return fmt.Errorf("%w: %w", ErrTransportClose, err)
	case errors.Is(err, packet.ErrBadFrame), errors.Is(err, packet.ErrBadPolling), errors.Is(err, transport.ErrInvalidUTF8):
		return fmt.Errorf("%w: %w", ErrParse, err)
	}
	return fmt.Errorf("%w: %w", ErrTransportError, err)
}
