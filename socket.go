package sio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sync"
	"time"

	"github.com/sio-go/sio/ack"
	"github.com/sio-go/sio/packet"
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
	// namespace is free for another.
	released chan struct{}
	// life ends when the socket does: it bounds what the socket's own
	// goroutines (ack timers, the offline queue's flush) wait for.
	life   context.Context
	stop   context.CancelFunc
	timers sync.WaitGroup // ack timers not stopped yet; see stopTimer

	mu     sync.Mutex
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
}

func newSocket(m *Manager, nsp string, cfg socketConfig, auth json.RawMessage) *Socket {
	s := &Socket{
		m:        m,
		nsp:      nsp,
		cfg:      cfg,
		auth:     auth,
		offline:  offlineQueue{limit: cfg.offlineQueue},
		box:      newMailbox(cfg.queueEvents, cfg.queueBytes),
		done:     make(chan struct{}),
		released: make(chan struct{}),
		joined:   make(chan error, 1),
		rejoined: make(chan error, 1),
	}
	// A Wait given up on drops the emit's resend state (arguments, timer)
	// with its pending entry, not when the timer fires or the connection
	// drops.
	s.acks.OnWithdraw(func(id uint64) { s.forgetSent(id) })
	s.life, s.stop = context.WithCancel(m.ctx)
	return s
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
	if err := checkEventName(event); err != nil {
		return err
	}
	msg, err := s.encode(packet.Header{Type: packet.Event, Namespace: s.nsp}, event, args)
	if err != nil {
		return err
	}
	return s.send(ctx, msg, false)
}

// EmitVolatile sends an event like Emit when the socket can send it at once,
// and drops it otherwise (while disconnected, or when the send queue is
// full), returning ErrDropped: for data that is worthless when late.
func (s *Socket) EmitVolatile(ctx context.Context, event string, args ...any) error {
	if err := checkEventName(event); err != nil {
		return err
	}
	msg, err := s.encode(packet.Header{Type: packet.Event, Namespace: s.nsp}, event, args)
	if err != nil {
		return err
	}
	return s.send(ctx, msg, true)
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
	ae := &ackEmit{event: event, args: args, future: ack.NewFuture[Args]()}
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

// onConn reports whether the socket uses connection c.
func (s *Socket) onConn(c *sioConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn == c
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
	if err := s.sendAckEmit(s.life, ae); err != nil {
		s.failFuture(ae.future, err)
	}
}

// failFuture resolves a future that no table entry holds with err.
func (s *Socket) failFuture(f *ack.Future[Args], err error) {
	s.acks.Fail(s.acks.Attach(f), err) // Attach fails it already if the table is closed
}

// join sends the CONNECT packet on conn and waits for the server's answer.
// On failure the socket is ended.
func (s *Socket) join(ctx context.Context, conn *sioConn) error {
	if err := s.sendConnect(ctx, conn); err != nil {
		s.leave(err, true)
		return err
	}
	return s.awaitJoin(ctx)
}

// awaitJoin waits for the server's answer to the socket's CONNECT. When
// the connection is lost first and the Manager reconnects, it waits for
// the reconnection to join the socket again (connLost leaves the join
// unresolved). When ctx ends first, a join whose CONNECT is out is
// abandoned (see abandoned) rather than dropped.
func (s *Socket) awaitJoin(ctx context.Context) error {
	var err error
	select {
	case err = <-s.joined:
		if err == nil && ctx.Err() != nil {
			// Joined just as ctx ended (a select picks either when
			// both are ready): a call whose ctx has ended fails, so the
			// socket leaves again.
			err = ctx.Err()
		}
	case <-s.done:
		// Ended, maybe while it waited for the reconnection. If it had
		// joined first, the caller gets the socket all the same (as when
		// it ends a moment after this returns): its events tell the rest.
		select {
		case err = <-s.joined:
		default:
			err = s.Err()
		}
	case <-ctx.Done():
		if s.abandon(ctx.Err()) {
			return ctx.Err()
		}
		err = ctx.Err()
	}
	if err != nil {
		s.leave(err, true)
		return err
	}
	return nil
}

// abandon gives up a join whose CONNECT is out without an answer, leaving
// the socket registered until the answer comes (see abandoned). It reports
// false when there is nothing to wait for.
func (s *Socket) abandon(err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != joining || s.conn == nil || s.conn.ended() {
		return false
	}
	s.abandoned = true
	s.err = err
	return true
}

// revive takes back an abandoned join that the server has not answered
// yet, for a new Manager.Socket call of the same namespace: sending a second
// CONNECT would make the official server close the connection. It reports
// whether the socket was such a join.
func (s *Socket) revive() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.abandoned || s.state != joining {
		return false
	}
	s.abandoned, s.err = false, nil
	return true
}

