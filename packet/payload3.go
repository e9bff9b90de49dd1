package packet

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"
)

// Engine.IO v3 polling bodies (engine.io-parser 2.x with b64=1) are
// length-prefixed rather than separated: every packet is written as
//
//	<length>:<packet>
//
// with nothing between two packets. The length is the packet's length as a
// JavaScript string, that is in UTF-16 code units, not in bytes: "€" is one
// unit (three UTF-8 bytes) and an astral-plane character such as "😀" is two
// (a surrogate pair; four UTF-8 bytes). A binary packet is written in base64
// as 'b', its type digit and the base64 of its data ("b4AQID" for the
// message 01 02 03); its length counts that whole string.

// maxLengthDigits bounds the length prefix of a v3 record: ten digits already
// allow a ~10 GB packet, far beyond any body a transport reads.
const maxLengthDigits = 10

// AppendPayloadV3 appends frames to dst as one Engine.IO v3 polling body in
// the b64 variant and returns the extended slice: each frame as
// "<length>:<packet>", where the packet is a text frame's Data, or "b4"
// followed by the standard (padded) base64 of a binary frame's Data, and the
// length counts the UTF-16 code units of the packet, e.g.
//
//	6:4hello2:4€6:b4AQID
//
// No frames append nothing. The frames are not validated: a text frame must
// be non-empty valid UTF-8 starting with a type digit for the body to decode
// as the same frames (an invalid UTF-8 byte is counted as one unit, like the
// U+FFFD that replaces it when a server decodes the body).
func AppendPayloadV3(dst []byte, frames []Frame) []byte {
	for _, f := range frames {
		if f.Binary {
			dst = strconv.AppendInt(dst, int64(2+base64.StdEncoding.EncodedLen(len(f.Data))), 10)
			dst = append(dst, ':', binaryMark, '0'+byte(FrameMessage))
			dst = base64.StdEncoding.AppendEncode(dst, f.Data)
		} else {
			dst = strconv.AppendInt(dst, int64(utf16Len(f.Data)), 10)
			dst = append(dst, ':')
			dst = append(dst, f.Data...)
		}
	}
	return dst
}

// PayloadSizeV3 returns the number of bytes f takes in a v3 polling body as
// AppendPayloadV3 writes it, its length prefix and ':' included. A text frame
// takes len(f.Data) bytes after the prefix, a binary frame 2 plus the length
// of its base64.
func PayloadSizeV3(f Frame) int {
	var n, units int
	if f.Binary {
		n = 2 + base64.StdEncoding.EncodedLen(len(f.Data))
		units = n
	} else {
		n = len(f.Data)
		units = utf16Len(f.Data)
	}
	return decimalLen(units) + 1 + n
}

// DecodePayloadV3 splits an Engine.IO v3 polling body in the b64 variant
// into its frames, in order. The body is a sequence of "<length>:<packet>"
// records, where length is a decimal number without leading zeros counting
// the UTF-16 code units of the packet (an astral-plane character counts 2,
// "€" counts 1 although it takes 3 bytes), so that "6:4hello2:4€" holds
// "4hello" and "4€".
//
// A packet starting with 'b' is a base64-encoded binary packet: 'b', a type
// digit, then standard base64 (the padding may be left out). "b4..." becomes
// a binary frame holding the decoded bytes. A binary packet of another type,
// which servers do not send, becomes the text frame of that type carrying the
// decoded bytes, which must then be valid UTF-8. Any other packet must be a
// valid text frame, as ParseFrame requires.
//
// A malformed body yields a *DecodeError matching ErrBadPolling and no
// frames: an empty body, a missing, non-numeric, zero, over-long or
// zero-padded length, a length running past the end of the body or ending
// between the two halves of a surrogate pair, invalid UTF-8, a bad type digit
// or bad base64.
//
// Text frames share memory with body; binary frames do not. The memory
// allocated is proportional to len(body), whatever the lengths announced.
func DecodePayloadV3(body []byte) ([]Frame, error) {
	if len(body) == 0 {
		return nil, decodeError(ErrBadPolling, body)
	}
	var frames []Frame
	for rest := body; len(rest) > 0; {
		n, i, ok := parseLength(rest)
		if !ok {
			return nil, decodeError(ErrBadPolling, rest)
		}
		end, ok := skipUnits(rest, i, n)
		if !ok {
			return nil, decodeError(ErrBadPolling, rest)
		}
		f, err := decodeRecordV3(rest[i:end])
		if err != nil {
			return nil, err
		}
		if frames == nil {
			// A guess that spares the regrowths for a short body; the
			// shortest record ("1:6") takes 3 bytes.
			frames = make([]Frame, 0, min(len(body)/3, 8))
		}
		frames = append(frames, f)
		rest = rest[end:]
	}
	return frames, nil
}

