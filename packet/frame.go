package packet

import "strconv"

// FrameType is the type of an Engine.IO packet.
type FrameType byte

// Engine.IO v4 packet types, in wire order ('0' to '6').
const (
	FrameOpen FrameType = iota
	FrameClose
	FramePing
	FramePong
	FrameMessage
	FrameUpgrade
	FrameNoop
)

// String returns the protocol name of t ("open", "close", "ping", "pong",
// "message", "upgrade", "noop"), or "FrameType(N)" for an unknown type.
func (t FrameType) String() string {
	switch t {
	case FrameOpen:
		return "open"
	case FrameClose:
		return "close"
	case FramePing:
		return "ping"
	case FramePong:
		return "pong"
	case FrameMessage:
		return "message"
	case FrameUpgrade:
		return "upgrade"
	case FrameNoop:
		return "noop"
	}
	return "FrameType(" + strconv.Itoa(int(t)) + ")"
}

// Frame is one Engine.IO packet as a transport carries it. A text frame's
// Data starts with the type digit ("4hello", "2", "3probe"); a binary frame is
// always a message and Data is its raw payload.
type Frame struct {
	Data   []byte
	Binary bool
	// Uncompressed asks a transport that compresses messages (WebSocket
	// with per-message deflate) to send this one as it is, like the
	// official client's compress: false. It means nothing on receipt.
	Uncompressed bool
}

// TextFrame returns a text frame of type t carrying payload: its Data is the
// type digit followed by payload, e.g. TextFrame(FramePong, "probe") is
// "3probe". t must be one of the FrameType constants.
func TextFrame(t FrameType, payload string) Frame {
	data := make([]byte, 1+len(payload))
	data[0] = '0' + byte(t)
	copy(data[1:], payload)
	return Frame{Data: data}
}

// ParseFrame validates one packet received from a transport and returns it
// as a Frame. A binary frame may hold any bytes, even none; a text frame
// must be non-empty and start with a type digit '0' to '6', otherwise the
// error is a *DecodeError matching ErrBadFrame. data is not copied.
func ParseFrame(data []byte, binary bool) (Frame, error) {
	if binary {
		return Frame{Data: data, Binary: true}, nil
	}
	if len(data) == 0 || data[0] < '0' || data[0] > '6' {
		return Frame{}, decodeError(ErrBadFrame, data)
	}
	return Frame{Data: data}, nil
}

// Type returns the type of f: FrameMessage for a binary frame, otherwise
// the type its first byte encodes. The zero Frame (and any empty text frame)
// reports FrameMessage. For a frame that did not come from ParseFrame or
// TextFrame the result may be outside the defined constants.
func (f Frame) Type() FrameType {
	if f.Binary || len(f.Data) == 0 {
		return FrameMessage
	}
	return FrameType(f.Data[0] - '0')
}

// Payload returns the data of f without its type digit: Data[1:] for a text
// frame, Data for a binary frame, and nil for an empty text frame. It shares
// memory with f.Data.
func (f Frame) Payload() []byte {
	if f.Binary {
		return f.Data
	}
	if len(f.Data) == 0 {
		return nil
	}
	return f.Data[1:]
}
