package msgpack

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/sio-go/sio/packet"
)

func decode(t *testing.T, b []byte) (packet.Packet, error) {
	t.Helper()
	p, ok, err := decoder{}.Decode(packet.Frame{Data: b, Binary: true})
	if err == nil && !ok {
		t.Fatal("Decode: ok false without an error")
	}
	return p, err
}

// Frames as notepack.io (socket.io-msgpack-parser) writes them.
func TestDecodeNotepack(t *testing.T) {
	// {type:2, data:["ev", undefined, ArrayBuffer[1,2], Date(1500)], nsp:"/a", id:7}
	frame := []byte{0x84,
		0xa4, 't', 'y', 'p', 'e', 0x02,
		0xa4, 'd', 'a', 't', 'a', 0x94, 0xa2, 'e', 'v', 0xd4, 0x00, 0x00, 0xc7, 0x02, 0x00, 1, 2,
		0xd7, 0x00, 0, 0, 0, 0, 0, 0, 0x05, 0xdc,
		0xa3, 'n', 's', 'p', 0xa2, '/', 'a',
		0xa2, 'i', 'd', 0x07}
	p, err := decode(t, frame)
	if err != nil {
		t.Fatal(err)
	}
	if p.Type != packet.Event || p.Namespace != "/a" || !p.HasID || p.ID != 7 || p.Name != "ev" || len(p.Args) != 3 {
		t.Fatalf("packet %+v", p)
	}
	var (
		undef any = "set"
		buf   []byte
		date  time.Time
	)
	c := Codec{}
	for i, dst := range []any{&undef, &buf, &date} {
		if err := c.Unmarshal(p.Args[i], nil, dst); err != nil {
			t.Fatalf("arg %d: %v", i, err)
		}
	}
	if undef != nil || !bytes.Equal(buf, []byte{1, 2}) || !date.Equal(time.UnixMilli(1500)) {
		t.Errorf("got %v %v %v", undef, buf, date)
	}
	var all []any
	if err := c.Unmarshal(p.Args[1], nil, &all); err == nil {
		t.Errorf("bin into []any: no error")
	}
	var ext any
	// An unknown extension is [type, bin], as notepack.io decodes it.
	if err := c.Unmarshal([]byte{0xd5, 0x05, 0xaa, 0xbb}, nil, &ext); err != nil ||
		!reflect.DeepEqual(ext, []any{int64(5), []byte{0xaa, 0xbb}}) {
		t.Errorf("fixext 2: %#v, %v", ext, err)
	}
}

