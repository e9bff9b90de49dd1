package msgpack

import (
	"encoding/binary"
	"errors"
	"math"
)

// maxDepth bounds the nesting of arrays and maps in a received value, like
// encoding/json's limit: deeper input is an error, never a stack overflow.
const maxDepth = 10000

// errTruncated reports a value cut short.
var errTruncated = errors.New("truncated value")

// errTooDeep reports a value nested deeper than maxDepth.
var errTooDeep = errors.New("value nested too deeply")

// errBadCode reports the one byte MessagePack never uses (0xc1).
var errBadCode = errors.New("invalid type code 0xc1")

// scanner walks MessagePack values without decoding them. It checks that a
// value is complete and not nested deeper than maxDepth, and rewrites the
// extension types notepack.io (the JS encoder of socket.io-msgpack-parser)
// writes, which vmihailenco/msgpack would reject, into standard ones (see
// rewriteExt).
type scanner struct {
	b    []byte
	i    int
	ext  bool // an extension that needs rewriting was seen
	emit bool // append the rewritten value to out
	out  []byte
}

// value returns the length of the one value at the start of b, and whether
// it holds an extension that must be rewritten (normalize) before decoding.
func value(b []byte) (n int, ext bool, err error) {
	s := scanner{b: b}
	err = s.value(0)
	return s.i, s.ext, err
}

// normalize returns b, a complete value, with notepack.io's extensions
// rewritten (see rewriteExt).
func normalize(b []byte) ([]byte, error) {
	s := scanner{b: b, emit: true, out: make([]byte, 0, len(b)+16)}
	if err := s.value(0); err != nil {
		return nil, err
	}
	return s.out, nil
}

// take consumes n bytes.
func (s *scanner) take(n int) ([]byte, error) {
	if n < 0 || n > len(s.b)-s.i {
		return nil, errTruncated
	}
	p := s.b[s.i : s.i+n]
	s.i += n
	return p, nil
}

func (s *scanner) copyOut(p []byte) {
	if s.emit {
		s.out = append(s.out, p...)
	}
}

// length reads a big-endian length of size bytes (1, 2 or 4).
func (s *scanner) length(size int) (int, []byte, error) {
	p, err := s.take(size)
	if err != nil {
		return 0, nil, err
	}
	switch size {
	case 1:
		return int(p[0]), p, nil
	case 2:
		return int(binary.BigEndian.Uint16(p)), p, nil
	}
	n := binary.BigEndian.Uint32(p)
	if uint64(n) > math.MaxInt32 {
		return 0, nil, errTruncated // no frame is that large
	}
	return int(n), p, nil
}

func (s *scanner) value(depth int) error {
	if depth > maxDepth {
		return errTooDeep
	}
	start := s.i
	head, err := s.take(1)
	if err != nil {
		return err
	}
	c := head[0]
	switch {
	case c <= 0x7f, c >= 0xe0, c == 0xc0, c == 0xc2, c == 0xc3:
		s.copyOut(head)
		return nil
	case c >= 0x80 && c <= 0x8f:
		s.copyOut(head)
		return s.elems(2*int(c&0x0f), depth)
	case c >= 0x90 && c <= 0x9f:
		s.copyOut(head)
		return s.elems(int(c&0x0f), depth)
	case c >= 0xa0 && c <= 0xbf:
		return s.fixed(start, int(c&0x1f))
	}
	switch c {
	case 0xc1:
		return errBadCode
	case 0xc4, 0xd9: // bin 8, str 8
		return s.sizedBy(start, 1)
	case 0xc5, 0xda:
		return s.sizedBy(start, 2)
	case 0xc6, 0xdb:
		return s.sizedBy(start, 4)
	case 0xc7, 0xc8, 0xc9: // ext 8, 16, 32
		n, _, err := s.length(1 << (c - 0xc7))
		if err != nil {
			return err
		}
		return s.extension(start, c, n)
	case 0xca, 0xce, 0xd2: // float 32, uint 32, int 32
		return s.fixed(start, 4)
	case 0xcb, 0xcf, 0xd3:
		return s.fixed(start, 8)
	case 0xcc, 0xd0:
		return s.fixed(start, 1)
	case 0xcd, 0xd1:
		return s.fixed(start, 2)
	case 0xd4, 0xd5, 0xd6, 0xd7, 0xd8: // fixext 1, 2, 4, 8, 16
		return s.extension(start, c, 1<<(c-0xd4))
	case 0xdc, 0xdd: // array 16, 32
		n, _, err := s.length(2 << (c - 0xdc))
		if err != nil {
			return err
		}
		s.copyOut(s.b[start:s.i])
		return s.elems(n, depth)
	case 0xde, 0xdf: // map 16, 32
		n, _, err := s.length(2 << (c - 0xde))
		if err != nil {
			return err
		}
		s.copyOut(s.b[start:s.i])
		return s.elems(2*n, depth)
	}
	return errBadCode // unreachable: every byte is covered above
}

