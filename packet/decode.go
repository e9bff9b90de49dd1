package packet

import (
	"bytes"
	"encoding/json"
	"math"
	"unicode/utf8"
)

// decoder is the Decoder of the JSON codec. It holds one binary packet
// while its attachments arrive.
type decoder struct {
	max     int      // attachments accepted per packet
	waiting *binWait // the binary packet that waits for attachments, if any
}

// binWait is a binary packet waiting for its attachments. A decoder makes
// one per binary packet rather than holding one: every connection has a
// decoder, and few ever see a binary packet.
type binWait struct {
	p       Packet
	want    int    // attachments announced
	head    []byte // its text frame, for placeholder checks and errors
	payload []byte // its JSON payload
}

// Decode consumes one Engine.IO message frame.
//
// A text frame (Data[0] == '4') carries a packet; a binary frame is the
// next attachment of the binary packet being assembled. A BinaryEvent or
// BinaryAck packet is returned with ok true once its announced attachments
// have arrived, with Type still BinaryEvent or BinaryAck and the frames'
// Data in Attachments, in order. Until then Decode returns ok false.
//
// The returned Packet shares memory with the frames (Args, Data,
// Attachments are sub-slices of them, never copies): the caller must not
// modify or reuse frame buffers afterwards. Namespace is "/" for the main
// namespace. After an error the pending packet, if any, is dropped.
func (d *decoder) Decode(f Frame) (Packet, bool, error) {
	w := d.waiting
	if f.Binary {
		if w == nil {
			return Packet{}, false, decodeError(ErrUnexpectedAttachment, f.Data)
		}
		w.p.Attachments = append(w.p.Attachments, f.Data)
		if len(w.p.Attachments) < w.want {
			return Packet{}, false, nil
		}
		d.waiting = nil
		if err := checkPlaceholders(w.payload, len(w.p.Attachments)); err != nil {
			return Packet{}, false, decodeError(err, w.head)
		}
		return w.p, true, nil
	}
	if w != nil {
		d.waiting = nil
		return Packet{}, false, decodeError(ErrMissingAttachments, f.Data)
	}
	if len(f.Data) == 0 || f.Data[0] != '0'+byte(FrameMessage) {
		return Packet{}, false, decodeError(ErrBadFrame, f.Data)
	}
	p, count, payload, err := parsePacket(f.Data[1:], d.max)
	if err != nil {
		return Packet{}, false, decodeError(err, f.Data)
	}
	if p.Type != BinaryEvent && p.Type != BinaryAck || count == 0 {
		// Without attachments, placeholder objects are data.
		return p, true, nil
	}
	// Never trust the announced count for allocation beyond a small bound.
	p.Attachments = make([][]byte, 0, min(count, 8))
	d.waiting = &binWait{p: p, want: count, head: f.Data, payload: payload}
	return Packet{}, false, nil
}

// checkPlaceholders verifies that every placeholder in payload refers to
// one of n attachments.
func checkPlaceholders(payload []byte, n int) error {
	if len(payload) == 0 || !mayHavePlaceholder(payload) {
		return nil
	}
	return walkPlaceholders(payload, func(_, _ int, num []byte) error {
		if _, ok := attachmentIndex(num, n); !ok {
			return ErrBadAttachment
		}
		return nil
	})
}

// mayHavePlaceholder is a quick filter: a placeholder key appears either
// literally or written with \u escapes.
func mayHavePlaceholder(b []byte) bool {
	return bytes.Contains(b, []byte(placeholderKey)) || bytes.Contains(b, []byte(`\u`))
}

