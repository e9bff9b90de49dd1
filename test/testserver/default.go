package testserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"
)

// maxStream bounds the count of a "stream" event.
const maxStream = 100_000

// errDone ends the read loop without an error: the connection ended, or the
// server closed it as asked ("close-transport", "1").
var errDone = errors.New("connection done")

// errWriteFailed: a write failed because the session ended; the next Read
// reports why (a polling transport may have closed it on a protocol error
// while packets received before that were still being handled).
var errWriteFailed = errors.New("write failed")

// Serve runs the default behaviour on the session until it ends, then
// returns nil, or an error wrapping ErrProtocol, ErrPingTimeout or
// ErrMessageTooBig when the server closed the connection because of the
// client. If no open packet was sent yet it sends one; otherwise the
// heartbeat and maxPayload follow the open packet already sent.
//
// The default behaviour pings "2" every pingInterval and closes the
// connection (1000, "ping timeout") when no pong "3" arrives within
// pingTimeout (any other packet extends that wait once, as in the official
// server). It answers CONNECT 40[/ns,][{auth}] with 40[/ns,]{"sid":"..."} or,
// when the WithAuth function refuses, 44[/ns,]{"message":...[,"data":...]};
// forgets a namespace on 41[/ns,]; and handles these events (42, or 45 with
// their binary attachments) in the packet's namespace:
//
//   - echo: emits "echo" back with the same arguments and attachments;
//   - ack: acknowledges with the same arguments (46 when there are attachments);
//   - ask: emits ["question", args...] with a server ack id and, when the
//     client acknowledges it, emits "answer" with the acknowledgement's arguments;
//   - stream (count): emits "tick" with 0..count-1, then "stream-done" with count;
//   - chat: emits "chat" with the same arguments to every socket of the
//     namespace on this server, the sender included, and acknowledges ["ok"];
//   - kick: sends DISCONNECT 41[/ns,] and forgets the namespace;
//   - close-transport: closes the WebSocket with status 1000 (over polling:
//     sends the close packet "1").
//
// Every other event, and echo, ask, stream and kick, is acknowledged with no
// arguments (43<id>[]) when it carries an ack id. Acks for unknown ids are
// dropped. What the official server treats as a parse error or an invalid
// state (a malformed packet, a client ping, a packet for a namespace not
// joined, a second CONNECT to a joined namespace, a text packet while
// attachments are awaited, ...) closes the WebSocket with 1002.
//
// The behaviour is the same over polling, where each close above is a close
// packet "1" instead (there is no status code), and the polling transport
// itself closes the session on a malformed POST body or overlapping requests
// (returned as ErrProtocol) and on a POST body over maxPayload (returned as
// ErrMessageTooBig). A session that upgrades to WebSocket keeps its state:
// namespaces, ack ids and heartbeat.
func (c *Conn) Serve(ctx context.Context) error {
	o, ok := c.announced()
	if !ok {
		if err := c.SendOpen(Open{}); err != nil {
			return nil // the connection ended
		}
		o, _ = c.announced()
	}
	s := &behaviour{
		c:        c,
		open:     o,
		pong:     make(chan struct{}, 1),
		activity: make(chan struct{}, 1),
		sockets:  make(map[string]*nsSocket),
	}
	defer s.leaveAll()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var g errgroup.Group
	g.Go(func() error {
		defer cancel()
		return s.readLoop(ctx)
	})
	g.Go(func() error {
		defer cancel()
		return s.heartbeat(ctx)
	})
	return g.Wait()
}

// behaviour is the default behaviour's state for one session. Its fields
// are owned by the read loop, except the channels.
type behaviour struct {
	c        *Conn
	open     Open
	pong     chan struct{} // a pong arrived
	activity chan struct{} // another packet arrived
	sockets  map[string]*nsSocket
	partial  *sioPacket // a binary packet waiting for attachments
}

// nsSocket is a session's membership of one namespace.
type nsSocket struct {
	sess    *behaviour
	nsp     string
	sid     string
	nextAck int64              // the server's next ack id
	asks    map[int64]struct{} // server ack ids of "question" events awaiting an answer
}

func notify(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// heartbeat pings every pingInterval and closes the connection when a pong
// does not follow within pingTimeout.
func (s *behaviour) heartbeat(ctx context.Context) error {
	interval := time.Duration(s.open.PingInterval) * time.Millisecond
	timeout := time.Duration(s.open.PingTimeout) * time.Millisecond
	ping := func(ctx context.Context) error { return s.c.SendText(ctx, "2") }
	err := heartbeat(ctx, interval, timeout, s.pong, s.activity, ping)
	if errors.Is(err, ErrPingTimeout) {
		_ = s.c.Close(int(websocket.StatusNormalClosure), "ping timeout")
		return err
	}
	return nil
}

// heartbeat is the server's Engine.IO v4 heartbeat: wait interval, ping,
// wait for a pong for at most timeout (extended once by another packet, as
// the official server does), again. It returns an error wrapping
// ErrPingTimeout when a pong is missing, the ping's error when it fails, and
// nil when ctx ends.
func heartbeat(ctx context.Context, interval, timeout time.Duration, pong, activity <-chan struct{}, ping func(context.Context) error) error {
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		drain(pong)
		drain(activity)
		if err := ping(ctx); err != nil {
			return err
		}
		t.Reset(timeout)
		refreshed := false
	wait:
		for {
			select {
			case <-ctx.Done():
				return nil
			case <-pong:
				break wait
			case <-activity:
				if !refreshed {
					refreshed = true
					t.Reset(timeout)
				}
			case <-t.C:
				return fmt.Errorf("%w: no pong within %v", ErrPingTimeout, timeout)
			}
		}
		t.Reset(interval)
	}
}

