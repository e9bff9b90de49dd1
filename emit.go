package sio

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sio-go/sio/ack"
	"github.com/sio-go/sio/packet"
)

// ackEmit is an acknowledged emit that is encoded when it is sent, because
// its ack id is chosen then: one queued while offline, or one that may be
// sent again (WithRetries) or times out (WithAckTimeout).
type ackEmit struct {
	seq    uint64
	event  string
	args   []any
	future *ack.Future[Args]
	tries  int         // times sent
	id     uint64      // ack id of the latest send
	timer  *time.Timer // ack timeout of the latest send

	uncompressed bool // Socket.Uncompressed
}

// reserved are the event names the protocol keeps for itself.
var reserved = [...]string{"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"}

func checkEventName(event string) error {
	for _, r := range reserved {
		if event == r {
			return fmt.Errorf("%w: %q", ErrReservedEvent, event)
		}
	}
	return nil
}

// Emit sends an event with args, asking for no acknowledgement. Each
// argument is encoded as JSON, except that []byte values, anywhere in it,
// travel as binary attachments.
//
// ctx bounds only the wait for room in the send queue: once Emit returns
// nil, the event is queued and will be written unless the connection ends
// first. While the socket is disconnected and the Manager reconnects, the
// event waits in the socket's offline queue (see WithOfflineQueueLimit) and
// goes out once the socket has joined again.
//
// Emit fails with ErrClosed on a socket that has ended, with ErrQueueFull
// when the offline queue is full, and with ErrPayloadTooLarge when the
// message exceeds the server's maxPayload.
func (s *Socket) Emit(ctx context.Context, event string, args ...any) error {
	return s.emit(ctx, event, args, emitFlags{})
}

// emitFlags are the per-emit choices of Emitter (and EmitVolatile's).
type emitFlags struct {
	volatile     bool
	uncompressed bool
}

// emit sends an event that asks for no acknowledgement.
func (s *Socket) emit(ctx context.Context, event string, args []any, f emitFlags) error {
	if err := checkEventName(event); err != nil {
		return err
	}
	msg, err := s.encode(packet.Header{Type: packet.Event, Namespace: s.nsp}, event, args)
	if err != nil {
		return err
	}
	msg.Head.Uncompressed = f.uncompressed
	return s.send(ctx, msg, f.volatile)
}

// EmitVolatile sends an event like Emit when the socket can send it at once,
// and drops it otherwise (while disconnected, or when the send queue is
// full), returning ErrDropped: for data that is worthless when late.
func (s *Socket) EmitVolatile(ctx context.Context, event string, args ...any) error {
	return s.emit(ctx, event, args, emitFlags{volatile: true})
}

// EmitWithAck sends an event with args and asks the server to acknowledge
// it. The returned future resolves with the server's reply, or with an
// error: the disconnect reason when the connection is lost after the event
// was sent (unless WithRetries), ErrAckTimeout (WithAckTimeout), or the
// context's error when a Wait gives up. ctx bounds only the wait to queue the
// event, as for Emit.
//
// With WithRetries(n), the event is sent again, with a new ack id, when its
// acknowledgement times out or the connection is lost, at most n more times
// and in the order the events were first emitted.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (*ack.Future[Args], error) {
	return s.emitWithAck(ctx, event, args, emitFlags{})
}

// emitWithAck sends an event that asks for an acknowledgement.
func (s *Socket) emitWithAck(ctx context.Context, event string, args []any, fl emitFlags) (*ack.Future[Args], error) {
	if err := checkEventName(event); err != nil {
		return nil, err
	}
	if s.cfg.retries == 0 && s.cfg.ackTimeout == 0 {
		// The common case: register, encode and send, with no state kept
		// beyond the pending entry.
		s.mu.Lock()
		conn, g, direct := s.conn, s.gate, s.state == connected
		s.mu.Unlock()
		if direct {
			id, f := s.acks.Register()
			msg, err := s.encode(packet.Header{Type: packet.Event, Namespace: s.nsp, ID: id, HasID: true}, event, args)
			if err == nil {
				msg.Head.Uncompressed = fl.uncompressed
				err = conn.send(ctx, msg, g, false)
			}
			if err == nil || !s.lostConn(conn, err) {
				if err != nil {
					s.acks.Fail(id, err)
					return nil, err
				}
				return f, nil
			}
			s.acks.Detach(id) // the connection was lost meanwhile: queue it
		}
	}
	ae := &ackEmit{event: event, args: args, uncompressed: fl.uncompressed, future: ack.NewFuture[Args]()}
	if err := s.sendAckEmit(ctx, ae); err != nil {
		return nil, err
	}
	return ae.future, nil
}

