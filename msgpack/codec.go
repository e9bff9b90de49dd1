package msgpack

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/sio-go/sio/packet"
	"github.com/vmihailenco/msgpack/v5"
)

// Codec is the packet format of socket.io-msgpack-parser. The zero value is
// ready to use and Codec is safe for concurrent use; the Decoders it
// returns are used by one goroutine each.
type Codec struct{}

// Compile-time check that Codec implements packet.Codec.
var _ packet.Codec = Codec{}

// Encode encodes one packet as the single binary message frame holding the
// map {type, nsp, data?, id?}, as the JS parser does. The data depends on
// h.Type: Event, the array [event, args...]; Ack, the array args; Connect,
// args[0] when given and not nil (it must encode as a map); Disconnect,
// none. BinaryEvent and BinaryAck mean Event and Ack: there are no
// attachments, []byte values travel inline as MessagePack bin at any depth.
// An Ack needs h.HasID. A namespace of "" means "/".
//
// Values are encoded by github.com/vmihailenco/msgpack/v5 reading `json`
// struct tags (so that a type tagged for the JSON codec encodes the same
// fields), integers in their smallest form. A json.RawMessage argument is
// sent as the JSON value it holds (numbers as integers when they are
// integers, float64 otherwise); nested deeper, a json.RawMessage is bytes.
// A time.Time goes as the standard timestamp extension, which the JS
// parser (notepack.io) does not turn into a Date.
func (Codec) Encode(h packet.Header, event string, args []any) (packet.Message, error) {
	t := h.Type
	switch t {
	case packet.BinaryEvent:
		t = packet.Event
	case packet.BinaryAck:
		t = packet.Ack
	}
	nsp := h.Namespace
	if nsp == "" {
		nsp = "/"
	}
	if nsp[0] != '/' {
		return packet.Message{}, fmt.Errorf("msgpack: %w: %q", packet.ErrBadNamespace, h.Namespace)
	}
	if t == packet.Ack && !h.HasID {
		return packet.Message{}, fmt.Errorf("msgpack: %w: an ACK needs an id", packet.ErrBadPayload)
	}
	var buf bytes.Buffer
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(&buf)
	enc.SetCustomStructTag("json")
	enc.UseCompactInts(true)
	var err error
	switch t {
	case packet.Event, packet.Ack:
		err = encodeArgs(enc, t, nsp, h, event, args)
	case packet.Connect, packet.ConnectError:
		var data any
		if len(args) > 0 {
			data = args[0]
		}
		if raw, ok := data.(json.RawMessage); ok && raw == nil {
			data = nil
		}
		err = header(enc, t, nsp, h, data != nil)
		if err == nil && data != nil {
			err = encodeArg(enc, data)
		}
	case packet.Disconnect:
		err = header(enc, t, nsp, h, false)
	default:
		return packet.Message{}, fmt.Errorf("msgpack: %w: %d", packet.ErrUnknownType, t)
	}
	if err != nil {
		return packet.Message{}, fmt.Errorf("msgpack: encode: %w", err)
	}
	return packet.Message{Head: packet.Frame{Data: buf.Bytes(), Binary: true}}, nil
}

// header writes the map header and every member but data's value, which
// comes last: "data" is written as the last key when hasData.
func header(enc *msgpack.Encoder, t packet.Type, nsp string, h packet.Header, hasData bool) error {
	n := 2
	if h.HasID {
		n++
	}
	if hasData {
		n++
	}
	if err := enc.EncodeMapLen(n); err != nil {
		return err
	}
	if err := enc.EncodeString("type"); err != nil {
		return err
	}
	if err := enc.EncodeUint(uint64(t)); err != nil {
		return err
	}
	if err := enc.EncodeString("nsp"); err != nil {
		return err
	}
	if err := enc.EncodeString(nsp); err != nil {
		return err
	}
	if h.HasID {
		if err := enc.EncodeString("id"); err != nil {
			return err
		}
		if err := enc.EncodeUint(h.ID); err != nil {
			return err
		}
	}
	if hasData {
		return enc.EncodeString("data")
	}
	return nil
}

