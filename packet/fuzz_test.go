package packet

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/.

func FuzzParseFrame(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, binary bool) {
		fr, err := ParseFrame(data, binary)
		if err != nil {
			var de *DecodeError
			if binary || !errors.Is(err, ErrBadFrame) || !errors.As(err, &de) {
				t.Fatalf("ParseFrame(%q, %v): %v", data, binary, err)
			}
			return
		}
		if fr.Binary != binary || !bytes.Equal(fr.Data, data) {
			t.Fatalf("ParseFrame(%q, %v) = %+v", data, binary, fr)
		}
		_ = fr.Type().String()
		if binary {
			if fr.Type() != FrameMessage || !bytes.Equal(fr.Payload(), data) {
				t.Fatalf("binary frame: type %v payload %q", fr.Type(), fr.Payload())
			}
			return
		}
		if fr.Type() > FrameNoop {
			t.Fatalf("type %v", fr.Type())
		}
		if again := TextFrame(fr.Type(), string(fr.Payload())); !bytes.Equal(again.Data, data) {
			t.Fatalf("TextFrame round trip: %q != %q", again.Data, data)
		}
	})
}

// FuzzParseOpen checks ParseOpen's results and, against json.Unmarshal,
// its scanner: whatever the scanner reads, encoding/json reads alike.
func FuzzParseOpen(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		if raw, ok := scanOpen(data); ok {
			var std rawOpen
			if err := json.Unmarshal(data, &std); err != nil || !reflect.DeepEqual(raw, std) {
				t.Fatalf("scanOpen(%q) = %+v; json.Unmarshal: %+v, %v", data, raw, std, err)
			}
		}
		o, err := ParseOpen(data)
		if err != nil {
			var de *DecodeError
			if !errors.Is(err, ErrBadOpen) || !errors.As(err, &de) {
				t.Fatalf("ParseOpen(%q): %v", data, err)
			}
			return
		}
		if o.SID == "" || o.PingInterval <= 0 || o.PingInterval > 24*time.Hour ||
			o.PingTimeout <= 0 || o.PingTimeout > 24*time.Hour || o.MaxPayload < 0 ||
			o.PingInterval%time.Millisecond != 0 || o.PingTimeout%time.Millisecond != 0 {
			t.Fatalf("ParseOpen(%q) = %+v", data, o)
		}
		again, err := json.Marshal(map[string]any{
			"sid": o.SID, "upgrades": o.Upgrades, "maxPayload": o.MaxPayload,
			"pingInterval": o.PingInterval.Milliseconds(), "pingTimeout": o.PingTimeout.Milliseconds(),
		})
		if err != nil {
			t.Fatal(err)
		}
		o2, err := ParseOpen(again)
		if err != nil || o2.SID != o.SID || o2.PingInterval != o.PingInterval || o2.PingTimeout != o.PingTimeout ||
			o2.MaxPayload != o.MaxPayload || len(o2.Upgrades) != len(o.Upgrades) {
			t.Fatalf("round trip of %q: %+v %v", data, o2, err)
		}
	})
}

// FuzzDecode feeds a sequence of frames into one decoder. The input is split
// on '\x1e'; a piece starting with 'b' is a binary frame holding the rest of
// the piece, any other piece a text frame. maxAtt bounds the attachments.
func FuzzDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, maxAtt uint8) {
		d := JSON{}.NewDecoder(int(maxAtt % 16))
		for piece := range bytes.SplitSeq(data, []byte{0x1e}) {
			fr := Frame{Data: piece}
			if rest, ok := bytes.CutPrefix(piece, []byte("b")); ok {
				fr = Frame{Data: rest, Binary: true}
			}
			p, ok, err := d.Decode(fr)
			if err != nil {
				var de *DecodeError
				if !errors.As(err, &de) || de.Err == nil || len(de.Input) > maxErrorInput || ok {
					t.Fatalf("Decode(%q): %#v", piece, err)
				}
				continue
			}
			if ok {
				checkDecoded(t, piece, p)
			}
		}
	})
}

// checkDecoded checks a decoded packet and, where meaningful, that encoding
// it again gives a packet that decodes to the same thing.
func checkDecoded(t *testing.T, in []byte, p Packet) {
	t.Helper()
	if p.Type > BinaryAck || len(p.Namespace) == 0 || p.Namespace[0] != '/' {
		t.Fatalf("%q: header %+v", in, p.Header)
	}
	for _, a := range p.Args {
		if !json.Valid(a) {
			t.Fatalf("%q: invalid arg %q", in, a)
		}
	}
	if p.Data != nil && !json.Valid(p.Data) {
		t.Fatalf("%q: invalid data %q", in, p.Data)
	}
	binary := p.Type == BinaryEvent || p.Type == BinaryAck
	if !binary && p.Attachments != nil {
		t.Fatalf("%q: attachments on %v", in, p.Type)
	}

	// Rebuild the arguments: raw for text packets, resolved for binary ones.
	var args []any
	for _, a := range p.Args {
		if !binary {
			args = append(args, a)
			continue
		}
		var v any
		if err := (JSON{}).Unmarshal(a, p.Attachments, &v); err != nil {
			if errors.Is(err, ErrBadAttachment) {
				t.Fatalf("%q: decoder accepted a bad placeholder: %v", in, err)
			}
			return // e.g. a number too large for float64
		}
		args = append(args, v)
	}
	var event string
	switch p.Type {
	case Event, BinaryEvent:
		if !p.HasName {
			return // Encode always sends a name first
		}
		event = p.Name
	case Connect, ConnectError:
		if p.Data != nil {
			args = []any{p.Data}
		}
	}
	m, err := JSON{}.Encode(p.Header, event, args)
	if err != nil {
		t.Fatalf("%q: re-encode: %v", in, err)
	}
	d := JSON{}.NewDecoder(len(m.Attachments))
	q, ok, err := d.Decode(m.Head)
	for _, a := range m.Attachments {
		q, ok, err = d.Decode(Frame{Data: a, Binary: true})
	}
	if err != nil || !ok {
		t.Fatalf("%q: re-encoded as %q: %v %v", in, m.Head.Data, ok, err)
	}
	base := func(t Type) Type {
		switch t {
		case BinaryEvent:
			return Event
		case BinaryAck:
			return Ack
		}
		return t
	}
	if base(q.Type) != base(p.Type) || q.Namespace != p.Namespace || q.ID != p.ID || q.HasID != p.HasID ||
		q.Name != p.Name || q.HasName != p.HasName || len(q.Args) != len(p.Args) || !bytes.Equal(q.Data, p.Data) {
		t.Fatalf("%q: re-encoded as %q, decoded %+v, was %+v", in, m.Head.Data, q, p)
	}
	if !binary {
		for i := range p.Args {
			if !bytes.Equal(p.Args[i], q.Args[i]) {
				t.Fatalf("%q: re-encoded as %q: arg %d %q != %q", in, m.Head.Data, i, q.Args[i], p.Args[i])
			}
		}
	}
}
