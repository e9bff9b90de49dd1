package msgpack

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/sio-go/sio/packet"
)

// ErrMalformed reports a frame that is not one complete MessagePack value,
// or holds one nested deeper than 10000 levels. Decode returns it inside a
// *packet.DecodeError.
var ErrMalformed = errors.New("msgpack: malformed MessagePack")

// decoder is the Decoder of one connection. It keeps no state between
// frames: every Socket.IO packet is one frame.
type decoder struct{}

// fail builds the error Decode returns.
func fail(sentinel error, input []byte, detail error) error {
	if len(input) > 64 {
		input = input[:64]
	}
	err := sentinel
	if detail != nil {
		err = fmt.Errorf("%w: %w", sentinel, detail)
	}
	return &packet.DecodeError{Err: err, Input: string(input)}
}

// fields are the members of the packet map.
type fields struct {
	typ, nsp, data, id []byte // raw values; nil when absent
}

// Decode decodes one message frame: a binary frame holding the map
// {type, nsp, data?, id?}. It applies the checks of socket.io-msgpack-parser
// (type 0 to 4, nsp a string, data as the type requires, id an integer)
// and those of the client (an ACK has an id; an EVENT's array is not empty
// and does not name a reserved event).
func (decoder) Decode(f packet.Frame) (packet.Packet, bool, error) {
	var p packet.Packet
	if !f.Binary {
		return p, false, fail(packet.ErrBadFrame, f.Data, errors.New("a text frame under the msgpack parser"))
	}
	b := f.Data
	n, _, err := value(b)
	if err != nil {
		return p, false, fail(ErrMalformed, b, err)
	}
	if n != len(b) {
		return p, false, fail(ErrMalformed, b, errors.New("bytes after the packet"))
	}
	fs, err := members(b)
	if err != nil {
		return p, false, fail(packet.ErrBadPayload, b, err)
	}
	t, ok := integer(fs.typ)
	if !ok || t < 0 || t > int64(packet.ConnectError) {
		return p, false, fail(packet.ErrUnknownType, b, nil)
	}
	p.Type = packet.Type(t)
	nsp, ok := str(fs.nsp)
	if !ok || (nsp != "" && nsp[0] != '/') {
		return p, false, fail(packet.ErrBadNamespace, b, nil)
	}
	if nsp == "" {
		nsp = "/"
	}
	p.Namespace = nsp
	if fs.id != nil {
		id, ok := integer(fs.id)
		if !ok || id < 0 {
			return p, false, fail(packet.ErrBadID, b, nil)
		}
		p.ID, p.HasID = uint64(id), true
	}
	if err := setData(&p, fs.data); err != nil {
		return p, false, fail(packet.ErrBadPayload, b, err)
	}
	return p, true, nil
}

// setData checks data (nil when absent) against the packet type and stores
// it: Connect and ConnectError data as JSON, Event and Ack elements raw.
func setData(p *packet.Packet, data []byte) error {
	switch p.Type {
	case packet.Connect, packet.ConnectError:
		if data == nil {
			if p.Type == packet.Connect {
				return nil
			}
			return errors.New("CONNECT_ERROR without data")
		}
		if !isMap(data) && (p.Type == packet.Connect || !isStr(data)) {
			return fmt.Errorf("%s data of type 0x%02x", p.Type, data[0])
		}
		j, err := toJSON(data)
		if err != nil {
			return err
		}
		p.Data = j
		return nil
	case packet.Disconnect:
		if data != nil {
			return errors.New("DISCONNECT with data")
		}
		return nil
	}
	elems, err := array(data)
	if err != nil {
		return fmt.Errorf("%s data: %w", p.Type, err)
	}
	if p.Type == packet.Ack {
		if !p.HasID {
			return errors.New("ACK without id")
		}
		p.Args = elems
		return nil
	}
	if len(elems) == 0 {
		return errors.New("EVENT with an empty array")
	}
	name, ok := str(elems[0])
	if !ok {
		p.Args = elems // the JS client passes them all to its listener
		return nil
	}
	if isReserved(name) {
		return fmt.Errorf("EVENT with the reserved name %q", name)
	}
	p.Name, p.HasName, p.Args = name, true, elems[1:]
	return nil
}