func drain(ch <-chan struct{}) {
	select {
	case <-ch:
	default:
	}
}

// readLoop reads and handles frames until the connection ends.
func (s *behaviour) readLoop(ctx context.Context) error {
	for {
		f, err := s.c.Read(ctx)
		if err != nil {
			switch {
			case errors.Is(err, ErrMessageTooBig), errors.Is(err, ErrProtocol):
				return err // the polling transport closed the session
			case errors.Is(err, websocket.ErrMessageTooBig):
				return fmt.Errorf("%w: %v", ErrMessageTooBig, err)
			}
			return nil
		}
		if f.IsBinary {
			err = s.onBinary(ctx, f.Binary)
		} else {
			err = s.onText(ctx, f.Text)
		}
		if errors.Is(err, errDone) {
			return nil
		}
		if errors.Is(err, errWriteFailed) {
			continue
		}
		if err != nil {
			return err
		}
	}
}

// fail closes the connection with code and returns sentinel with detail.
func (s *behaviour) fail(code websocket.StatusCode, sentinel error, detail string) error {
	_ = s.c.Close(int(code), closeReason(detail))
	return fmt.Errorf("%w: %s", sentinel, detail)
}

func (s *behaviour) protocolError(format string, args ...any) error {
	return s.fail(websocket.StatusProtocolError, ErrProtocol, fmt.Sprintf(format, args...))
}

func (s *behaviour) tooBig(n int) error {
	if int64(n) <= s.open.MaxPayload {
		return nil
	}
	return s.fail(websocket.StatusMessageTooBig, ErrMessageTooBig,
		fmt.Sprintf("%d bytes over maxPayload %d", n, s.open.MaxPayload))
}

// onText handles an Engine.IO text packet.
func (s *behaviour) onText(ctx context.Context, t string) error {
	if err := s.tooBig(len(t)); err != nil {
		return err
	}
	if t == "" {
		return s.protocolError("empty text frame")
	}
	switch t[0] {
	case '3': // pong (a payload, as in "3probe", is tolerated)
		notify(s.pong)
		return nil
	case '0', '5', '6': // open, upgrade, noop: ignored, as by the official server
		notify(s.activity)
		return nil
	case '1': // the client closes
		_ = s.c.Close(int(websocket.StatusNormalClosure), "")
		return errDone
	case '2':
		return s.protocolError("client ping %q: invalid heartbeat direction in EIO 4", t)
	case '4':
		notify(s.activity)
		if s.partial != nil {
			return s.protocolError("text packet %q while %d attachment(s) are awaited", t, s.partial.attachments-len(s.partial.bins))
		}
		p, err := parsePacket(t[1:])
		if err != nil {
			return s.protocolError("%v: %q", err, t)
		}
		if p.attachments > 0 {
			s.partial = p
			return nil
		}
		return s.dispatch(ctx, p)
	default:
		return s.protocolError("unknown Engine.IO packet type: %q", t)
	}
}

// onBinary handles a binary frame: an attachment of the pending packet.
func (s *behaviour) onBinary(ctx context.Context, b []byte) error {
	if err := s.tooBig(len(b)); err != nil {
		return err
	}
	notify(s.activity)
	p := s.partial
	if p == nil {
		return s.protocolError("binary frame (%d bytes) with no packet awaiting attachments", len(b))
	}
	p.bins = append(p.bins, b)
	if len(p.bins) < p.attachments {
		return nil
	}
	s.partial = nil
	return s.dispatch(ctx, p)
}

// dispatch handles a complete Socket.IO packet.
func (s *behaviour) dispatch(ctx context.Context, p *sioPacket) error {
	sock := s.sockets[p.nsp]
	switch {
	case p.typ == sioConnect && sock == nil:
		return s.connect(ctx, p)
	case sock == nil:
		return s.protocolError("invalid state: packet type %c for namespace %q not joined", p.typ, p.nsp)
	}
	switch p.typ {
	case sioDisconnect:
		s.leave(sock)
		return nil
	case sioEvent, sioBinaryEvent:
		return s.onEvent(ctx, sock, p)
	case sioAck, sioBinaryAck:
		return s.onAck(ctx, sock, p)
	default: // CONNECT to a joined namespace, CONNECT_ERROR
		return s.protocolError("invalid state: packet type %c for joined namespace %q", p.typ, p.nsp)
	}
}

// send writes a packet and its attachments on this session.
func (s *behaviour) send(ctx context.Context, text string, bins [][]byte) error {
	if err := s.c.writePacket(ctx, text, bins); err != nil {
		return errWriteFailed
	}
	return nil
}

