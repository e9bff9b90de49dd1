package packet

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// JSON is the Codec of the official socket.io-parser: a Socket.IO packet is
// one text message frame
//
//	4<type>[<attachments>-][<namespace>,][<ack id>][<JSON payload>]
//
// followed by one binary frame per attachment. The zero value is ready to
// use and JSON is safe for concurrent use; the Decoders it returns are not.
type JSON struct{}

// Compile-time check that JSON implements Codec.
var _ Codec = JSON{}

// isReserved reports whether name is an event name the official
// implementation reserves and rejects in EVENT packets.
func isReserved(name string) bool {
	switch name {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// Encode encodes one packet as the official socket.io-parser does.
//
// The payload depends on h.Type: Event sends the array [event, args...],
// Ack the array args, Connect and ConnectError args[0] when it is given and
// not nil (it must encode as a JSON object, or for ConnectError a string),
// Disconnect nothing. A namespace of "" or "/" is left out; any other must
// start with '/' and contain no ','. An Ack needs h.HasID, and an Event may
// not use a reserved name ("connect", "disconnect", ...).
//
// Each argument is encoded as json.Marshal encodes it, except that in Event
// and Ack arguments every non-nil []byte json.Marshal would write as base64
// (at any depth: in []any, maps, struct fields, behind pointers and
// interfaces; named byte-slice types too) is replaced by the placeholder
// {"_placeholder":true,"num":N}, numbered in document order, and returned,
// not copied, in Message.Attachments; the packet type then becomes
// BinaryEvent or BinaryAck with the attachment count. Passing BinaryEvent
// or BinaryAck as h.Type is the same as Event or Ack. A nil []byte encodes
// as null. In Connect and ConnectError data, []byte is base64 as with
// json.Marshal. A value with its own MarshalJSON or MarshalText is what
// that method writes, []byte inside it included.
//
// Encode fails where json.Marshal fails, wrapping its error types
// (*json.UnsupportedTypeError, *json.UnsupportedValueError,
// *json.MarshalerError), and also on a cycle through embedded pointers
// (where json.Marshal overflows its stack); a panic in a method of an
// argument comes back as an error wrapping the panic value. The text may differ from
// json.Marshal's only byte for byte, not once parsed: '<', '>', '&',
// U+2028 and U+2029 may be left unescaped (as JSON.stringify leaves
// them), a json.RawMessage may keep its whitespace, and invalid UTF-8
// written by a MarshalJSON method or a json.RawMessage becomes \ufffd.
func (JSON) Encode(h Header, event string, args []any) (Message, error) {
	t := h.Type
	switch t {
	case BinaryEvent:
		t = Event
	case BinaryAck:
		t = Ack
	}
	if t > ConnectError {
		return Message{}, fmt.Errorf("packet: encode %v: %w", h.Type, ErrUnknownType)
	}
	ns := h.Namespace
	if ns == "/" {
		ns = ""
	}
	if ns != "" && (ns[0] != '/' || strings.IndexByte(ns, ',') >= 0) {
		return Message{}, fmt.Errorf("packet: encode namespace %q: %w", h.Namespace, ErrBadNamespace)
	}
	switch {
	case t == Event && isReserved(event):
		return Message{}, fmt.Errorf("packet: encode: %q is a reserved event name: %w", event, ErrBadPayload)
	case t == Ack && !h.HasID:
		return Message{}, fmt.Errorf("packet: encode: ACK without an id: %w", ErrBadPayload)
	}

	e := encoder{buf: make([]byte, 0, sizeHint(ns, event, args))}
	e.buf = append(e.buf, '4', '0'+byte(t))
	if ns != "" {
		e.buf = append(e.buf, ns...)
		e.buf = append(e.buf, ',')
	}
	if h.HasID {
		e.buf = strconv.AppendUint(e.buf, h.ID, 10)
	}
	switch t {
	case Event, Ack:
		e.binary = true
		e.buf = append(e.buf, '[')
		if t == Event {
			e.buf = appendString(e.buf, event)
		}
		for i, a := range args {
			if i > 0 || t == Event {
				e.buf = append(e.buf, ',')
			}
			if err := e.appendArg(a); err != nil {
				return Message{}, fmt.Errorf("packet: encode argument %d: %w", i, err)
			}
		}
		e.buf = append(e.buf, ']')
	case Connect, ConnectError:
		if len(args) > 0 && args[0] != nil {
			start := len(e.buf)
			if err := e.appendArg(args[0]); err != nil {
				return Message{}, fmt.Errorf("packet: encode %v data: %w", t, err)
			}
			switch data := e.buf[start:]; {
			case len(data) == 0:
			case string(data) == "null":
				e.buf = e.buf[:start]
			case data[0] == '{', t == ConnectError && data[0] == '"':
			default:
				return Message{}, fmt.Errorf("packet: encode %v data %.32q: %w", t, data, ErrBadPayload)
			}
		}
	}
	if len(e.atts) > 0 {
		e.markBinary(t)
	}
	return Message{Head: Frame{Data: e.buf}, Attachments: e.atts}, nil
}

// NewDecoder returns a Decoder for one connection that accepts at most
// maxAttachments binary attachments per packet (a negative value counts as
// 0). The official server's default limit is 10.
//
// The decoder takes text frames whose Data starts with the Engine.IO
// message digit '4' and binary frames, which are the attachments of the
// binary packet being assembled. It applies the checks of the official
// decoder (see ErrBadPayload) and rejects invalid UTF-8. Decoded packets
// keep their wire type: a binary packet is returned, once its attachments
// have arrived, as BinaryEvent or BinaryAck with the frames' Data in
// Attachments. Namespace is "/" for the main namespace. Args, Data and
// Attachments share memory with the frames (nothing is copied), so frame
// buffers must not be modified or reused afterwards. After an error the
// packet being assembled, if any, is dropped and decoding can go on.
func (JSON) NewDecoder(maxAttachments int) Decoder {
	return &decoder{max: max(maxAttachments, 0)}
}

// Unmarshal decodes raw, one element of a decoded packet's Args or Data,
// into dst, replacing attachment placeholders {"_placeholder":true,"num":N}
// with attachments[N].
//
// Without attachments (the packet announced none) or without placeholders
// it is json.Unmarshal: in a packet without attachments a placeholder
// object is data, decoded as the JSON it is. With both, when dst is *any,
// *[]any or *map[string]any, each placeholder anywhere in the decoded tree
// becomes the []byte attachments[N] (not copied); for any other dst each
// placeholder is decoded as if it were the base64 string of its attachment,
// so []byte values (fields, elements, map values, at any depth) receive the
// bytes, while an interface-typed destination inside a struct receives the
// base64 string. A placeholder whose num is not an index of attachments
// yields a *DecodeError matching ErrBadAttachment.
func (JSON) Unmarshal(raw json.RawMessage, attachments [][]byte, dst any) error {
	return unmarshal(raw, attachments, dst)
}