// giveUpRejoin ends a socket whose rejoin on conn got no answer in time,
// with err. It stays registered, abandoned, until the answer comes (it then
// leaves) or conn ends, so that no second CONNECT for its namespace goes out
// meanwhile. It does nothing when the answer came first.
func (s *Socket) giveUpRejoin(conn *sioConn, err error) {
	s.mu.Lock()
	if s.state != joining || s.conn != conn {
		s.mu.Unlock()
		return
	}
	s.abandoned = true
	s.mu.Unlock()
	s.end(err, false)
}

// isAbandoned reports whether the socket is an abandoned join.
func (s *Socket) isAbandoned() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.abandoned
}

// sendConnect moves the socket to joining on conn and sends CONNECT with the
// auth payload (and, once the server gave one, the recovery session).
//
// A Socket.IO 2.x server (Engine.IO v3) joins the main namespace by itself
// and takes no auth object: the socket for "/" sends nothing and takes the
// server's own CONNECT, and other namespaces carry auth as their query.
func (s *Socket) sendConnect(ctx context.Context, conn *sioConn) error {
	s.mu.Lock()
	if s.state == ended {
		s.mu.Unlock()
		return ErrClosed
	}
	if conn.ended() {
		// Its connEnded may have looked for the sockets on it already:
		// one that moved to it now would wait for an answer forever.
		// Checked under s.mu, which connEnded's look takes too.
		s.mu.Unlock()
		return conn.endedError()
	}
	s.state, s.conn, s.gate = joining, conn, newGate()
	for _, ch := range []chan error{s.joined, s.rejoined} {
		select {
		case <-ch: // a stale outcome of an earlier join
		default:
		}
	}
	auth, pid, offset, g := s.auth, s.pid, s.offset, s.gate
	s.mu.Unlock()

	h := packet.Header{Type: packet.Connect, Namespace: s.nsp}
	var args []any
	if conn.eio() == 3 {
		if s.nsp == "/" {
			if len(auth) > 0 {
				return fmt.Errorf("%w: a Socket.IO 2.x server takes no auth for the main namespace (send it with WithQuery)", ErrProtocol)
			}
			if conn.rootJoinedByServer() {
				s.onConnect(conn, packet.Packet{Header: h})
			}
			return nil // the server's own CONNECT completes the join
		}
		q, err := authQuery(auth)
		if err != nil {
			return err
		}
		if q != "" {
			h.Namespace += "?" + q
		}
	} else if payload := connectPayload(auth, pid, offset); payload != nil {
		args = []any{payload}
	}
	msg, err := s.encode(h, "", args)
	if err != nil {
		return err
	}
	if err := conn.awaitLeft(ctx, s.nsp); err != nil {
		return err
	}
	return conn.send(ctx, msg, g, false)
}