// parsePacket parses the Socket.IO part of a message frame (after the '4').
// A text frame must be UTF-8 (RFC 6455, RFC 8259): invalid UTF-8 in the
// payload is ErrBadJSON, in the namespace ErrBadNamespace.
// It returns the packet, the announced attachment count of a binary packet
// and the raw JSON payload (nil when absent).
func parsePacket(s []byte, maxAttachments int) (p Packet, count int, payload []byte, err error) {
	if len(s) == 0 || s[0] < '0' || s[0] > '0'+byte(BinaryAck) {
		return p, 0, nil, ErrUnknownType
	}
	p.Type = Type(s[0] - '0')
	i := 1

	if p.Type == BinaryEvent || p.Type == BinaryAck {
		start := i
		for ; i < len(s) && isDigit(s[i]); i++ {
			d := int(s[i] - '0')
			if count > maxAttachments/10 || count*10 > maxAttachments-d {
				return p, 0, nil, ErrTooManyAttachments
			}
			count = count*10 + d
		}
		if i == start || i >= len(s) || s[i] != '-' {
			return p, 0, nil, ErrBadAttachment
		}
		i++
	}

	p.Namespace = "/"
	if i < len(s) && s[i] == '/' {
		end := bytes.IndexByte(s[i:], ',')
		next := len(s)
		if end < 0 {
			end = len(s) - i
		} else {
			next = i + end + 1
		}
		ns := s[i : i+end]
		if bytes.ContainsAny(ns, `"[{`) || !utf8.Valid(ns) {
			return p, 0, nil, ErrBadNamespace
		}
		if len(ns) > 1 {
			p.Namespace = string(ns)
		}
		i = next
	}

	if i < len(s) && isDigit(s[i]) {
		var id uint64
		for ; i < len(s) && isDigit(s[i]); i++ {
			d := uint64(s[i] - '0')
			if id > (math.MaxUint64-d)/10 {
				return p, 0, nil, ErrBadID
			}
			id = id*10 + d
		}
		p.ID, p.HasID = id, true
	}

	if i < len(s) {
		payload = s[i:]
		if !validJSON(payload) || !utf8.Valid(payload) {
			return p, 0, nil, ErrBadJSON
		}
		payload = trimSpace(payload)
	}
	if err := p.setPayload(payload); err != nil {
		return p, 0, nil, err
	}
	return p, count, payload, nil
}

// isDigit reports whether c is an ASCII decimal digit.
func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// setPayload checks payload (valid, trimmed JSON or nil) against the rules
// of the official decoder for p.Type and stores it in p.
func (p *Packet) setPayload(payload []byte) error {
	var first byte
	if len(payload) > 0 {
		first = payload[0]
	}
	switch p.Type {
	case Connect:
		if payload != nil && first != '{' {
			return ErrBadPayload
		}
		p.Data = payload
	case Disconnect:
		if payload != nil {
			return ErrBadPayload
		}
	case ConnectError:
		if first != '{' && first != '"' {
			return ErrBadPayload
		}
		p.Data = payload
	case Event, BinaryEvent:
		if first != '[' {
			return ErrBadPayload
		}
		return p.setEventArgs(payload)
	case Ack, BinaryAck:
		if first != '[' || !p.HasID {
			return ErrBadPayload
		}
		p.Args = splitArray(payload, 0)
	}
	return nil
}

// setEventArgs fills Name, HasName and Args from an event's array.
func (p *Packet) setEventArgs(payload []byte) error {
	it, _ := newArrayIter(payload)
	first, ok := it.next()
	if !ok {
		return ErrBadPayload // the array is empty
	}
	if first[0] != '"' {
		p.Args = splitArray(payload, 0)
		return nil
	}
	name, err := unquote(first)
	if err != nil {
		return ErrBadJSON
	}
	if isReserved(name) {
		return ErrBadPayload
	}
	p.Name, p.HasName = name, true
	p.Args = splitArray(payload, 1)
	return nil
}

// splitArray returns the elements of the valid JSON array payload after the
// first skip ones, in a slice allocated once at its exact length (nil when
// there are none).
func splitArray(payload []byte, skip int) []json.RawMessage {
	it, _ := newArrayIter(payload)
	n := 0
	for _, ok := it.next(); ok; _, ok = it.next() {
		n++
	}
	if n <= skip {
		return nil
	}
	args := make([]json.RawMessage, 0, n-skip)
	it, _ = newArrayIter(payload)
	for i := 0; ; i++ {
		elem, ok := it.next()
		if !ok {
			return args
		}
		if i >= skip {
			args = append(args, elem)
		}
	}
}

// unquote decodes a valid, UTF-8 JSON string; one without escapes is
// converted directly.
func unquote(raw []byte) (string, error) {
	if len(raw) < 2 {
		return "", ErrBadJSON
	}
	body := raw[1 : len(raw)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return string(body), nil
	}
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}
