package sio

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/sio-go/sio/ack"
)

// A Socket is one namespace joined on a Manager's connection. Events from
// the server arrive on Events; Emit and EmitWithAck send.
//
// When the connection is lost and the Manager reconnects, the socket joins
// its namespace again by itself; emits made in between are queued and sent,
// in order, once it has.
//
// All methods may be called concurrently, from any number of goroutines.
// Emits made by one goroutine reach the server in the order they were made.
type Socket struct {
	m    *Manager
	nsp  string
	cfg  socketConfig
	acks ack.Table[Args]
	box  *mailbox
	done chan struct{} // closed when the socket has ended
	// released is closed when the Manager has dropped the socket: its
	// namespace is free for another. Guarded by Manager.mu; made when
	// first asked for (see freed): few sockets are ever waited for.
	released chan struct{}
	timers   sync.WaitGroup // ack timers not stopped yet; see stopTimer

	mu sync.Mutex // after Manager.mu, before mailbox.mu and s.acks (see Manager.dialMu)
	// life ends when the socket does: it bounds what the socket's own
	// goroutines (ack timers, the offline queue's flush) wait for. It is
	// made on first use (see lifeContext): an idle socket has none.
	life   context.Context
	stop   context.CancelFunc
	state  socketState
	conn   *sioConn // the connection joined or being joined
	gate   *gate    // of the current join: shut, nothing more of it is written
	id     string
	auth   json.RawMessage // sent with every CONNECT; see SetAuth
	pid    string          // connection state recovery: the session…
	offset string          // …and the offset of the last event seen
	err    error           // why the socket ended
	// The outcome of the current join, buffered, once for the caller of
	// Manager.Socket (or Dial) and once for the Manager's reconnection.
	joined   chan error
	rejoined chan error
	offline  offlineQueue // emits made while not connected, and the emit order
	resend   map[uint64]*ackEmit
	// abandoned marks a join given up on (the caller's context ended, or a
	// rejoin's connect timeout) after its
	// CONNECT went out: the socket stays registered until the server
	// answers, so that it can leave properly and a new socket for the
	// namespace does not take the answer meant for this one.
	abandoned bool
}

// socketState is where a socket is in its life.
type socketState int

const (
	joining      socketState = iota // CONNECT sent, no answer yet
	connected                       // joined; emits go straight out
	flushing                        // joined again; the offline queue is going out
	disconnected                    // connection lost, the Manager is reconnecting
	ended                           // for good
)

func newSocket(m *Manager, nsp string, cfg socketConfig, auth json.RawMessage) *Socket {
	s := &Socket{
		m:        m,
		nsp:      nsp,
		cfg:      cfg,
		auth:     auth,
		offline:  offlineQueue{limit: cfg.offlineQueue},
		box:      newMailbox(cfg.queueEvents, cfg.queueBytes),
		done:     make(chan struct{}),
		joined:   make(chan error, 1),
		rejoined: make(chan error, 1),
	}
	// A Wait given up on drops the emit's resend state (arguments, timer)
	// with its pending entry, not when the timer fires or the connection
	// drops.
	s.acks.OnWithdraw(func(id uint64) { s.forgetSent(id) })
	return s
}

// lifeContext returns the socket's life context, made on first use: a
// context derived from the Manager's costs every idle socket a few hundred
// bytes, and only an ack timer's resend or a flush after a rejoin needs
// one. Made after the socket ended, it is already cancelled.
func (s *Socket) lifeContext() context.Context {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.life == nil {
		s.life, s.stop = context.WithCancel(s.m.ctx)
		if s.state == ended {
			s.stop()
		}
	}
	return s.life
}

// Events returns the channel on which the socket delivers what happens to
// it: events the server emits (EventMessage), in the order the server sent
// them, and EventConnect, EventDisconnect and EventConnectError. The
// channel is closed once the socket has ended for good: after its final
// event has been read, or at once by Close.
//
// The socket never waits for the program to read: events that arrive while
// the program is busy are queued, up to the limits of WithEventQueueLimit,
// beyond which the socket disconnects with ErrSlowConsumer. Heartbeats are
// answered however long the program takes.
func (s *Socket) Events() <-chan Event { return s.box.ch }

// ID returns the socket's id, given by the server when it accepted the
// socket (it changes when the socket joins again after a reconnection,
// unless the server recovered the session).
func (s *Socket) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// Namespace returns the socket's namespace, such as "/" or "/admin".
func (s *Socket) Namespace() string { return s.nsp }

// Manager returns the Manager whose connection the socket uses. For a socket
// from Dial it is a private one, closed with the socket.
func (s *Socket) Manager() *Manager { return s.m }

// Connected reports whether the socket is joined to its namespace now.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == connected || s.state == flushing
}

// Done returns a channel that is closed when the socket has ended for good
// (Err then says why).
func (s *Socket) Done() <-chan struct{} { return s.done }

// Err returns why the socket ended, matching one of the disconnect reasons
// with errors.Is, or nil while it has not.
func (s *Socket) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// SetAuth replaces the auth payload sent when the socket joins its
// namespace again (after a reconnection), for credentials that expire. It
// must encode as a JSON object.
func (s *Socket) SetAuth(auth any) error {
	raw, err := encodeAuth(auth)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.auth = raw
	s.mu.Unlock()
	return nil
}

// Close leaves the namespace (sending DISCONNECT), fails pending and queued
// acknowledgements with ErrClientDisconnect, discards undelivered events and
// closes Events. A socket from Dial also closes its Manager, and Close
// returns once every goroutine of the Manager has returned. Close is
// idempotent and may be called from any goroutine; it always returns nil.
func (s *Socket) Close() error {
	if s.m.private {
		// The Manager leaves the socket, then closes the connection
		// after what is queued (the DISCONNECT included), bounded by
		// closeGrace; a socket that left first would ask the connection
		// to close without waiting, which cuts it when the writer's
		// queue is full.
		s.m.Close()
	}
	s.leave(ErrClientDisconnect, true) // for a socket the Manager had dropped
	return nil
}