// parseLength parses the "<length>:" at the start of rec and returns the
// length and the index of the packet after the ':'. The length must be
// non-zero, written without leading zeros, and no longer than rec is in bytes
// after the ':' (a UTF-16 code unit takes at least one byte), so a hostile
// value is rejected before it is used.
func parseLength(rec []byte) (n, i int, ok bool) {
	var v int64 // ten digits fit, whatever the size of int
	for ; i < len(rec) && rec[i] >= '0' && rec[i] <= '9'; i++ {
		if i == maxLengthDigits {
			return 0, 0, false
		}
		v = v*10 + int64(rec[i]-'0')
	}
	if i == 0 || i == len(rec) || rec[i] != ':' || rec[0] == '0' {
		return 0, 0, false
	}
	i++
	if v > int64(len(rec)-i) {
		return 0, 0, false
	}
	return int(v), i, true
}

// skipUnits returns the index in rec just past the n UTF-16 code units that
// start at index i, checking that they are valid UTF-8. It fails when rec
// ends first or when the n-th unit is the first half of a surrogate pair.
func skipUnits(rec []byte, i, n int) (int, bool) {
	for units := 0; units < n; {
		if i == len(rec) {
			return 0, false
		}
		if c := rec[i]; c < utf8.RuneSelf {
			i++
			units++
			continue
		}
		r, size := utf8.DecodeRune(rec[i:])
		if r == utf8.RuneError && size == 1 {
			return 0, false
		}
		i += size
		units++
		if r > 0xFFFF {
			if units == n {
				return 0, false // the length cuts the surrogate pair
			}
			units++
		}
	}
	return i, true
}

// decodeRecordV3 decodes the packet of one record of a v3 body.
func decodeRecordV3(rec []byte) (Frame, error) {
	if rec[0] != binaryMark {
		// skipUnits checked the UTF-8.
		if rec[0] < '0' || rec[0] > '6' {
			return Frame{}, decodeError(ErrBadPolling, rec)
		}
		return Frame{Data: rec}, nil
	}
	if len(rec) < 2 || rec[1] < '0' || rec[1] > '6' {
		return Frame{}, decodeError(ErrBadPolling, rec)
	}
	data, ok := decodeBase64(rec[2:])
	if !ok {
		return Frame{}, decodeError(ErrBadPolling, rec)
	}
	if t := FrameType(rec[1] - '0'); t != FrameMessage {
		// A frame holds binary data for messages only: carry the data of
		// any other type as text, as the JavaScript client would see it.
		if !utf8.Valid(data) {
			return Frame{}, decodeError(ErrBadPolling, rec)
		}
		text := make([]byte, 1+len(data))
		text[0] = rec[1]
		copy(text[1:], data)
		return Frame{Data: text}, nil
	}
	return Frame{Data: data, Binary: true}, nil
}

// utf16Len returns the length of s in UTF-16 code units, its length as a
// JavaScript string: 2 for a character beyond U+FFFF, 1 for any other and
// for each byte that is not part of a valid UTF-8 sequence.
func utf16Len(s []byte) int {
	n := 0
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			n++
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		i += size
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

// decimalLen returns the number of decimal digits of n ≥ 0.
func decimalLen(n int) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}