// authQuery turns an auth object into the query a Socket.IO 2.x server reads
// in socket.handshake.query: strings as they are, other values as JSON.
func authQuery(auth json.RawMessage) (string, error) {
	if len(auth) == 0 {
		return "", nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(auth, &fields); err != nil {
		return "", fmt.Errorf("sio: auth: %w", err)
	}
	q := url.Values{}
	for k, raw := range fields {
		var str string
		if json.Unmarshal(raw, &str) == nil {
			q.Set(k, str)
		} else {
			q.Set(k, string(raw))
		}
	}
	return q.Encode(), nil
}

// connectPayload merges the auth object with the recovery fields the server
// expects (pid and offset) when there is a session to recover.
func connectPayload(auth json.RawMessage, pid, offset string) json.RawMessage {
	if pid == "" {
		return auth
	}
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	out := `{"pid":` + q(pid) + `,"offset":` + q(offset)
	if rest, ok := packet.ObjectMembers(auth); ok && len(rest) > 0 {
		out += "," + string(rest)
	}
	return json.RawMessage(out + "}")
}

// resolveJoin reports the outcome of a join to whoever waits for it; the
// first outcome wins.
func (s *Socket) resolveJoin(err error) {
	for _, ch := range []chan error{s.joined, s.rejoined} {
		select {
		case ch <- err:
		default:
		}
	}
}

// handle takes a packet for this socket from the connection's reader. It
// never blocks.
func (s *Socket) handle(c *sioConn, p packet.Packet) error {
	switch p.Type {
	case packet.Connect:
		s.onConnect(c, p)
	case packet.ConnectError:
		s.onConnectError(c, p)
	case packet.Disconnect:
		// The server has let the socket go: what it queued and is not
		// written yet would be a packet for a namespace not joined.
		s.mu.Lock()
		if s.conn == c && s.gate != nil {
			s.gate.shut.Store(true)
		}
		s.mu.Unlock()
		s.end(ErrServerDisconnect, true)
	case packet.Event, packet.BinaryEvent:
		ev := Event{Type: EventMessage, Name: p.Name, Args: s.args(p)}
		if p.HasID {
			s.mu.Lock()
			g := s.gate
			s.mu.Unlock()
			ev.ack = &ackRequest{socket: s, gate: g, id: p.ID}
		}
		s.trackOffset(p)
		if !s.box.push(ev) {
			s.slowConsumer()
		}
	case packet.Ack, packet.BinaryAck:
		if s.acks.Resolve(p.ID, s.args(p)) { // an unknown id is dropped
			s.forgetSent(p.ID)
		}
	}
	return nil
}

func (s *Socket) args(p packet.Packet) Args {
	return Args{elems: p.Args, attachments: p.Attachments, codec: s.m.codec}
}

// trackOffset remembers the offset a server with connection state recovery
// appends to the events it sends (their last argument, a string), to send it
// back when joining again.
func (s *Socket) trackOffset(p packet.Packet) {
	if len(p.Args) == 0 {
		return
	}
	last := p.Args[len(p.Args)-1]
	if len(last) < 2 || last[0] != '"' {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pid == "" {
		return
	}
	var off string
	if json.Unmarshal(last, &off) == nil {
		s.offset = off
	}
}

func (s *Socket) onConnect(c *sioConn, p packet.Packet) {
	// packet.StringMember rather than json.Unmarshal: this runs on the
	// connection's reader, whose stack every idle connection pays for.
	sid, _ := packet.StringMember(p.Data, "sid")
	pid, _ := packet.StringMember(p.Data, "pid")
	s.mu.Lock()
	if s.abandoned && (s.state == joining || s.state == ended) && s.conn == c {
		// Accepted after all: leave now that leaving is valid.
		err, g := s.err, s.gate
		s.mu.Unlock()
		c.leave(context.Background(), s.nsp, g, false)
		s.end(err, true)
		return
	}
	defer s.mu.Unlock()
	if s.state != joining || s.conn != c {
		return // a duplicate answer; the official client ignores it too
	}
	if sid == "" && c.eio() == 3 {
		// Socket.IO 2.x gives no sid: the id is derived from the session.
		sid = c.sid()
		if s.nsp != "/" {
			sid = s.nsp + "#" + sid
		}
	}
	if sid == "" {
		s.resolveJoin(fmt.Errorf("%w: the CONNECT reply has no sid", ErrProtocol))
		return
	}
	recovered := pid != "" && pid == s.pid
	s.id, s.pid = sid, pid
	s.state = connected
	if s.offline.len() > 0 {
		s.state = flushing // the Manager's reconnection sends the queue first
	}
	s.m.cfg.log.socketEvent(s.nsp, Event{Type: EventConnect, Recovered: recovered})
	s.box.pushLifecycle(Event{Type: EventConnect, Recovered: recovered}, false)
	s.resolveJoin(nil)
}

func (s *Socket) onConnectError(c *sioConn, p packet.Packet) {
	// CONNECT_ERROR data is an object {message, data} (v3+) or a string.
	ce := &ConnectError{}
	if msg, ok := packet.StringMember(p.Data, "message"); ok {
		ce.Message = msg
		ce.Data, _ = packet.Member(p.Data, "data")
	} else if err := json.Unmarshal(p.Data, &ce.Message); err != nil {
		ce.Message = string(p.Data)
	}
	s.m.cfg.log.socketEvent(s.nsp, Event{Type: EventConnectError, Err: ce})
	s.mu.Lock()
	abandoned := s.abandoned && (s.state == joining || s.state == ended) && s.conn == c
	if !abandoned && s.state == joining && s.conn == c {
		s.resolveJoin(ce)
	}
	err := s.err
	s.mu.Unlock()
	if abandoned {
		s.end(err, true)
	}
}

// flush sends the offline queue on conn, in order, after a rejoin, and then
// lets emits go straight out. It runs on the Manager's reconnection
// goroutine and returns early if the connection is lost again.
func (s *Socket) flush(conn *sioConn) {
	ctx := s.life
	for {
		s.mu.Lock()
		if s.conn != conn || s.state != flushing || conn.ended() {
			s.mu.Unlock()
			return
		}
		g := s.gate
		q, ok := s.offline.pop()
		if !ok {
			s.state = connected
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()

		if q.ae != nil {
			if _, _, done := q.ae.future.Result(); done {
				continue // its waiter gave up
			}
			// Requeued by transmit if conn is lost; failed if refused.
			s.transmit(ctx, conn, g, q.ae)
			continue
		}
		if err := conn.send(ctx, q.msg, g, false); err != nil && s.lostConn(conn, err) {
			s.requeue(q) // back in its place, for the next connection
			return
		}
		// A message the connection refuses (too large for this server) is
		// dropped, not retried forever.
	}
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
	s.sendDisconnect(false)
	s.end(err, true)
}

// sendDisconnect tells the server the socket leaves (see Manager.leave for
// wait).
func (s *Socket) sendDisconnect(wait bool) {
	// Only a joined socket may leave: the official server answers a
	// DISCONNECT for a namespace it has not accepted (yet) by closing the
	// whole connection ("invalid state").
	s.mu.Lock()
	conn, g, live := s.conn, s.gate, s.state == connected || s.state == flushing
	s.mu.Unlock()
	if !live || conn == nil {
		return
	}
	conn.leave(context.Background(), s.nsp, g, wait)
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
	s.stop()
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
		s.sendDisconnect(true)
	}
	s.end(err, true)
	s.box.discard()
}

// Close leaves the namespace (sending DISCONNECT), fails pending and queued
// acknowledgements with ErrClientDisconnect, discards undelivered events and
// closes Events. A socket from Dial also closes its Manager, and Close
// returns once every goroutine of the Manager has returned. Close is
// idempotent and may be called from any goroutine; it always returns nil.
func (s *Socket) Close() error {
	s.leave(ErrClientDisconnect, true)
	if s.m.private {
		s.m.Close()
	}
	return nil
}
