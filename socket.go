package sio

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/sio-go/sio/ack"
	"github.com/sio-go/sio/packet"
)

// A Socket is one namespace joined on a Manager's connection. Events from
// the server arrive on Events; Emit and EmitWithAck send.
//
// All methods may be called concurrently, from any number of goroutines.
// Emits made by one goroutine reach the server in the order they were made.
type Socket struct {
	m    *Manager
	nsp  string
	acks ack.Table[Args]
	box  *mailbox
	done chan struct{} // closed when the socket has ended

	mu     sync.Mutex
	state  socketState
	conn   *engineConn
	id     string
	err    error      // why the socket ended
	joined chan error // the outcome of join, buffered
}

type socketState int

const (
	joining socketState = iota
	connected
	ended
)

func newSocket(m *Manager, nsp string, cfg socketConfig) *Socket {
	return &Socket{
		m:      m,
		nsp:    nsp,
		box:    newMailbox(cfg.queueEvents, cfg.queueBytes),
		done:   make(chan struct{}),
		joined: make(chan error, 1),
	}
}

// Events returns the channel on which the socket delivers what happens to
// it: events the server emits (EventMessage), in the order the server sent
// them, and EventConnect, EventDisconnect and EventConnectError. The
// channel is closed once the socket has ended for good: after its final
// EventDisconnect has been read, or at once by Close.
//
// The socket never waits for the program to read: events that arrive while
// the program is busy are queued, up to the limits of WithEventQueueLimit,
// beyond which the socket disconnects with ErrSlowConsumer. Heartbeats are
// answered however long the program takes.
func (s *Socket) Events() <-chan Event { return s.box.ch }

// ID returns the socket's id, given by the server when it accepted the
// socket.
func (s *Socket) ID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.id
}

// Namespace returns the socket's namespace, such as "/" or "/admin".
func (s *Socket) Namespace() string { return s.nsp }

// Connected reports whether the socket is joined to its namespace now.
func (s *Socket) Connected() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == connected
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
// first. Emit fails with ErrClosed on a socket that has ended and with
// ErrPayloadTooLarge when the message exceeds the server's maxPayload.
func (s *Socket) Emit(ctx context.Context, event string, args ...any) error {
	if err := checkEventName(event); err != nil {
		return err
	}
	return s.send(ctx, packet.Header{Type: packet.Event, Namespace: s.nsp}, event, args)
}

// EmitWithAck sends an event with args and asks the server to acknowledge
// it. The returned future resolves with the server's reply, or with an
// error when the socket disconnects or closes first (the reason, with
// errors.Is) or when a Wait's context ends. ctx bounds only the wait to
// queue the event, as for Emit.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (*ack.Future[Args], error) {
	if err := checkEventName(event); err != nil {
		return nil, err
	}
	id, f := s.acks.Register()
	h := packet.Header{Type: packet.Event, Namespace: s.nsp, ID: id, HasID: true}
	if err := s.send(ctx, h, event, args); err != nil {
		s.acks.Fail(id, err)
		return nil, err
	}
	return f, nil
}

// send encodes a packet of this socket and queues it on its connection.
func (s *Socket) send(ctx context.Context, h packet.Header, event string, args []any) error {
	s.mu.Lock()
	conn, state, err := s.conn, s.state, s.err
	s.mu.Unlock()
	if state != connected {
		if err == nil {
			err = ErrClosed
		}
		return fmt.Errorf("%w: %w", ErrClosed, err)
	}
	msg, err := s.m.codec.Encode(h, event, args)
	if err != nil {
		return fmt.Errorf("sio: encode %q: %w", event, err)
	}
	return conn.send(ctx, msg)
}

// join sends the CONNECT packet and waits for the server's answer.
func (s *Socket) join(ctx context.Context, conn *engineConn, auth any) error {
	s.mu.Lock()
	s.conn = conn
	s.mu.Unlock()
	var args []any
	if auth != nil {
		args = []any{auth}
	}
	msg, err := s.m.codec.Encode(packet.Header{Type: packet.Connect, Namespace: s.nsp}, "", args)
	if err == nil {
		err = conn.send(ctx, msg)
	}
	if err == nil {
		select {
		case err = <-s.joined:
		case <-ctx.Done():
			err = ctx.Err()
		}
	}
	if err != nil {
		s.leave(err, true)
		return err
	}
	return nil
}

// resolveJoin reports the outcome of join; the first outcome wins.
func (s *Socket) resolveJoin(err error) {
	select {
	case s.joined <- err:
	default:
	}
}

