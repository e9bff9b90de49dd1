package packet

import (
	"bytes"
	"encoding/base64"
	"errors"
	"unicode/utf8"
)

// ErrBadPolling reports an HTTP long-polling body that is not a valid
// Engine.IO v4 payload: an empty body, an empty record (a stray or doubled
// separator), a text record that does not start with a type digit '0' to
// '6' or is not valid UTF-8, or a binary record whose base64 is malformed.
var ErrBadPolling = errors.New("packet: bad polling payload")

// separator joins the packets of an Engine.IO v4 polling body (the ASCII
// record separator). It cannot occur inside a multi-byte UTF-8 sequence, so
// a body can be split on it byte-wise.
const separator = 0x1e

// binaryMark stands where the type digit would be for a binary packet in a
// polling body; the base64 of the packet's bytes follows it.
const binaryMark = 'b'

// AppendPayload appends frames to dst as one Engine.IO v4 polling body and
// returns the extended slice: the packets joined by the record separator
// 0x1e, a text frame as its Data, a binary frame as 'b' followed by the
// standard (padded) base64 of its Data, e.g.
//
//	4hello\x1e2\x1ebAQID
//
// No frames append nothing. The frames are not validated: a text frame
// must be non-empty and must not contain 0x1e for the body to decode as the
// same frames (frames built by TextFrame from JSON payloads qualify).
func AppendPayload(dst []byte, frames []Frame) []byte {
	for i, f := range frames {
		if i > 0 {
			dst = append(dst, separator)
		}
		if f.Binary {
			dst = append(dst, binaryMark)
			dst = base64.StdEncoding.AppendEncode(dst, f.Data)
		} else {
			dst = append(dst, f.Data...)
		}
	}
	return dst
}

// PayloadSize returns the number of bytes f takes in a polling body as
// AppendPayload writes it: len(f.Data) for a text frame, 1 plus the length of
// its base64 for a binary frame. The separator between two frames is not
// counted.
func PayloadSize(f Frame) int {
	if f.Binary {
		return 1 + base64.StdEncoding.EncodedLen(len(f.Data))
	}
	return len(f.Data)
}

// DecodePayload splits an Engine.IO v4 polling body into its frames, in
// order. A record starting with 'b' becomes a binary frame holding the
// decoded base64 that follows (standard alphabet; the padding may be left
// out); any other record must be a valid text frame, as ParseFrame requires,
// and valid UTF-8. A malformed body yields a *DecodeError matching
// ErrBadPolling and no frames.
//
// Text frames share memory with body; binary frames do not. The memory
// allocated is proportional to len(body).
func DecodePayload(body []byte) ([]Frame, error) {
	if len(body) == 0 {
		return nil, decodeError(ErrBadPolling, body)
	}
	frames := make([]Frame, 0, bytes.Count(body, []byte{separator})+1)
	rest := body
	for {
		rec, tail, more := bytes.Cut(rest, []byte{separator})
		f, err := decodeRecord(rec)
		if err != nil {
			if len(rec) == 0 {
				// An empty record says nothing by itself: show where it sits.
				return nil, decodeError(ErrBadPolling, body)
			}
			return nil, err
		}
		frames = append(frames, f)
		if !more {
			return frames, nil
		}
		rest = tail
	}
}

// decodeRecord decodes one record of a polling body.
func decodeRecord(rec []byte) (Frame, error) {
	if len(rec) == 0 {
		return Frame{}, decodeError(ErrBadPolling, rec)
	}
	if rec[0] == binaryMark {
		data, ok := decodeBase64(rec[1:])
		if !ok {
			return Frame{}, decodeError(ErrBadPolling, rec)
		}
		return Frame{Data: data, Binary: true}, nil
	}
	if rec[0] < '0' || rec[0] > '6' || !utf8.Valid(rec) {
		return Frame{}, decodeError(ErrBadPolling, rec)
	}
	return Frame{Data: rec}, nil
}

// decodeBase64 decodes padded standard base64, or unpadded when src holds
// no '=' at all.
func decodeBase64(src []byte) ([]byte, bool) {
	dst := make([]byte, base64.RawStdEncoding.DecodedLen(len(src)))
	n, err := base64.StdEncoding.Decode(dst, src)
	if err != nil {
		if bytes.IndexByte(src, '=') >= 0 {
			return nil, false
		}
		if n, err = base64.RawStdEncoding.Decode(dst, src); err != nil {
			return nil, false
		}
	}
	return dst[:n], true
}