// encode encodes a packet of this socket.
func (s *Socket) encode(h packet.Header, event string, args []any) (packet.Message, error) {
	msg, err := s.m.codec.Encode(h, event, args)
	if err != nil {
		return msg, fmt.Errorf("sio: encode %q: %w", event, err)
	}
	return msg, nil
}

// send sends msg now if the socket is connected and queues it otherwise
// (volatile messages are dropped instead).
func (s *Socket) send(ctx context.Context, msg packet.Message, volatile bool) error {
	s.mu.Lock()
	state, conn, g, err := s.state, s.conn, s.gate, s.err
	if state != connected && state != ended {
		defer s.mu.Unlock()
		if volatile {
			return ErrDropped
		}
		return s.offline.add(queued{msg: msg})
	}
	s.mu.Unlock()
	switch {
	case state == ended:
		return fmt.Errorf("%w: %w", ErrClosed, err)
	case volatile:
		return conn.trySend(msg, g, false)
	}
	err = conn.send(ctx, msg, g, false)
	if err != nil && s.lostConn(conn, err) {
		return s.requeue(queued{msg: msg}) // lost meanwhile: it goes back, whatever the limit
	}
	return err
}

// replyOn sends an acknowledgement in the join (identified by its gate)
// during which the server asked for it: after a reconnection, a new server
// session would not know the id.
func (s *Socket) replyOn(ctx context.Context, g *gate, msg packet.Message) error {
	s.mu.Lock()
	live := s.gate == g && (s.state == connected || s.state == flushing)
	conn, err := s.conn, s.err
	s.mu.Unlock()
	if !live {
		if err == nil {
			err = ErrTransportClose
		}
		return fmt.Errorf("%w: the connection that asked for the acknowledgement is gone: %w", ErrClosed, err)
	}
	return conn.send(ctx, msg, g, false)
}

// lostConn reports whether err says that conn ended and the socket has moved
// on (it is waiting to reconnect): the caller queues its message instead of
// failing.
func (s *Socket) lostConn(conn *sioConn, err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lostConnLocked(conn, err)
}

// lostConnLocked is lostConn with s.mu held.
func (s *Socket) lostConnLocked(conn *sioConn, err error) bool {
	if !errors.Is(err, ErrClosed) || s.state == ended {
		return false
	}
	// The socket moved on already, or will: conn has ended and the Manager
	// reconnects (connLost runs a moment after the connection fails).
	return s.conn != conn || conn.ended() && s.m.cfg.reconnect != nil
}

// requeue puts back in the offline queue, whatever its limit, an emit that
// was accepted and whose connection was lost under it.
func (s *Socket) requeue(q queued) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == ended {
		return fmt.Errorf("%w: %w", ErrClosed, s.err)
	}
	s.offline.putBack(q)
	return nil
}

