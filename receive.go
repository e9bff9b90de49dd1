package sio

import "github.com/sio-go/sio/packet"

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
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pid == "" {
		return
	}
	last := p.Args[len(p.Args)-1]
	if _, ok := s.m.codec.(packet.JSON); ok && (len(last) < 2 || last[0] != '"') {
		return // not a JSON string: skip the decoder's error
	}
	var off string
	if s.m.codec.Unmarshal(last, p.Attachments, &off) == nil {
		s.offset = off
	}
}