// elems scans n values nested one level deeper.
func (s *scanner) elems(n, depth int) error {
	for range n {
		if err := s.value(depth + 1); err != nil {
			return err
		}
	}
	return nil
}

// fixed consumes n more bytes of a value that began at start.
func (s *scanner) fixed(start, n int) error {
	if _, err := s.take(n); err != nil {
		return err
	}
	s.copyOut(s.b[start:s.i])
	return nil
}

// sizedBy consumes a str or bin whose length takes size bytes.
func (s *scanner) sizedBy(start, size int) error {
	n, _, err := s.length(size)
	if err != nil {
		return err
	}
	return s.fixed(start, n)
}

// timestampExt is the extension type of the standard MessagePack timestamp.
const timestampExt = -1

// extension consumes an extension of n data bytes whose header (code c and
// length, if any) began at start, and rewrites it when emitting.
func (s *scanner) extension(start int, c byte, n int) error {
	tb, err := s.take(1)
	if err != nil {
		return err
	}
	typ := int8(tb[0])
	data, err := s.take(n)
	if err != nil {
		return err
	}
	if typ == timestampExt && (n == 4 || n == 8 || n == 12) {
		s.copyOut(s.b[start:s.i]) // vmihailenco reads it as a time.Time
		return nil
	}
	s.ext = true
	if s.emit {
		s.out = rewriteExt(s.out, c, typ, data)
	}
	return nil
}

// rewriteExt appends the standard form of an extension value: notepack.io's
// undefined (fixext 1, type 0) becomes nil; its ArrayBuffer (ext 8/16/32,
// type 0) becomes bin; its Date (fixext 8, type 0: milliseconds since the
// epoch, as a signed high and an unsigned low 32-bit word) becomes a
// standard timestamp (a time.Time); any other extension becomes the array
// [type, bin] that notepack.io itself decodes it to.
func rewriteExt(out []byte, c byte, typ int8, data []byte) []byte {
	switch {
	case typ == 0 && c == 0xd4:
		return append(out, 0xc0)
	case typ == 0 && c >= 0xc7 && c <= 0xc9:
		return appendBin(out, data)
	case typ == 0 && c == 0xd7:
		ms := int64(int32(binary.BigEndian.Uint32(data)))<<32 | int64(binary.BigEndian.Uint32(data[4:]))
		sec, rem := ms/1000, ms%1000
		if rem < 0 {
			sec, rem = sec-1, rem+1000
		}
		out = append(out, 0xc7, 12, 0xff)
		out = binary.BigEndian.AppendUint32(out, uint32(rem*1e6))
		return binary.BigEndian.AppendUint64(out, uint64(sec))
	}
	out = append(out, 0x92)
	if typ >= -32 {
		out = append(out, byte(typ))
	} else {
		out = append(out, 0xd0, byte(typ))
	}
	return appendBin(out, data)
}

// appendBin appends data as a MessagePack bin.
func appendBin(out, data []byte) []byte {
	switch n := len(data); {
	case n < 1<<8:
		out = append(out, 0xc4, byte(n))
	case n < 1<<16:
		out = append(out, 0xc5, byte(n>>8), byte(n))
	default:
		out = append(out, 0xc6)
		out = binary.BigEndian.AppendUint32(out, uint32(n))
	}
	return append(out, data...)
}