// sendAckEmit sends ae now if the socket is connected, and queues it
// otherwise.
func (s *Socket) sendAckEmit(ctx context.Context, ae *ackEmit) error {
	s.mu.Lock()
	switch s.state {
	case connected:
		conn, g := s.conn, s.gate
		if ae.seq == 0 {
			ae.seq = s.offline.next()
		}
		s.mu.Unlock()
		return s.transmit(ctx, conn, g, ae)
	case ended:
		err := s.err
		s.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	defer s.mu.Unlock()
	if ae.seq != 0 {
		s.offline.putBack(queued{seq: ae.seq, ae: ae}) // a resend
		return nil
	}
	return s.offline.add(queued{ae: ae})
}

// transmit sends ae on conn, in the join of gate g, under a new ack id, with
// its timeout. When conn turns out to be lost, ae goes back to the offline
// queue and transmit returns nil; any other failure fails ae's future too
// and is returned.
func (s *Socket) transmit(ctx context.Context, conn *sioConn, g *gate, ae *ackEmit) error {
	// Attach and record together, under s.mu: connLost, which requeues
	// what it finds recorded and fails every other pending ack, must not
	// fall between the two.
	s.mu.Lock()
	id := s.acks.Attach(ae.future)
	ae.tries++
	ae.id = id
	if s.cfg.retries > 0 || s.cfg.ackTimeout > 0 {
		if s.resend == nil {
			s.resend = make(map[uint64]*ackEmit)
		}
		s.resend[id] = ae
		if s.cfg.ackTimeout > 0 {
			if s.state != ended { // end waits for s.timers: none may start after
				s.timers.Add(1)
				ae.timer = time.AfterFunc(s.cfg.ackTimeout, func() {
					defer s.timers.Done()
					s.ackTimedOut(ae, id)
				})
			}
		}
	}
	s.mu.Unlock()
	msg, err := s.encode(packet.Header{Type: packet.Event, Namespace: s.nsp, ID: id, HasID: true}, ae.event, ae.args)
	if err != nil {
		s.forgetSent(id)
		s.acks.Fail(id, err)
		return err
	}
	msg.Head.Uncompressed = ae.uncompressed
	if err := conn.send(ctx, msg, g, false); err != nil {
		return s.unsent(conn, ae, id, err)
	}
	return nil
}

// unsent undoes the send of ae under id that conn refused with err. All
// under s.mu, against connLost: when connLost took the emit first (it
// requeues or fails what it finds pending), it is left to it; otherwise,
// when conn was lost, ae goes back to the offline queue, and on any other
// error its future fails.
func (s *Socket) unsent(conn *sioConn, ae *ackEmit, id uint64, err error) error {
	err = s.m.closedErr(err)
	s.mu.Lock()
	s.forgetSentLocked(id)
	if !s.lostConnLocked(conn, err) {
		s.mu.Unlock()
		s.acks.Fail(id, err)
		return err
	}
	if s.acks.Detach(id) != nil { // nil: connLost or a reply came first
		s.offline.putBack(queued{seq: ae.seq, ae: ae})
	}
	s.mu.Unlock()
	return nil
}

// forgetSent drops the resend state of ack id, stopping its timer, and
// returns it.
func (s *Socket) forgetSent(id uint64) *ackEmit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.forgetSentLocked(id)
}

// forgetSentLocked is forgetSent with s.mu held.
func (s *Socket) forgetSentLocked(id uint64) *ackEmit {
	ae := s.resend[id]
	if ae != nil {
		delete(s.resend, id)
		s.stopTimer(ae)
	}
	return ae
}

// stopTimer stops ae's ack timer. s.mu is held. s.timers counts every
// timer from its start until it is stopped here before it fired, or its
// function has returned: end waits for that count.
func (s *Socket) stopTimer(ae *ackEmit) {
	if ae.timer != nil && ae.timer.Stop() {
		s.timers.Done()
	}
	ae.timer = nil
}

// ackTimedOut runs when the acknowledgement of ae's send under id is late:
// ae is sent again if it has tries left, and fails with ErrAckTimeout
// otherwise.
func (s *Socket) ackTimedOut(ae *ackEmit, id uint64) {
	// Under s.mu, so that connLost finds the emit either still recorded
	// (and requeues it) or detached already: never recorded no more but
	// pending still, which it would fail although it has tries left.
	s.mu.Lock()
	if s.forgetSentLocked(id) == nil {
		s.mu.Unlock()
		return // answered, or the connection was lost, meanwhile
	}
	if ae.tries > s.cfg.retries {
		s.acks.Fail(id, fmt.Errorf("%w: after %d tries", ErrAckTimeout, ae.tries))
		s.mu.Unlock()
		return
	}
	f := s.acks.Detach(id)
	s.mu.Unlock()
	if f == nil {
		return // answered just now
	}
	// Runs on the timer's own goroutine; the socket's life bounds it.
	if err := s.sendAckEmit(s.lifeContext(), ae); err != nil {
		s.failFuture(ae.future, err)
	}
}

// failFuture resolves a future that no table entry holds with err.
func (s *Socket) failFuture(f *ack.Future[Args], err error) {
	s.acks.Fail(s.acks.Attach(f), err) // Attach fails it already if the table is closed
}