// isReserved reports whether name is an event name the client reserves, as
// the JSON codec rejects it.
func isReserved(name string) bool {
	switch name {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// members splits the top-level map into the fields a packet has. Unknown
// keys are ignored, like the JS decoder does; a key given twice keeps its
// last value, as in JavaScript.
func members(b []byte) (fields, error) {
	var fs fields
	n, rest, ok := mapHeader(b)
	if !ok {
		return fs, errors.New("the packet is not a map")
	}
	for range n {
		kn, _, _ := value(rest) // the whole value was checked already
		key, isKey := str(rest[:kn])
		rest = rest[kn:]
		vn, ext, _ := value(rest)
		v := rest[:vn:vn]
		rest = rest[vn:]
		if ext {
			var err error
			if v, err = normalize(v); err != nil {
				return fs, err
			}
		}
		if !isKey {
			continue
		}
		switch key {
		case "type":
			fs.typ = v
		case "nsp":
			fs.nsp = v
		case "data":
			fs.data = v
		case "id":
			fs.id = v
		}
	}
	return fs, nil
}

// mapHeader reads a map header: its pair count and what follows it.
func mapHeader(b []byte) (int, []byte, bool) {
	switch c := b[0]; {
	case c >= 0x80 && c <= 0x8f:
		return int(c & 0x0f), b[1:], true
	case c == 0xde && len(b) >= 3:
		return int(binary.BigEndian.Uint16(b[1:])), b[3:], true
	case c == 0xdf && len(b) >= 5:
		return int(binary.BigEndian.Uint32(b[1:])), b[5:], true
	}
	return 0, nil, false
}

// array splits a complete array value into its elements (sharing b).
func array(b []byte) ([]json.RawMessage, error) {
	if len(b) == 0 {
		return nil, errors.New("missing")
	}
	var n int
	switch c := b[0]; {
	case c >= 0x90 && c <= 0x9f:
		n, b = int(c&0x0f), b[1:]
	case c == 0xdc && len(b) >= 3:
		n, b = int(binary.BigEndian.Uint16(b[1:])), b[3:]
	case c == 0xdd && len(b) >= 5:
		n, b = int(binary.BigEndian.Uint32(b[1:])), b[5:]
	default:
		return nil, fmt.Errorf("not an array (type 0x%02x)", c)
	}
	elems := make([]json.RawMessage, 0, min(n, len(b)))
	for range n {
		m, _, _ := value(b) // the whole value was checked already
		elems = append(elems, b[:m:m])
		b = b[m:]
	}
	return elems, nil
}

// str decodes a complete str value.
func str(b []byte) (string, bool) {
	if len(b) == 0 {
		return "", false
	}
	switch c := b[0]; {
	case c >= 0xa0 && c <= 0xbf:
		return string(b[1:]), true
	case c == 0xd9 && len(b) >= 2:
		return string(b[2:]), true
	case c == 0xda && len(b) >= 3:
		return string(b[3:]), true
	case c == 0xdb && len(b) >= 5:
		return string(b[5:]), true
	}
	return "", false
}

func isStr(b []byte) bool { _, ok := str(b); return ok }

func isMap(b []byte) bool { _, _, ok := mapHeader(b); return ok }

// integer decodes a complete integer value, or a float holding an integer
// (JavaScript's Number.isInteger accepts both).
func integer(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	c, d := b[0], b[1:]
	switch {
	case c <= 0x7f:
		return int64(c), true
	case c >= 0xe0:
		return int64(int8(c)), true
	}
	switch c {
	case 0xcc:
		return int64(d[0]), true
	case 0xcd:
		return int64(binary.BigEndian.Uint16(d)), true
	case 0xce:
		return int64(binary.BigEndian.Uint32(d)), true
	case 0xcf:
		u := binary.BigEndian.Uint64(d)
		return int64(u), u <= math.MaxInt64
	case 0xd0:
		return int64(int8(d[0])), true
	case 0xd1:
		return int64(int16(binary.BigEndian.Uint16(d))), true
	case 0xd2:
		return int64(int32(binary.BigEndian.Uint32(d))), true
	case 0xd3:
		return int64(binary.BigEndian.Uint64(d)), true
	case 0xca:
		return floatInt(float64(math.Float32frombits(binary.BigEndian.Uint32(d))))
	case 0xcb:
		return floatInt(math.Float64frombits(binary.BigEndian.Uint64(d)))
	}
	return 0, false
}

// floatInt converts a float holding an integer that fits in an int64.
func floatInt(f float64) (int64, bool) {
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}
