package sio

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"github.com/sio-go/sio/packet"
)

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

// waitForRejoin marks a socket made during an outage: the reconnection
// joins it once it has a connection.
func (s *Socket) waitForRejoin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state = disconnected
}

// rejoin joins the socket again on conn if it waits for that (it does
// nothing otherwise), within ctx, and sends its offline queue once it has
// joined; a refusal ends it. It returns nil when it joined or was refused,
// or when conn was lost meanwhile (the next connection rejoins it), and
// otherwise the error, with sent telling whether its CONNECT went out.
func (s *Socket) rejoin(ctx context.Context, conn *sioConn) (sent bool, err error) {
	s.mu.Lock()
	wait := s.state == disconnected
	s.mu.Unlock()
	if !wait {
		return false, nil
	}
	if err := s.sendConnect(ctx, conn); err != nil {
		return false, err
	}
	select {
	case err = <-s.rejoined:
	case <-conn.lost():
		return true, nil
	case <-ctx.Done():
		return true, ctx.Err()
	}
	var ce *ConnectError
	switch {
	case err == nil:
		s.flush(conn)
	case errors.As(err, &ce):
		s.refused(ce)
		return true, nil
	}
	return true, err
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
		c.sendDisconnect(context.Background(), s.nsp, g, false)
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
	ctx := s.lifeContext()
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
