package sio

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/sio-go/sio/packet"
)

// outgoing is one item of the writer's queue: a message, or an
// instruction (op) to the writer, which it follows after everything queued
// before it.
type outgoing struct {
	msg  packet.Message
	gate *gate // the sender's: the writer drops msg once gate is shut
	op   writeOp
	last bool // msg shuts gate: it is written, what follows it is dropped
}

// writeOp is what an item of the writer's queue asks for.
type writeOp uint8

const (
	opMessage writeOp = iota // write msg
	opWake                   // nothing: look at c.due, or at whether the connection ended
	opHold                   // hold still for the upgrade's probe (see holdForProbe)
	opClose                  // close the connection
)

// Bits of engineConn.due: heartbeat frames the writer is to send first.
const (
	duePong = 1 << iota // Engine.IO v4: the answer to the server's ping
	duePing             // Engine.IO v3: the client's ping
)

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

// writer is the writer goroutine's state between two writes. It lives in
// the engineConn rather than in the writer's frame, which an idle writer's
// stack holds.
type writer struct {
	batch []packet.Frame
	sent  []*gate // shut by the messages in batch
}

// writeLoop is the writer goroutine: the only one that writes the
// transport. Everything it is asked to do comes through its queue, so an
// idle writer waits on that one channel, here; the work is done in
// functions of their own, so that this frame, which its stack holds while
// it waits, is small (see "Goroutine stacks" in doc.go).
//
// A write grows the writer's stack to 4 KiB (the WebSocket library, bufio,
// the system call), and polling more, which an idle goroutine keeps. So
// when the connection looks idle (it wrote heartbeats only: a pong, over v3
// a ping; or its first batch, the CONNECTs) and after the upgrade, the
// writer hands over to a fresh writer goroutine, as the reader does at the
// upgrade, and its stack is freed: an idle connection's writer keeps the
// 2 KiB it starts with, and a busy one pays for one goroutine per ping
// interval at most.
func (c *engineConn) writeLoop() error {
	for {
		item := <-c.out
		if done, err := c.took(&item); done {
			return err
		}
	}
}

// took writes item and what is queued after it (see flush). It reports
// done when this writer goroutine ends: the connection ended (fail wakes
// the writer to see it), or the writer handed over to a fresh one.
func (c *engineConn) took(item *outgoing) (done bool, err error) {
	if c.ended() {
		return true, nil
	}
	handOver, err := c.flush(item)
	if err != nil {
		return true, err
	}
	if !handOver {
		return false, nil
	}
	c.w = writer{} // a burst's batch is not kept for the next
	c.running.Add(1)
	c.spawn((*engineConn).writeLoop)
	return true, nil
}

// flush follows first and whatever else is queued, up to maxBatch frames
// or an instruction to hold or close, and writes the batch: a pong or ping
// that is due first (a full data queue must not delay heartbeats). It
// returns errClientClose once it has written what came before a close, and
// handOver when the connection looks idle (see writeLoop).
func (c *engineConn) flush(first *outgoing) (handOver bool, err error) {
	w := &c.w
	c.appendDue()
	msgs := 0 // messages taken; the rest of the batch is heartbeats
	for item := *first; ; {
		switch item.op {
		case opMessage:
			w.batch, w.sent = appendItem(w.batch, w.sent, item)
			msgs++
		case opClose:
			c.appendDue()
			return false, c.closeGracefully()
		case opHold:
			// What came before the hold goes as it was to go; after the
			// upgrade, the stack polling grew goes.
			if err := c.write(); err != nil {
				return false, err
			}
			return true, c.holdForProbe()
		}
		if len(w.batch) >= c.maxBatch {
			break
		}
		select {
		case item = <-c.out:
			continue
		default:
		}
		break
	}
	// A wake taken above may stand for a heartbeat due since the first
	// look: it is in this batch, or it would wait for the next item.
	c.appendDue()
	// Heartbeats only, or the connection's first batch (its CONNECTs,
	// after which many a connection idles): the connection looks idle.
	handOver = len(w.batch) > 0 && (msgs == 0 || !c.wroteFirst)
	c.wroteFirst = true
	return handOver, c.write()
}

// appendDue adds the heartbeat frames that are due to the batch.
func (c *engineConn) appendDue() {
	w := &c.w
	due := c.due.Swap(0)
	if due&duePong != 0 {
		w.batch = append(w.batch, packet.TextFrame(packet.FramePong, ""))
	}
	if due&duePing != 0 {
		w.batch = append(w.batch, packet.TextFrame(packet.FramePing, ""))
	}
}

// write writes the batch, if any, and closes the gates its messages shut.
func (c *engineConn) write() error {
	w := &c.w
	if len(w.batch) == 0 {
		return nil
	}
	c.log.packets(dirSend, w.batch...)
	if err := c.wtr.Write(context.Background(), w.batch); err != nil {
		return c.writeError(err)
	}
	now := time.Now()
	for _, g := range w.sent {
		if !g.closed { // a second last message of a gate: none of ours
			g.at, g.closed = now, true
			close(g.written)
		}
	}
	clear(w.batch) // drop references to written payloads and gates
	clear(w.sent)
	w.batch, w.sent = w.batch[:0], w.sent[:0]
	if cap(w.batch) > 2*c.maxBatch {
		w.batch = nil // a burst of attachments grew it: give it back
	}
	return nil
}

// queueHeartbeat marks a heartbeat frame (duePong or duePing) for the
// writer to send first, and wakes it. It never waits.
func (c *engineConn) queueHeartbeat(frame uint32) {
	c.due.Or(frame)
	c.wake()
}

// wake makes the writer look at c.due and at whether the connection ended.
// It never waits: when the queue is full, the writer has items to take and
// looks anyway.
func (c *engineConn) wake() {
	select {
	case c.out <- outgoing{op: opWake}:
	default:
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
func (c *engineConn) closeGracefully() error {
	if err := c.write(); err != nil {
		return err
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
