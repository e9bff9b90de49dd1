package msgpack

import (
	"encoding/binary"
	"fmt"
	"math"
	"time"
)

// decodeAny decodes a complete, normalized value (checked by value and
// rewritten by normalize) the way the JSON codec fills an any: nil, bool,
// string, []byte for bin, []any, map[string]any, and for numbers int64
// (uint64 above math.MaxInt64) or float64, time.Time for a timestamp.
// vmihailenco/msgpack's loose mode would give bin as a string.
func decodeAny(b []byte) (any, []byte, error) {
	c := b[0]
	switch {
	case c <= 0x7f:
		return int64(c), b[1:], nil
	case c >= 0xe0:
		return int64(int8(c)), b[1:], nil
	case c >= 0x80 && c <= 0x8f:
		return decodeMap(int(c&0x0f), b[1:])
	case c >= 0x90 && c <= 0x9f:
		return decodeArray(int(c&0x0f), b[1:])
	case c >= 0xa0 && c <= 0xbf:
		n := int(c & 0x1f)
		return string(b[1 : 1+n]), b[1+n:], nil
	}
	d := b[1:]
	switch c {
	case 0xc0:
		return nil, d, nil
	case 0xc2, 0xc3:
		return c == 0xc3, d, nil
	case 0xc4, 0xd9:
		n := int(d[0])
		return bytesOrString(c, d[1:1+n]), d[1+n:], nil
	case 0xc5, 0xda:
		n := int(binary.BigEndian.Uint16(d))
		return bytesOrString(c, d[2:2+n]), d[2+n:], nil
	case 0xc6, 0xdb:
		n := int(binary.BigEndian.Uint32(d))
		return bytesOrString(c, d[4:4+n]), d[4+n:], nil
	case 0xca:
		return float64(math.Float32frombits(binary.BigEndian.Uint32(d))), d[4:], nil
	case 0xcb:
		return math.Float64frombits(binary.BigEndian.Uint64(d)), d[8:], nil
	case 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3:
		size := 1 << ((c - 0xcc) % 4)
		if c == 0xcf {
			if u := binary.BigEndian.Uint64(d); u > math.MaxInt64 {
				return u, d[8:], nil
			}
		}
		i, _ := integer(b[:1+size])
		return i, d[size:], nil
	case 0xd6, 0xd7, 0xc7: // only timestamps are left after normalize
		return decodeTimestamp(c, d)
	case 0xdc:
		return decodeArray(int(binary.BigEndian.Uint16(d)), d[2:])
	case 0xdd:
		return decodeArray(int(binary.BigEndian.Uint32(d)), d[4:])
	case 0xde:
		return decodeMap(int(binary.BigEndian.Uint16(d)), d[2:])
	case 0xdf:
		return decodeMap(int(binary.BigEndian.Uint32(d)), d[4:])
	}
	return nil, nil, fmt.Errorf("%w: unexpected type 0x%02x", ErrMalformed, c)
}

// bytesOrString returns a bin's bytes (copied, as the JSON codec's
// attachments are not, but the frame may be reused by a caller) or a str.
func bytesOrString(c byte, p []byte) any {
	if c >= 0xc4 && c <= 0xc6 {
		return append([]byte{}, p...)
	}
	return string(p)
}

func decodeArray(n int, b []byte) (any, []byte, error) {
	out := make([]any, 0, min(n, len(b)))
	for range n {
		v, rest, err := decodeAny(b)
		if err != nil {
			return nil, nil, err
		}
		out, b = append(out, v), rest
	}
	return out, b, nil
}

func decodeMap(n int, b []byte) (any, []byte, error) {
	out := make(map[string]any, min(n, len(b)/2))
	for range n {
		k, rest, err := decodeAny(b)
		if err != nil {
			return nil, nil, err
		}
		v, rest, err := decodeAny(rest)
		if err != nil {
			return nil, nil, err
		}
		key, ok := k.(string)
		if !ok {
			key = fmt.Sprint(k) // JavaScript turns every key into a string too
		}
		out[key], b = v, rest
	}
	return out, b, nil
}

// decodeTimestamp decodes the standard timestamp extension (type -1) whose
// code c is fixext 4, fixext 8 or ext 8 with 12 bytes.
func decodeTimestamp(c byte, d []byte) (any, []byte, error) {
	switch c {
	case 0xd6:
		return time.Unix(int64(binary.BigEndian.Uint32(d[1:])), 0), d[5:], nil
	case 0xd7:
		v := binary.BigEndian.Uint64(d[1:])
		return time.Unix(int64(v&(1<<34-1)), int64(v>>34)), d[9:], nil
	}
	if d[0] != 12 {
		return nil, nil, fmt.Errorf("%w: ext of %d bytes", ErrMalformed, d[0])
	}
	return time.Unix(int64(binary.BigEndian.Uint64(d[6:])), int64(binary.BigEndian.Uint32(d[2:]))), d[14:], nil
}