// handle takes a packet for this socket from the connection's reader. It
// never blocks.
func (s *Socket) handle(c *engineConn, p packet.Packet) error {
	switch p.Type {
	case packet.Connect:
		return s.onConnect(p)
	case packet.ConnectError:
		s.onConnectError(p)
	case packet.Disconnect:
		s.end(ErrServerDisconnect, true)
	case packet.Event, packet.BinaryEvent:
		ev := Event{Type: EventMessage, Name: p.Name, Args: s.args(p)}
		if p.HasID {
			ev.ack = &ackRequest{socket: s, id: p.ID}
		}
		if !s.box.push(ev) {
			s.slowConsumer()
		}
	case packet.Ack, packet.BinaryAck:
		s.acks.Resolve(p.ID, s.args(p)) // an unknown id is dropped
	}
	return nil
}

func (s *Socket) args(p packet.Packet) Args {
	return Args{elems: p.Args, attachments: p.Attachments, codec: s.m.codec}
}

func (s *Socket) onConnect(p packet.Packet) error {
	// packet.StringMember rather than json.Unmarshal: this runs on the
	// connection's reader, whose stack every idle connection pays for.
	sid, _ := packet.StringMember(p.Data, "sid")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state != joining {
		return nil // a duplicate answer; the official client ignores it too
	}
	if sid == "" {
		s.resolveJoin(fmt.Errorf("%w: the CONNECT reply has no sid: the server speaks Socket.IO 2.x", ErrProtocol))
		return nil
	}
	s.id, s.state = sid, connected
	s.box.pushLifecycle(Event{Type: EventConnect}, false)
	s.resolveJoin(nil)
	return nil
}

func (s *Socket) onConnectError(p packet.Packet) {
	// CONNECT_ERROR data is an object {message, data} (v3+) or a string.
	ce := &ConnectError{}
	if msg, ok := packet.StringMember(p.Data, "message"); ok {
		ce.Message = msg
		ce.Data, _ = packet.Member(p.Data, "data")
	} else if err := json.Unmarshal(p.Data, &ce.Message); err != nil {
		ce.Message = string(p.Data)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state == joining {
		s.resolveJoin(ce)
		return
	}
	s.box.pushLifecycle(Event{Type: EventConnectError, Err: ce}, false)
}

// slowConsumer disconnects a socket whose program stopped reading Events.
func (s *Socket) slowConsumer() {
	err := fmt.Errorf("%w: %d events queued", ErrSlowConsumer, s.box.maxCount)
	s.sendDisconnect(false)
	s.end(err, true)
}

// sendDisconnect tells the server the socket leaves. With wait it waits a
// little for room in the send queue; without, it gives up at once, as the
// connection's reader must (the packet is a courtesy).
func (s *Socket) sendDisconnect(wait bool) {
	s.mu.Lock()
	conn := s.conn
	s.mu.Unlock()
	if conn == nil {
		return
	}
	msg, err := s.m.codec.Encode(packet.Header{Type: packet.Disconnect, Namespace: s.nsp}, "", nil)
	if err != nil {
		return
	}
	if wait {
		ctx, cancel := context.WithTimeout(context.Background(), closeGrace)
		defer cancel()
		conn.send(ctx, msg)
		return
	}
	select {
	case conn.out <- outgoing{msg: msg}:
	default:
	}
}

// end finishes the socket: pending acks fail with err, Events gets a last
// EventDisconnect and closes once it is read. With forget, the Manager
// drops the socket (the connection itself has not ended). It reports
// whether the socket was still live.
func (s *Socket) end(err error, forget bool) bool {
	s.mu.Lock()
	if s.state == ended {
		s.mu.Unlock()
		return false
	}
	was := s.state
	s.state, s.err = ended, err
	if was == joining {
		s.resolveJoin(err)
	}
	s.mu.Unlock()
	close(s.done)
	s.acks.Close(err)
	if was == connected {
		s.box.pushLifecycle(Event{Type: EventDisconnect, Err: err}, true)
	} else {
		s.box.discard()
	}
	if forget {
		s.m.remove(s)
	}
	return true
}

// onConn reports whether the socket uses connection c.
func (s *Socket) onConn(c *engineConn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn == c
}

// leave ends the socket from this side: it tells the server (when said),
// and discards undelivered events.
func (s *Socket) leave(err error, tell bool) {
	s.mu.Lock()
	live := s.state != ended
	s.mu.Unlock()
	if live && tell {
		s.sendDisconnect(true)
	}
	s.end(err, true)
	s.box.discard()
}

// Close leaves the namespace (sending DISCONNECT), fails pending acks with
// ErrClientDisconnect, discards undelivered events and closes Events. A
// socket from Dial also closes its connection, and Close returns once every
// goroutine of the connection has returned. Close is idempotent and may be
// called from any goroutine; it always returns nil.
func (s *Socket) Close() error {
	s.leave(ErrClientDisconnect, true)
	if s.m.private {
		s.m.Close()
	}
	return nil
}