// encodeArgs writes an Event or an Ack.
func encodeArgs(enc *msgpack.Encoder, t packet.Type, nsp string, h packet.Header, event string, args []any) error {
	if err := header(enc, t, nsp, h, true); err != nil {
		return err
	}
	n := len(args)
	if t == packet.Event {
		n++
	}
	if err := enc.EncodeArrayLen(n); err != nil {
		return err
	}
	if t == packet.Event {
		if err := enc.EncodeString(event); err != nil {
			return err
		}
	}
	for _, a := range args {
		if err := encodeArg(enc, a); err != nil {
			return err
		}
	}
	return nil
}

// encodeArg writes one argument, a json.RawMessage as the value it holds.
func encodeArg(enc *msgpack.Encoder, a any) error {
	raw, ok := a.(json.RawMessage)
	if !ok {
		return enc.Encode(a)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return fmt.Errorf("a json.RawMessage argument: %w", err)
	}
	return enc.Encode(fromJSON(v))
}

// fromJSON replaces the json.Numbers of a decoded JSON value with int64 or
// float64.
func fromJSON(v any) any {
	switch v := v.(type) {
	case json.Number:
		if i, err := v.Int64(); err == nil && !strings.ContainsAny(v.String(), ".eE") {
			return i
		}
		f, _ := v.Float64()
		return f
	case []any:
		for i := range v {
			v[i] = fromJSON(v[i])
		}
	case map[string]any:
		for k := range v {
			v[k] = fromJSON(v[k])
		}
	}
	return v
}

// NewDecoder returns a decoder for one connection. maxAttachments does not
// apply: the format has no attachments.
func (Codec) NewDecoder(maxAttachments int) packet.Decoder { return decoder{} }

// Unmarshal decodes raw, one element of a decoded packet's Args (its
// MessagePack encoding), into dst. It decodes like
// github.com/vmihailenco/msgpack/v5, reading `json` struct tags, with the
// JSON codec's results: bin decodes into []byte destinations anywhere, and
// as []byte in an any, []any or map[string]any destination (an
// interface-typed field inside a struct receives it as a string, as the
// JSON codec gives a base64 string there); maps decode into
// map[string]any in an any. Numbers in an any are int64 (uint64 above
// math.MaxInt64) for integers and float64 otherwise, since MessagePack
// tells them apart (JSON gives float64 for both). The extensions of the JS
// encoder are understood: undefined is nil, an ArrayBuffer is []byte, a
// Date is a time.Time.
// attachments is ignored.
func (Codec) Unmarshal(raw json.RawMessage, attachments [][]byte, dst any) error {
	if _, ext, err := value(raw); err != nil {
		return fmt.Errorf("%w: %w", ErrMalformed, err)
	} else if ext {
		if raw, err = normalize(raw); err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	switch dst := dst.(type) {
	case *any:
		v, _, err := decodeAny(raw)
		if err == nil {
			*dst = v
		}
		return err
	case *[]any, *map[string]any:
		v, _, err := decodeAny(raw)
		if err != nil {
			return err
		}
		return assign(dst, v)
	}
	dec := msgpack.GetDecoder()
	defer msgpack.PutDecoder(dec)
	dec.Reset(bytes.NewReader(raw))
	dec.SetCustomStructTag("json")
	dec.UseLooseInterfaceDecoding(true)
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("msgpack: %w", err)
	}
	return nil
}

// assign stores v, decoded into an any, in *[]any or *map[string]any.
func assign(dst, v any) error {
	switch dst := dst.(type) {
	case *[]any:
		if a, ok := v.([]any); ok || v == nil {
			*dst = a
			return nil
		}
	case *map[string]any:
		if m, ok := v.(map[string]any); ok || v == nil {
			*dst = m
			return nil
		}
	}
	return fmt.Errorf("msgpack: cannot decode %T into %T", v, dst)
}

// toJSON turns a complete value (Connect or ConnectError data) into JSON.
func toJSON(b []byte) (json.RawMessage, error) {
	var v any
	if err := (Codec{}).Unmarshal(b, nil, &v); err != nil {
		return nil, err
	}
	j, err := json.Marshal(v)
	if err != nil {
		return nil, errors.Join(errors.New("not representable as JSON"), err)
	}
	return j, nil
}