func TestRoundTrip(t *testing.T) {
	type inner struct {
		B []byte `json:"b"`
		S string `json:"s,omitempty"`
	}
	c := Codec{}
	for _, h := range []packet.Header{
		{Type: packet.Event, Namespace: "/"},
		{Type: packet.Event, Namespace: "/x", ID: 1 << 40, HasID: true},
		{Type: packet.Ack, Namespace: "/x", ID: 3, HasID: true},
	} {
		args := []any{"s", -1, 2.5, []byte{1}, map[string]any{"k": []any{inner{B: []byte{2}}}}, json.RawMessage(`{"a":[1,2.5,"x"]}`)}
		msg, err := c.Encode(h, "ev", args)
		if err != nil {
			t.Fatal(err)
		}
		if !msg.Head.Binary || len(msg.Attachments) != 0 {
			t.Fatalf("message %+v", msg)
		}
		p, err := decode(t, msg.Head.Data)
		if err != nil {
			t.Fatal(err)
		}
		if p.Type != h.Type || p.Namespace != h.Namespace || p.ID != h.ID || p.HasID != h.HasID {
			t.Errorf("header %+v, want %+v", p.Header, h)
		}
		if h.Type == packet.Event && p.Name != "ev" {
			t.Errorf("name %q", p.Name)
		}
		var (
			s   string
			i   int
			f   float64
			b   []byte
			m   map[string][]inner
			raw map[string]any
		)
		dsts := []any{&s, &i, &f, &b, &m, &raw}
		for k, d := range dsts {
			if err := c.Unmarshal(p.Args[k], nil, d); err != nil {
				t.Fatalf("arg %d: %v", k, err)
			}
		}
		if s != "s" || i != -1 || f != 2.5 || !bytes.Equal(b, []byte{1}) || !bytes.Equal(m["k"][0].B, []byte{2}) ||
			!reflect.DeepEqual(raw, map[string]any{"a": []any{int64(1), 2.5, "x"}}) {
			t.Errorf("%v %v %v %v %+v %#v", s, i, f, b, m, raw)
		}
	}
	// CONNECT with a JSON auth object, and with none.
	msg, err := c.Encode(packet.Header{Type: packet.Connect, Namespace: "/a"}, "", []any{json.RawMessage(`{"token":"t"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := decode(t, msg.Head.Data); err != nil || string(p.Data) != `{"token":"t"}` {
		t.Errorf("connect: %s %v", p.Data, err)
	}
	msg, _ = c.Encode(packet.Header{Type: packet.Connect}, "", nil)
	if p, err := decode(t, msg.Head.Data); err != nil || p.Data != nil || p.Namespace != "/" {
		t.Errorf("connect without data: %+v %v", p, err)
	}
	msg, _ = c.Encode(packet.Header{Type: packet.Disconnect, Namespace: "/a"}, "", nil)
	if p, err := decode(t, msg.Head.Data); err != nil || p.Type != packet.Disconnect {
		t.Errorf("disconnect: %+v %v", p, err)
	}
	if _, err := c.Encode(packet.Header{Type: packet.Ack}, "", nil); !errors.Is(err, packet.ErrBadPayload) {
		t.Errorf("ack without id: %v", err)
	}
}

// Hostile frames: a clear error, never a panic or a deep recursion.
func TestDecodeHostile(t *testing.T) {
	deep := append(bytes.Repeat([]byte{0x91}, maxDepth+10), 0xc0)
	for name, tc := range map[string]struct {
		frame []byte
		want  error
	}{
		"empty":         {nil, ErrMalformed},
		"truncated":     {[]byte{0x82, 0xa4, 't'}, ErrMalformed},
		"c1":            {[]byte{0xc1}, ErrMalformed},
		"trailing":      {[]byte{0x80, 0x80}, ErrMalformed},
		"deep":          {deep, ErrMalformed},
		"huge array":    {[]byte{0xdd, 0xff, 0xff, 0xff, 0xff}, ErrMalformed},
		"not a map":     {[]byte{0x90}, packet.ErrBadPayload},
		"no type":       {[]byte{0x81, 0xa3, 'n', 's', 'p', 0xa1, '/'}, packet.ErrUnknownType},
		"type 5":        {[]byte{0x82, 0xa4, 't', 'y', 'p', 'e', 0x05, 0xa3, 'n', 's', 'p', 0xa1, '/'}, packet.ErrUnknownType},
		"no nsp":        {[]byte{0x81, 0xa4, 't', 'y', 'p', 'e', 0x01}, packet.ErrBadNamespace},
		"negative id":   {[]byte{0x83, 0xa4, 't', 'y', 'p', 'e', 0x01, 0xa3, 'n', 's', 'p', 0xa1, '/', 0xa2, 'i', 'd', 0xff}, packet.ErrBadID},
		"event no data": {[]byte{0x82, 0xa4, 't', 'y', 'p', 'e', 0x02, 0xa3, 'n', 's', 'p', 0xa1, '/'}, packet.ErrBadPayload},
		"empty event":   {[]byte{0x83, 0xa4, 't', 'y', 'p', 'e', 0x02, 0xa3, 'n', 's', 'p', 0xa1, '/', 0xa4, 'd', 'a', 't', 'a', 0x90}, packet.ErrBadPayload},
		"reserved":      {[]byte{0x83, 0xa4, 't', 'y', 'p', 'e', 0x02, 0xa3, 'n', 's', 'p', 0xa1, '/', 0xa4, 'd', 'a', 't', 'a', 0x91, 0xa7, 'c', 'o', 'n', 'n', 'e', 'c', 't'}, packet.ErrBadPayload},
		"ack no id":     {[]byte{0x83, 0xa4, 't', 'y', 'p', 'e', 0x03, 0xa3, 'n', 's', 'p', 0xa1, '/', 0xa4, 'd', 'a', 't', 'a', 0x90}, packet.ErrBadPayload},
		"disconnect+d":  {[]byte{0x83, 0xa4, 't', 'y', 'p', 'e', 0x01, 0xa3, 'n', 's', 'p', 0xa1, '/', 0xa4, 'd', 'a', 't', 'a', 0x90}, packet.ErrBadPayload},
	} {
		_, err := decode(t, tc.frame)
		var de *packet.DecodeError
		if !errors.Is(err, tc.want) || !errors.As(err, &de) {
			t.Errorf("%s: %v, want %v in a *packet.DecodeError", name, err, tc.want)
		}
	}
	if _, _, err := (decoder{}).Decode(packet.Frame{Data: []byte("42[\"a\"]")}); !errors.Is(err, packet.ErrBadFrame) {
		t.Errorf("text frame: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	c := Codec{}
	for _, args := range [][]any{{"a", 1}, {[]byte{1, 2}, map[string]any{"x": 1.5}}, {nil, true}} {
		msg, _ := c.Encode(packet.Header{Type: packet.Event, Namespace: "/n", ID: 2, HasID: true}, "ev", args)
		f.Add(msg.Head.Data)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, ok, err := decoder{}.Decode(packet.Frame{Data: b, Binary: true})
		if err != nil || !ok {
			return
		}
		for _, a := range p.Args {
			var v any
			_ = c.Unmarshal(a, nil, &v)
			var s struct {
				A []byte `json:"a"`
			}
			_ = c.Unmarshal(a, nil, &s)
		}
	})
}

func FuzzEncode(f *testing.F) {
	f.Add("ev", "s", int64(1), []byte{1})
	f.Fuzz(func(t *testing.T, ev, s string, i int64, b []byte) {
		c := Codec{}
		msg, err := c.Encode(packet.Header{Type: packet.Event, Namespace: "/"}, ev, []any{s, i, b})
		if err != nil {
			t.Fatal(err)
		}
		p, _, err := decoder{}.Decode(msg.Head)
		if err != nil {
			if isReserved(ev) {
				return
			}
			t.Fatalf("decode own encoding: %v", err)
		}
		var (
			gs string
			gi int64
			gb []byte
		)
		if p.Name != ev || len(p.Args) != 3 || c.Unmarshal(p.Args[0], nil, &gs) != nil || c.Unmarshal(p.Args[1], nil, &gi) != nil ||
			c.Unmarshal(p.Args[2], nil, &gb) != nil || gs != s || gi != i || !bytes.Equal(gb, b) {
			t.Fatalf("round trip: %q %q %d %v", p.Name, gs, gi, gb)
		}
	})
}
