package packet

import (
	"encoding/json"
	"strconv"
)

// Type is the type of a Socket.IO packet.
type Type byte

// Socket.IO v5 packet types, in wire order ('0' to '6').
const (
	Connect Type = iota
	Disconnect
	Event
	Ack
	ConnectError
	BinaryEvent
	BinaryAck
)

// String returns the protocol name of t ("CONNECT", "DISCONNECT", "EVENT",
// "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"), or "Type(N)" for an
// unknown type.
func (t Type) String() string {
	switch t {
	case Connect:
		return "CONNECT"
	case Disconnect:
		return "DISCONNECT"
	case Event:
		return "EVENT"
	case Ack:
		return "ACK"
	case ConnectError:
		return "CONNECT_ERROR"
	case BinaryEvent:
		return "BINARY_EVENT"
	case BinaryAck:
		return "BINARY_ACK"
	}
	return "Type(" + strconv.Itoa(int(t)) + ")"
}

// Header is the part of a Socket.IO packet that is not payload.
type Header struct {
	Type      Type
	Namespace string // "/" (or "") for the main namespace
	ID        uint64 // acknowledgement id, meaningful when HasID
	HasID     bool
}

// Packet is one decoded Socket.IO packet.
type Packet struct {
	Header
	// Name is the event name of an Event or BinaryEvent whose first element
	// is a string; HasName reports whether there was one. An event whose
	// first element is not a string has HasName false and every element in
	// Args.
	Name    string
	HasName bool
	// Args holds the elements of an Event's array after the name, or of an
	// Ack's array, each raw in the Codec's own format (JSON for the JSON
	// codec, with attachment placeholders left in place; MessagePack for a
	// msgpack codec), to be decoded with that Codec's Unmarshal.
	Args []json.RawMessage
	// Data is the whole payload of a Connect or ConnectError packet, as
	// JSON whatever the Codec: the client reads the sid, the pid and the
	// error message out of it, and ConnectError.Data exposes it.
	Data json.RawMessage
	// Attachments are the binary attachments, in placeholder order.
	Attachments [][]byte
}

// Message is one encoded Socket.IO packet: the Engine.IO message frame that
// carries it, then its binary attachments, each its own binary frame.
type Message struct {
	Head        Frame
	Attachments [][]byte
}

// Codec is a Socket.IO packet format. JSON (the format of the official
// socket.io-parser) is the default; a server using another parser (msgpack)
// needs another Codec, such as github.com/sio-go/sio/msgpack's.
//
// A Codec whose format is not JSON keeps Packet.Args in its own format
// (Unmarshal reads them) but gives Packet.Data as JSON, and accepts a
// json.RawMessage argument as the JSON value it holds: the client builds
// the CONNECT payload (auth, recovery pid and offset) as JSON and reads
// sid, pid and error messages from JSON, whatever the format on the wire.
type Codec interface {
	// Encode encodes one packet. The payload depends on h.Type: Event, the
	// array [event, args...]; Ack, the array args; Connect, args[0] alone
	// when given (a json.RawMessage object); Disconnect, none. []byte values
	// anywhere in args travel as binary: as attachments in JSON (and
	// Event/Ack become BinaryEvent/BinaryAck), inline where the format has
	// a binary type.
	Encode(h Header, event string, args []any) (Message, error)
	// NewDecoder returns a decoder for one connection that accepts at most
	// maxAttachments attachments per packet.
	NewDecoder(maxAttachments int) Decoder
	// Unmarshal decodes one element of a decoded packet's Args into dst,
	// resolving attachment placeholders (if the format has them) against
	// attachments.
	Unmarshal(raw json.RawMessage, attachments [][]byte, dst any) error
}

// Decoder turns Engine.IO message frames into Socket.IO packets. It is used
// by one goroutine.
type Decoder interface {
	// Decode consumes one message frame. ok is false while a binary packet
	// waits for more attachments.
	Decode(f Frame) (p Packet, ok bool, err error)
}
