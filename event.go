package sio

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/sio-go/sio/packet"
)

// EventType says what an Event reports.
type EventType int

// The kinds of Event.
const (
	// EventMessage is an event the server emitted.
	EventMessage EventType = iota + 1
	// EventConnect reports that the socket joined its namespace.
	EventConnect
	// EventDisconnect reports that the socket left its namespace; Err says
	// why and matches one of the disconnect reasons (ErrServerDisconnect,
	// ErrTransportClose, …) with errors.Is.
	EventDisconnect
	// EventConnectError reports that the server refused the socket; Err is a
	// *ConnectError.
	EventConnectError
)

func (t EventType) String() string {
	switch t {
	case EventMessage:
		return "message"
	case EventConnect:
		return "connect"
	case EventDisconnect:
		return "disconnect"
	case EventConnectError:
		return "connect_error"
	}
	return fmt.Sprintf("EventType(%d)", int(t))
}

// Event is what a socket delivers on its Events channel.
//
// An event the server emitted has Type EventMessage, its name in Name and
// its arguments in Args. A server can emit an event whose first element is
// not a string (socket.emit(buffer) sends a binary first element): such an
// event is delivered with Name "" and every element, the first included, in
// Args.
type Event struct {
	Type EventType
	Name string // event name, for EventMessage
	Args Args   // arguments, for EventMessage
	Err  error  // why, for EventDisconnect and EventConnectError
	// Recovered reports, for EventConnect after a reconnection, that the
	// server recovered the session (connection state recovery): the socket
	// kept its id and the events it missed follow, in order.
	Recovered bool

	ack *ackRequest // non-nil when the server asked for an acknowledgement
}

// ackRequest is a server's request for an acknowledgement, shared by the
// copies of one Event so that it is answered at most once.
type ackRequest struct {
	socket *Socket
	gate   *gate // the join it came in: the server expects the reply there
	id     uint64
	done   atomic.Bool
}

// WantsAck reports whether the server asked for an acknowledgement of this
// event (answer it with Ack).
func (e Event) WantsAck() bool { return e.ack != nil }

// Ack answers the server's acknowledgement request for this event with args
// ([]byte values travel as binary attachments). It returns ErrNoAck if the
// server asked for none and ErrAlreadyAcked on a second call. ctx bounds the
// wait to enqueue the reply, not the write itself.
func (e Event) Ack(ctx context.Context, args ...any) error {
	if e.ack == nil {
		return ErrNoAck
	}
	if e.ack.done.Swap(true) {
		return ErrAlreadyAcked
	}
	s := e.ack.socket
	msg, err := s.encode(packet.Header{Type: packet.Ack, Namespace: s.nsp, ID: e.ack.id, HasID: true}, "", args)
	if err != nil {
		return err
	}
	return s.replyOn(ctx, e.ack.gate, msg)
}

// Args are the arguments of an event or an acknowledgement, kept as the
// server encoded them until Decode.
//
// An Args is immutable and may be used from any goroutine.
type Args struct {
	elems       []json.RawMessage
	attachments [][]byte
	codec       packet.Codec
}

// Len returns the number of arguments.
func (a Args) Len() int { return len(a.elems) }

// Raw returns argument i as the server encoded it: with the default codec,
// JSON, with binary attachments as {"_placeholder":true,"num":N}; with
// another codec (WithCodec), that codec's raw encoding of the argument,
// e.g. its MessagePack bytes under msgpack.Codec, despite the type.
func (a Args) Raw(i int) json.RawMessage { return a.elems[i] }

// Decode decodes the arguments, in order, into the values dst points to,
// like json.Unmarshal. A nil dst skips its argument; arguments beyond
// len(dst) are ignored; asking for more arguments than there are is an
// error. Binary attachments are decoded into []byte destinations anywhere
// in the value (top level, or nested in a struct, slice or map), and appear
// as []byte in an any, []any or map[string]any destination.
func (a Args) Decode(dst ...any) error {
	if len(dst) > len(a.elems) {
		return fmt.Errorf("sio: Decode: %d destinations for %d arguments", len(dst), len(a.elems))
	}
	for i, d := range dst {
		if d == nil {
			continue
		}
		if err := a.codec.Unmarshal(a.elems[i], a.attachments, d); err != nil {
			return fmt.Errorf("sio: Decode argument %d: %w", i, err)
		}
	}
	return nil
}

// String returns the arguments as a JSON array, attachments shown as their
// placeholders. Under a codec whose format is not JSON, each argument is
// decoded and shown as JSON ([]byte as base64).
func (a Args) String() string {
	if _, ok := a.codec.(packet.JSON); !ok && a.codec != nil {
		return a.transcoded()
	}
	var b strings.Builder
	b.WriteByte('[')
	for i, e := range a.elems {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(e)
	}
	b.WriteByte(']')
	return b.String()
}

// compact returns the arguments copied into one buffer of their own size,
// so that they no longer keep alive the frame they were decoded from.
func (a Args) compact() Args {
	n := a.size()
	if n == 0 {
		return a
	}
	buf := make([]byte, 0, n)
	elems := make([]json.RawMessage, len(a.elems))
	for i, e := range a.elems {
		buf = append(buf, e...)
		elems[i] = buf[len(buf)-len(e) : len(buf) : len(buf)]
	}
	var atts [][]byte
	if len(a.attachments) > 0 {
		atts = make([][]byte, len(a.attachments))
		for i, b := range a.attachments {
			buf = append(buf, b...)
			atts[i] = buf[len(buf)-len(b) : len(buf) : len(buf)]
		}
	}
	return Args{elems: elems, attachments: atts, codec: a.codec}
}

// transcoded is String for a codec whose format is not JSON.
func (a Args) transcoded() string {
	vals := make([]any, len(a.elems))
	for i, e := range a.elems {
		if err := a.codec.Unmarshal(e, a.attachments, &vals[i]); err != nil {
			vals[i] = "<" + err.Error() + ">"
		}
	}
	b, err := json.Marshal(vals)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// size is the number of payload bytes the arguments hold.
func (a Args) size() int64 {
	var n int
	for _, e := range a.elems {
		n += len(e)
	}
	for _, b := range a.attachments {
		n += len(b)
	}
	return int64(n)
}
