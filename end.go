package sio

import (
	"context"
	"fmt"
)

// A socket ends once, in end, for one of these reasons: the program closes
// it (leave, from Close), the server kicks it (receive.go), it falls behind
// (slowConsumer), the server refuses it on a rejoin (refused), its join or
// rejoin is given up on (join.go), or its connection ends without a
// reconnection to follow (Manager.connEnded, connLost).

// onConn reports whether the socket uses connection c.
func (s *Socket) onConn(c *sioConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn == c
}

// connLost moves a socket whose connection c ended to disconnected, to be
// joined again by the Manager's reconnection: acknowledgements it was
// waiting for fail with err, except those it may send again.
func (s *Socket) connLost(c *sioConn, err error) {
	s.mu.Lock()
	if s.abandoned && s.conn == c {
		s.mu.Unlock()
		s.end(err, true)
		return
	}
	if s.conn != c || s.state == ended || s.state == disconnected {
		s.mu.Unlock()
		return
	}
	was := s.state
	// A join in progress stays unresolved: the reconnection joins the
	// socket again, and awaitJoin waits for that.
	s.state, s.conn = disconnected, nil
	// Sent emits with retries left go back in the queue, in order.
	for id, ae := range s.resend {
		delete(s.resend, id)
		s.stopTimer(ae)
		if ae.tries <= s.cfg.retries && s.acks.Detach(id) != nil {
			s.offline.putBack(queued{seq: ae.seq, ae: ae})
		}
	}
	s.acks.FailAll(err) // under s.mu: see transmit
	s.mu.Unlock()
	if was == connected || was == flushing {
		s.m.cfg.log.socketEvent(s.nsp, Event{Type: EventDisconnect, Err: err})
		s.box.pushLifecycle(Event{Type: EventDisconnect, Err: err}, false)
	}
}

// slowConsumer disconnects a socket whose program stopped reading Events.
func (s *Socket) slowConsumer() {
	err := fmt.Errorf("%w: %d events queued", ErrSlowConsumer, s.box.maxCount)
	s.announceLeave(false)
	s.end(err, true)
}

// announceLeave tells the server the socket leaves, if it is joined (see
// sioConn.sendDisconnect for wait).
func (s *Socket) announceLeave(wait bool) {
	// Only a joined socket may leave: the official server answers a
	// DISCONNECT for a namespace it has not accepted (yet) by closing the
	// whole connection ("invalid state").
	s.mu.Lock()
	conn, g, live := s.conn, s.gate, s.state == connected || s.state == flushing
	s.mu.Unlock()
	if !live || conn == nil {
		return
	}
	conn.sendDisconnect(context.Background(), s.nsp, g, wait)
}

// end finishes the socket for good: pending and queued acknowledgements
// fail with err, and Events gets a last EventDisconnect (when the program
// saw the socket connected) and closes once it is read. With forget, the
// Manager drops the socket.
func (s *Socket) end(err error, forget bool) {
	s.mu.Lock()
	if s.state == ended {
		s.mu.Unlock()
		if forget {
			s.m.remove(s) // an abandoned rejoin, released now
		}
		return
	}
	was := s.state
	s.state, s.err = ended, err
	stop := s.stop // nil if no one made the life context: it is born cancelled
	if was == joining {
		s.resolveJoin(err)
	}
	offline := s.offline.take()
	for id, ae := range s.resend {
		delete(s.resend, id)
		s.stopTimer(ae)
	}
	s.mu.Unlock()
	// An ack timer that fired already may be resending: end its wait,
	// and wait for it.
	if stop != nil {
		stop()
	}
	s.timers.Wait()
	close(s.done)
	s.acks.Close(err)
	for _, q := range offline {
		if q.ae != nil {
			s.acks.Attach(q.ae.future) // fails it: the table is closed
		}
	}
	if was == joining && s.id == "" {
		s.box.discard() // nobody has seen this socket
	} else {
		s.m.cfg.log.socketEvent(s.nsp, Event{Type: EventDisconnect, Err: err})
		s.box.pushLifecycle(Event{Type: EventDisconnect, Err: err}, true)
	}
	if forget {
		s.m.remove(s)
	}
}

// refused ends a socket that the server refused to take back after a
// reconnection: its last event is the EventConnectError.
func (s *Socket) refused(ce *ConnectError) {
	s.box.pushLifecycle(Event{Type: EventConnectError, Err: ce}, false)
	s.end(ce, true)
}

// leave ends the socket from this side: it tells the server (when said),
// and discards undelivered events.
func (s *Socket) leave(err error, tell bool) {
	if tell {
		s.announceLeave(true)
	}
	s.end(err, true)
	s.box.discard()
}

// release records that the Manager has dropped the socket: its namespace
// is free for another (see freed). The Manager calls it once, under its
// mutex.
func (s *Socket) release() {
	if s.released != nil {
		close(s.released)
	}
}

// freed returns a channel closed once the Manager has dropped the socket.
// The Manager's mutex is held, and the socket is still registered (a
// dropped one is nobody's to wait for), so release has not run yet.
func (s *Socket) freed() <-chan struct{} {
	if s.released == nil {
		s.released = make(chan struct{})
	}
	return s.released
}

// undelivered returns the socket's mailbox while it still has events to
// deliver, nil once Events is closed.
func (s *Socket) undelivered() *mailbox {
	if s.box.isClosed() {
		return nil
	}
	return s.box
}