func (s *behaviour) connect(ctx context.Context, p *sioPacket) error {
	if auth := s.c.srv.opts.auth; auth != nil {
		if err := auth(p.nsp, p.data); err != nil {
			return s.send(ctx, encodePacket(sioConnectError, p.nsp, -1, connectErrorPayload(err), 0), nil)
		}
	}
	sock := &nsSocket{sess: s, nsp: p.nsp, sid: randomID(), asks: make(map[int64]struct{})}
	data, _ := json.Marshal(struct {
		SID string `json:"sid"`
	}{sock.sid})
	// Join the broadcast set before the reply, as the official server does, so
	// that a client that has its reply gets every later broadcast; hold the
	// write lock meanwhile, so that no broadcast precedes the reply.
	s.c.wmu.Lock()
	defer s.c.wmu.Unlock()
	s.sockets[p.nsp] = sock
	s.c.srv.join(sock)
	if err := s.c.writePacketLocked(ctx, encodePacket(sioConnect, p.nsp, -1, data, 0), nil); err != nil {
		return errWriteFailed
	}
	return nil
}

func (s *behaviour) leave(sock *nsSocket) {
	delete(s.sockets, sock.nsp)
	s.c.srv.leave(sock)
}

func (s *behaviour) leaveAll() {
	for _, sock := range s.sockets {
		s.leave(sock)
	}
}

func (s *behaviour) onEvent(ctx context.Context, sock *nsSocket, p *sioPacket) error {
	var name string
	_ = json.Unmarshal(p.args[0], &name) // stays "" for a numeric name
	args := p.args[1:]
	ackEmpty := func() error {
		if !p.hasID {
			return nil
		}
		return s.send(ctx, ackPacket(sock.nsp, p.id, nil, nil), nil)
	}
	switch name {
	case "echo":
		if err := s.send(ctx, eventPacket(sock.nsp, -1, "echo", args, p.bins), p.bins); err != nil {
			return err
		}
		return ackEmpty()
	case "ack":
		if !p.hasID {
			return nil
		}
		return s.send(ctx, ackPacket(sock.nsp, p.id, args, p.bins), p.bins)
	case "ask":
		id := sock.nextAck
		sock.nextAck++
		sock.asks[id] = struct{}{}
		if err := s.send(ctx, eventPacket(sock.nsp, id, "question", args, p.bins), p.bins); err != nil {
			return err
		}
		return ackEmpty()
	case "stream":
		n := streamCount(args)
		for i := range n {
			if err := s.send(ctx, eventPacket(sock.nsp, -1, "tick", []json.RawMessage{intJSON(i)}, nil), nil); err != nil {
				return err
			}
		}
		if err := s.send(ctx, eventPacket(sock.nsp, -1, "stream-done", []json.RawMessage{intJSON(n)}, nil), nil); err != nil {
			return err
		}
		return ackEmpty()
	case "chat":
		if err := s.broadcast(ctx, sock, eventPacket(sock.nsp, -1, "chat", args, p.bins), p.bins); err != nil {
			return err
		}
		if !p.hasID {
			return nil
		}
		return s.send(ctx, ackPacket(sock.nsp, p.id, []json.RawMessage{jsonString("ok")}, nil), nil)
	case "kick":
		if err := ackEmpty(); err != nil {
			return err
		}
		s.leave(sock)
		return s.send(ctx, encodePacket(sioDisconnect, sock.nsp, -1, nil, 0), nil)
	case "close-transport":
		_ = s.c.Close(int(websocket.StatusNormalClosure), "")
		return errDone
	default:
		return ackEmpty()
	}
}

// broadcast writes a packet to every socket of sock's namespace. Writes to
// other connections are bounded by writeTimeout and their errors ignored.
func (s *behaviour) broadcast(ctx context.Context, sock *nsSocket, text string, bins [][]byte) error {
	for _, m := range s.c.srv.members(sock.nsp) {
		if m == sock {
			if err := s.send(ctx, text, bins); err != nil {
				return err
			}
			continue
		}
		wctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
		_ = m.sess.c.writePacket(wctx, text, bins)
		cancel()
	}
	return nil
}

func (s *behaviour) onAck(ctx context.Context, sock *nsSocket, p *sioPacket) error {
	if !p.hasID {
		return nil
	}
	if _, ok := sock.asks[p.id]; !ok {
		return nil // unknown ack id: dropped
	}
	delete(sock.asks, p.id)
	return s.send(ctx, eventPacket(sock.nsp, -1, "answer", p.args, p.bins), p.bins)
}

// streamCount reads the count argument of "stream": a non-negative integer,
// anything else counting as 0, capped at maxStream.
func streamCount(args []json.RawMessage) int {
	if len(args) == 0 {
		return 0
	}
	var f float64
	if err := json.Unmarshal(args[0], &f); err != nil || f < 0 {
		return 0
	}
	f = min(f, maxStream)
	if f != float64(int(f)) {
		return 0
	}
	return int(f)
}

func intJSON(i int) json.RawMessage { return json.RawMessage(strconv.Itoa(i)) }
