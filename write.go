package sio

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sio-go/sio/packet"
)

// outgoing is one item of the writer's queue: a message, or the request to
// close the connection after everything queued before it.
type outgoing struct {
	msg   packet.Message
	close bool
	gate  *gate // the sender's: the writer drops msg once gate is shut
	last  bool  // msg shuts gate: it is written, what follows it is dropped
}

// A gate lets a sender withdraw what it queued and has not been written
// yet: the writer drops every message whose gate is shut. A sender's last
// message shuts its gate as the writer takes it (so everything the sender
// queued before it is written, nothing after it), and written closes once
// that message is written. Shut may also be called by the sender itself,
// when nothing more of its is to be written.
type gate struct {
	shut    atomic.Bool
	written chan struct{} // closed once the last message has been written
	at      time.Time     // when; set before written closes
	closed  bool          // written is closed; the writer's own
}

func newGate() *gate { return &gate{written: make(chan struct{})} }

// writeLoop is the writer goroutine: the only one that writes the transport.
func (c *engineConn) writeLoop() error {
	pong := packet.TextFrame(packet.FramePong, "")
	ping := packet.TextFrame(packet.FramePing, "")
	var batch []packet.Frame
	var sent []*gate // shut by the messages in batch
	// The upgrade, until it is over: the writer then drops it.
	upg := c.upg.Load()
	for {
		if cap(batch) > 2*c.maxBatch {
			batch = nil // a burst of attachments grew it: give it back
		}
		batch, sent = batch[:0], sent[:0]
		var item outgoing
		// Heartbeats go first: a full data queue must not delay them.
		select {
		case <-c.pong:
			batch = append(batch, pong)
		case <-c.ping:
			batch = append(batch, ping)
		default:
			select {
			case <-c.ctx.Done():
				return nil
			case <-c.pong:
				batch = append(batch, pong)
			case <-c.ping:
				batch = append(batch, ping)
			case _, held := <-upg.holdChan():
				u := upg
				upg = nil // an upgrade is tried once
				if !held {
					continue // given up before the probe
				}
				if err := c.holdForProbe(u); err != nil {
					return err
				}
				continue
			case item = <-c.out:
				if item.close {
					return c.closeGracefully(batch)
				}
				batch, sent = appendItem(batch, sent, item)
			}
		}
		// Take whatever else is queued, up to a batch.
	drain:
		for len(batch) < c.maxBatch {
			select {
			case item = <-c.out:
				if item.close {
					return c.closeGracefully(batch)
				}
				batch, sent = appendItem(batch, sent, item)
			default:
				break drain
			}
		}
		c.log.packets(dirSend, batch...)
		if err := c.wtr.Write(context.Background(), batch); err != nil {
			return c.writeError(err)
		}
		now := time.Now()
		for _, g := range sent {
			if !g.closed { // a second last message of a gate: none of ours
				g.at, g.closed = now, true
				close(g.written)
			}
		}
		clear(batch) // drop references to written payloads
	}
}

// appendItem adds the frames of item's message to batch, unless its gate is
// shut, and the gate it shuts, if any, to sent.
func appendItem(batch []packet.Frame, sent []*gate, item outgoing) ([]packet.Frame, []*gate) {
	if g := item.gate; g != nil {
		if g.shut.Load() && !item.last {
			return batch, sent // withdrawn
		}
		if item.last {
			g.shut.Store(true)
			sent = append(sent, g)
		}
	}
	batch = append(batch, item.msg.Head)
	for _, a := range item.msg.Attachments {
		batch = append(batch, packet.Frame{Data: a, Binary: true, Uncompressed: item.msg.Head.Uncompressed})
	}
	return batch, sent
}

// closeGracefully writes what is left, then closes the transport the polite
// way, and ends the connection as closed by the client.
func (c *engineConn) closeGracefully(batch []packet.Frame) error {
	if len(batch) > 0 {
		c.log.packets(dirSend, batch...)
		if err := c.wtr.Write(context.Background(), batch); err != nil {
			return c.writeError(err)
		}
	}
	// Close while the context is alive: cancelling it first would make
	// the transport drop the connection instead of closing it cleanly.
	c.closing.Store(true)
	c.wtr.Close()
	return errClientClose
}

func (c *engineConn) writeError(err error) error {
	if cause := context.Cause(c.ctx); cause != nil {
		return cause
	}
	return fmt.Errorf("%w: %w", ErrTransportError, err)
}

// send queues a message for the writer. ctx bounds only the wait for room in
// the queue; the write itself belongs to the connection. The message is
// dropped unwritten if g (nil for none) is shut first; with last, it shuts g.
func (c *engineConn) send(ctx context.Context, m packet.Message, g *gate, last bool) error {
	item := outgoing{msg: m, gate: g, last: last}
	if err := c.checkSize(item.msg); err != nil {
		return err
	}
	if c.ended() {
		// Checked first: a select with both cases ready picks one at
		// random, and a message queued on an ended connection is lost.
		return c.endedError()
	}
	select {
	case c.out <- item:
		return nil
	case <-c.ctx.Done():
		return c.endedError()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// trySend is send when the writer's queue has room now; it returns
// ErrDropped otherwise.
func (c *engineConn) trySend(m packet.Message, g *gate, last bool) error {
	item := outgoing{msg: m, gate: g, last: last}
	if err := c.checkSize(item.msg); err != nil {
		return err
	}
	select {
	case c.out <- item:
		return nil
	case <-c.ctx.Done():
		return c.endedError()
	default:
		return ErrDropped
	}
}

// checkSize refuses a message with a frame over the server's maxPayload as
// the current transport encodes it (polling sends binary as base64), which
// the server would answer by dropping the connection.
func (c *engineConn) checkSize(m packet.Message) error {
	if c.maxPayload <= 0 {
		return nil
	}
	tr := c.cur.Load()
	if n := int64(tr.FrameSize(m.Head)); n > c.maxPayload {
		return fmt.Errorf("%w: a %d-byte message over %s, over the server's maxPayload of %d", ErrPayloadTooLarge, n, tr.Name(), c.maxPayload)
	}
	for _, a := range m.Attachments {
		if n := int64(tr.FrameSize(packet.Frame{Data: a, Binary: true})); n > c.maxPayload {
			return fmt.Errorf("%w: a %d-byte attachment over %s, over the server's maxPayload of %d", ErrPayloadTooLarge, n, tr.Name(), c.maxPayload)
		}
	}
	return nil
}
