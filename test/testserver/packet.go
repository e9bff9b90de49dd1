package testserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Socket.IO v5 packet types (the character after the Engine.IO "4").
const (
	sioConnect      = '0'
	sioDisconnect   = '1'
	sioEvent        = '2'
	sioAck          = '3'
	sioConnectError = '4'
	sioBinaryEvent  = '5'
	sioBinaryAck    = '6'
)

// maxAttachments is the official decoder's default bound.
const maxAttachments = 10

// isReservedEvent reports the event names a client may not send.
func isReservedEvent(name string) bool {
	switch name {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// sioPacket is a decoded Socket.IO packet.
type sioPacket struct {
	typ         byte
	attachments int
	nsp         string
	id          int64 // valid when hasID
	hasID       bool
	data        json.RawMessage   // the JSON payload, nil when absent
	args        []json.RawMessage // data's elements for events and acks
	bins        [][]byte          // attachments, once received
}

// parsePacket decodes a Socket.IO packet (the Engine.IO message without its
// "4"), accepting what the official decoder accepts, except that an event
// must have a payload and an attachment count must be written in digits.
func parsePacket(s string) (*sioPacket, error) {
	if s == "" {
		return nil, errors.New("empty packet")
	}
	p := &sioPacket{typ: s[0], nsp: "/"}
	if p.typ < sioConnect || p.typ > sioBinaryAck {
		return nil, fmt.Errorf("unknown packet type %q", p.typ)
	}
	i := 1
	if p.typ == sioBinaryEvent || p.typ == sioBinaryAck {
		j := strings.IndexByte(s[i:], '-')
		if j <= 0 || !allDigits(s[i:i+j]) {
			return nil, errors.New("illegal attachments")
		}
		if j > 2 {
			return nil, errors.New("too many attachments")
		}
		n, _ := strconv.Atoi(s[i : i+j])
		if n > maxAttachments {
			return nil, errors.New("too many attachments")
		}
		p.attachments = n
		i += j + 1
	}
	if i < len(s) && s[i] == '/' {
		j := strings.IndexByte(s[i:], ',')
		if j < 0 {
			p.nsp, i = s[i:], len(s)
		} else {
			p.nsp, i = s[i:i+j], i+j+1
		}
	}
	j := i
	for j < len(s) && isDigit(s[j]) {
		j++
	}
	if j > i {
		id, err := strconv.ParseInt(s[i:j], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid ack id %q", s[i:j])
		}
		p.id, p.hasID, i = id, true, j
	}
	if i < len(s) {
		p.data = json.RawMessage(s[i:])
		if !json.Valid(p.data) {
			return nil, errors.New("invalid payload: not JSON")
		}
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// validate applies the official decoder's isPayloadValid, and checks that
// placeholders name attachments that exist.
func (p *sioPacket) validate() error {
	switch p.typ {
	case sioConnect:
		if p.data != nil && jsonKind(p.data) != '{' {
			return errors.New("invalid payload: CONNECT data must be an object")
		}
	case sioDisconnect:
		if p.data != nil {
			return errors.New("invalid payload: DISCONNECT takes no data")
		}
	case sioConnectError:
		if p.data != nil && jsonKind(p.data) != '{' && jsonKind(p.data) != '"' {
			return errors.New("invalid payload: CONNECT_ERROR data must be a string or an object")
		}
	case sioEvent, sioBinaryEvent:
		if p.data == nil {
			return errors.New("invalid payload: event without data")
		}
		if err := json.Unmarshal(p.data, &p.args); err != nil || p.args == nil {
			return errors.New("invalid payload: event data must be an array")
		}
		if len(p.args) == 0 {
			return errors.New("invalid payload: event without a name")
		}
		switch jsonKind(p.args[0]) {
		case '"':
			var name string
			_ = json.Unmarshal(p.args[0], &name)
			if isReservedEvent(name) {
				return fmt.Errorf("invalid payload: reserved event name %q", name)
			}
		case '0':
		default:
			return errors.New("invalid payload: event name must be a string or a number")
		}
	case sioAck, sioBinaryAck:
		if p.data != nil {
			if err := json.Unmarshal(p.data, &p.args); err != nil || p.args == nil {
				return errors.New("invalid payload: ack data must be an array")
			}
		}
	}
	if p.typ == sioBinaryEvent || p.typ == sioBinaryAck {
		var tree any
		d := json.NewDecoder(bytes.NewReader(p.data))
		d.UseNumber()
		if err := d.Decode(&tree); err != nil {
			return errors.New("invalid payload")
		}
		if err := checkPlaceholders(tree, p.attachments); err != nil {
			return err
		}
	}
	return nil
}

// checkPlaceholders fails on a placeholder {"_placeholder":true,"num":N} whose
// N is not the index of an attachment.
func checkPlaceholders(v any, attachments int) error {
	switch v := v.(type) {
	case map[string]any:
		if v["_placeholder"] == true {
			num, ok := v["num"].(json.Number)
			n, err := num.Int64()
			if !ok || err != nil || n < 0 || n >= int64(attachments) {
				return errors.New("illegal attachments: bad placeholder")
			}
			return nil
		}
		for _, e := range v {
			if err := checkPlaceholders(e, attachments); err != nil {
				return err
			}
		}
	case []any:
		for _, e := range v {
			if err := checkPlaceholders(e, attachments); err != nil {
				return err
			}
		}
	}
	return nil
}

// jsonKind returns '{', '[', '"', '0' (number), 't', 'f' or 'n' for a valid
// JSON value, 0 for empty input.
func jsonKind(v json.RawMessage) byte {
	v = bytes.TrimLeft(v, " \t\r\n")
	if len(v) == 0 {
		return 0
	}
	switch c := v[0]; {
	case c == '-' || isDigit(c):
		return '0'
	default:
		return c
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return s != ""
}

// encodePacket builds an Engine.IO message carrying a Socket.IO packet:
// "4<type>[<attachments>-][<nsp>,][<id>][<data>]". id < 0 means no ack id.
func encodePacket(typ byte, nsp string, id int64, data []byte, attachments int) string {
	var b strings.Builder
	b.WriteByte('4')
	b.WriteByte(typ)
	if typ == sioBinaryEvent || typ == sioBinaryAck {
		b.WriteString(strconv.Itoa(attachments))
		b.WriteByte('-')
	}
	if nsp != "" && nsp != "/" {
		b.WriteString(nsp)
		b.WriteByte(',')
	}
	if id >= 0 {
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.Write(data)
	return b.String()
}

// jsonArray joins JSON values into a JSON array.
func jsonArray(elems ...json.RawMessage) []byte {
	return append(append([]byte{'['}, bytes.Join(toBytes(elems), []byte{','})...), ']')
}

func toBytes(elems []json.RawMessage) [][]byte {
	out := make([][]byte, len(elems))
	for i, e := range elems {
		out[i] = e
	}
	return out
}

// jsonString returns s as a JSON string.
func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}

// eventPacket encodes an event (binary when there are attachments).
func eventPacket(nsp string, id int64, name string, args []json.RawMessage, bins [][]byte) string {
	data := jsonArray(append([]json.RawMessage{jsonString(name)}, args...)...)
	if len(bins) > 0 {
		return encodePacket(sioBinaryEvent, nsp, id, data, len(bins))
	}
	return encodePacket(sioEvent, nsp, id, data, 0)
}

// ackPacket encodes an ack (binary when there are attachments).
func ackPacket(nsp string, id int64, args []json.RawMessage, bins [][]byte) string {
	data := jsonArray(args...)
	if len(bins) > 0 {
		return encodePacket(sioBinaryAck, nsp, id, data, len(bins))
	}
	return encodePacket(sioAck, nsp, id, data, 0)
}
