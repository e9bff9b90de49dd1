package webtransport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/transport"
)

// appendFrame appends f with its header: the top bit of the first byte
// tells binary, the other seven the length (below 126), or 126 and a 16-bit
// length, or 127 and a 64-bit one.
func appendFrame(b []byte, f packet.Frame) []byte {
	var bin byte
	if f.Binary {
		bin = 0x80
	}
	switch n := len(f.Data); {
	case n < 126:
		b = append(b, bin|byte(n))
	case n < 1<<16:
		b = append(b, bin|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, bin|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, f.Data...)
}

// readFrame reads one frame of at most limit bytes of payload. Empty frames
// are skipped: the official decoder rejects them (an Engine.IO packet has at
// least its type), and zishang520's Go server sends one after a large
// message, a WebSocket-style final fragment.
func readFrame(r *bufio.Reader, limit int64) (packet.Frame, error) {
	for {
		h, err := r.ReadByte()
		if err != nil {
			return packet.Frame{}, err
		}
		bin := h&0x80 != 0
		n := uint64(h & 0x7f)
		switch n {
		case 126:
			var b [2]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return packet.Frame{}, noEOF(err)
			}
			n = uint64(binary.BigEndian.Uint16(b[:]))
		case 127:
			var b [8]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return packet.Frame{}, noEOF(err)
			}
			n = binary.BigEndian.Uint64(b[:])
		}
		if n == 0 {
			continue
		}
		if n > uint64(limit) {
			return packet.Frame{}, fmt.Errorf("%w: a %d-byte frame, over the limit of %d", transport.ErrFrameTooLarge, n, limit)
		}
		// Grown as the bytes come, not allocated at the announced size.
		data, err := io.ReadAll(io.LimitReader(r, int64(n)))
		if err != nil {
			return packet.Frame{}, err
		}
		if uint64(len(data)) < n {
			return packet.Frame{}, io.ErrUnexpectedEOF
		}
		if !bin && !utf8.Valid(data) {
			return packet.Frame{}, fmt.Errorf("%w: text frame is not valid UTF-8", transport.ErrInvalidUTF8)
		}
		return packet.ParseFrame(data, bin)
	}
}

// noEOF turns an EOF inside a frame into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
