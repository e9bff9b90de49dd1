package packet

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
)

func TestUnmarshal(t *testing.T) {
	atts := [][]byte{[]byte("zero"), []byte("one"), []byte("two"), {}}
	c := JSON{}

	t.Run("no placeholder", func(t *testing.T) {
		var m chatMessage
		if err := c.Unmarshal(json.RawMessage(`{"user":"a","text":"hi"}`), nil, &m); err != nil || m != (chatMessage{"a", "hi"}) {
			t.Fatalf("%+v %v", m, err)
		}
		var s string
		if err := c.Unmarshal(json.RawMessage(`"_placeholder"`), nil, &s); err != nil || s != "_placeholder" {
			t.Fatalf("%q %v", s, err)
		}
	})

	t.Run("bytes", func(t *testing.T) {
		var b []byte
		if err := c.Unmarshal(json.RawMessage(`{"_placeholder":true,"num":1}`), atts, &b); err != nil || string(b) != "one" {
			t.Fatalf("%q %v", b, err)
		}
		if err := c.Unmarshal(json.RawMessage(` { "num" : 3 , "_placeholder" : true } `), atts, &b); err != nil || b == nil || len(b) != 0 {
			t.Fatalf("%q %v", b, err)
		}
		var bs [][]byte
		if err := c.Unmarshal(json.RawMessage(`[{"_placeholder":true,"num":2},null,{"_placeholder":true,"num":0}]`), atts, &bs); err != nil ||
			!reflect.DeepEqual(bs, [][]byte{[]byte("two"), nil, []byte("zero")}) {
			t.Fatalf("%q %v", bs, err)
		}
	})

	// A packet that announced no attachments holds placeholders as data.
	t.Run("no attachments", func(t *testing.T) {
		const ph = `{"_placeholder":true,"num":0}`
		var raw json.RawMessage
		if err := c.Unmarshal(json.RawMessage(ph), nil, &raw); err != nil || string(raw) != ph {
			t.Errorf("RawMessage: %s %v", raw, err)
		}
		var v any
		if err := c.Unmarshal(json.RawMessage(`[`+ph+`]`), nil, &v); err != nil ||
			!reflect.DeepEqual(v, []any{map[string]any{"_placeholder": true, "num": 0.0}}) {
			t.Errorf("any: %#v %v", v, err)
		}
		var p struct {
			Placeholder bool `json:"_placeholder"`
			Num         int
		}
		if err := c.Unmarshal(json.RawMessage(ph), [][]byte{}, &p); err != nil || !p.Placeholder || p.Num != 0 {
			t.Errorf("struct: %+v %v", p, err)
		}
		var b []byte
		if err := c.Unmarshal(json.RawMessage(ph), nil, &b); err == nil {
			t.Errorf("[]byte from an object: %q, no error", b)
		}
	})

	t.Run("struct", func(t *testing.T) {
		raw := json.RawMessage(`{"name":"f","data":{"_placeholder":true,"num":0},"thumb":{"_placeholder":true,"num":1},` +
			`"parts":[{"_placeholder":true,"num":2},null],"meta":{"a":{"_placeholder":true,"num":3}},"extra":{"_placeholder":true,"num":0}}`)
		var u upload
		if err := c.Unmarshal(raw, atts, &u); err != nil {
			t.Fatal(err)
		}
		thumb := []byte("one")
		want := upload{Name: "f", Data: []byte("zero"), Thumb: &thumb, Parts: [][]byte{[]byte("two"), nil},
			Meta: map[string][]byte{"a": {}}, Extra: "emVybw=="} // an interface field receives base64
		if !reflect.DeepEqual(u, want) {
			t.Fatalf("got %+v\nwant %+v", u, want)
		}
	})

	t.Run("map", func(t *testing.T) {
		var m map[string]any
		raw := json.RawMessage(`{"a":{"_placeholder":true,"num":0},"b":[1,{"c":{"_placeholder":true,"num":2}}],"d":{"_placeholder":false,"num":1}}`)
		if err := c.Unmarshal(raw, atts, &m); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"a": []byte("zero"), "b": []any{1.0, map[string]any{"c": []byte("two")}},
			"d": map[string]any{"_placeholder": false, "num": 1.0}}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("got %#v", m)
		}
		if err := c.Unmarshal(json.RawMessage(`{"_placeholder":true,"num":0}`), atts, &m); err == nil {
			t.Fatal("a placeholder into a map: no error")
		}
	})

	t.Run("any", func(t *testing.T) {
		var v any
		if err := c.Unmarshal(json.RawMessage(`{"_placeholder":true,"num":1}`), atts, &v); err != nil || !bytes.Equal(v.([]byte), []byte("one")) {
			t.Fatalf("%#v %v", v, err)
		}
		if err := c.Unmarshal(json.RawMessage(`[{"x":{"_placeholder":true,"num":0}}]`), atts, &v); err != nil ||
			!reflect.DeepEqual(v, []any{map[string]any{"x": []byte("zero")}}) {
			t.Fatalf("%#v %v", v, err)
		}
		// The outer placeholder wins over one nested inside it.
		if err := c.Unmarshal(json.RawMessage(`{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":1}}`), atts, &v); err != nil ||
			!bytes.Equal(v.([]byte), []byte("zero")) {
			t.Fatalf("%#v %v", v, err)
		}
		var b []byte
		if err := c.Unmarshal(json.RawMessage(`{"_placeholder":true,"num":0,"x":{"_placeholder":true,"num":1}}`), atts, &b); err != nil || string(b) != "zero" {
			t.Fatalf("%q %v", b, err)
		}
	})

	t.Run("slice", func(t *testing.T) {
		var s []any
		if err := c.Unmarshal(json.RawMessage(`["a",{"_placeholder":true,"num":2}]`), atts, &s); err != nil ||
			!reflect.DeepEqual(s, []any{"a", []byte("two")}) {
			t.Fatalf("%#v %v", s, err)
		}
	})

	t.Run("escaped key", func(t *testing.T) {
		var v any
		if err := c.Unmarshal(json.RawMessage(`{"\u005fplaceholder":true,"num":0}`), atts, &v); err != nil || !bytes.Equal(v.([]byte), []byte("zero")) {
			t.Fatalf("%#v %v", v, err)
		}
		var b []byte
		if err := c.Unmarshal(json.RawMessage(`{"\u005fplaceholder":true,"num":0}`), atts, &b); err != nil || string(b) != "zero" {
			t.Fatalf("%q %v", b, err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		bad := []string{
			`{"_placeholder":true,"num":4}`,
			`{"_placeholder":true,"num":-1}`,
			`{"_placeholder":true,"num":1.5}`,
			`{"_placeholder":true,"num":"1"}`,
			`{"_placeholder":true}`,
			`[1,{"a":{"_placeholder":true,"num":99999999999999999999999}}]`,
		}
		dsts := []func() any{
			func() any { return new(any) },
			func() any { return new([]any) },
			func() any { return new(map[string]any) },
			func() any { return new([]byte) },
			func() any { return new(upload) },
		}
		for _, in := range bad {
			for _, dst := range dsts {
				d := dst()
				err := c.Unmarshal(json.RawMessage(in), atts, d)
				var de *DecodeError
				if !errors.Is(err, ErrBadAttachment) || !errors.As(err, &de) {
					t.Errorf("Unmarshal(%s, %T) = %v, want ErrBadAttachment", in, d, err)
				}
			}
		}
		var v any
		for _, in := range []string{`{"_placeholder":true,"num":0`, ``, `[{"_placeholder":true,"num":0}]]`} {
			if err := c.Unmarshal(json.RawMessage(in), atts, &v); err == nil {
				t.Errorf("Unmarshal(%q): no error", in)
			}
		}
		if err := c.Unmarshal(json.RawMessage(`{"_placeholder":true,"num":0}`), atts, nil); err == nil {
			t.Error("nil dst: no error")
		}
		var s []any
		if err := c.Unmarshal(json.RawMessage(`{"_placeholder":true,"num":0}`), atts, &s); err == nil {
			t.Error("placeholder into []any: no error")
		}
	})
}

// TestBinaryRoundTrip encodes values holding []byte in maps, structs and
// slices, decodes the frames and unmarshals the arguments back.
func TestBinaryRoundTrip(t *testing.T) {
	thumb := []byte{0xff, 0}
	in := upload{Name: "f", Data: []byte("data"), Thumb: &thumb, Parts: [][]byte{[]byte("p0"), nil, {}},
		Meta: map[string][]byte{"z": []byte("mz"), "a": []byte("ma")}}
	emb := withEmbedded{Base: Base{ID: 1, Blob: []byte("b")}, Ptr: &Ptr{P: []byte("p")}, Name: "n"}
	generic := map[string]any{"list": []any{"s", []byte("l0"), map[string]any{"deep": []byte("d")}}, "top": []byte("t")}

	for _, h := range []Header{
		{Type: Event, Namespace: "/admin", ID: 7, HasID: true},
		{Type: Event},
		{Type: Ack, ID: 8, HasID: true},
	} {
		m, err := JSON{}.Encode(h, "files", []any{in, emb, generic, []byte("raw")})
		if err != nil {
			t.Fatal(err)
		}
		d := JSON{}.NewDecoder(len(m.Attachments))
		p, ok, err := d.Decode(m.Head)
		if ok || err != nil {
			t.Fatalf("head: %v %v", ok, err)
		}
		for i, a := range m.Attachments {
			p, ok, err = d.Decode(Frame{Data: a, Binary: true})
			if err != nil || ok != (i == len(m.Attachments)-1) {
				t.Fatalf("attachment %d: %v %v", i, ok, err)
			}
		}
		wantType := BinaryEvent
		args := p.Args
		if h.Type == Ack {
			wantType = BinaryAck
		} else if p.Name != "files" || !p.HasName {
			t.Fatalf("name %q", p.Name)
		}
		if p.Type != wantType || p.ID != h.ID || p.HasID != h.HasID || len(args) != 4 {
			t.Fatalf("packet %+v", p)
		}
		if ns := h.Namespace; ns != "" && p.Namespace != ns || ns == "" && p.Namespace != "/" {
			t.Fatalf("namespace %q", p.Namespace)
		}
		var gotIn upload
		var gotEmb withEmbedded
		var gotGeneric map[string]any
		var gotRaw []byte
		for i, dst := range []any{&gotIn, &gotEmb, &gotGeneric, &gotRaw} {
			if err := (JSON{}).Unmarshal(args[i], p.Attachments, dst); err != nil {
				t.Fatalf("arg %d: %v", i, err)
			}
		}
		if !reflect.DeepEqual(gotIn, in) {
			t.Errorf("upload:\n got %+v\nwant %+v", gotIn, in)
		}
		if !reflect.DeepEqual(gotEmb, emb) {
			t.Errorf("embedded:\n got %+v\nwant %+v", gotEmb, emb)
		}
		if !reflect.DeepEqual(gotGeneric, generic) {
			t.Errorf("generic:\n got %#v\nwant %#v", gotGeneric, generic)
		}
		if string(gotRaw) != "raw" {
			t.Errorf("raw: %q", gotRaw)
		}
	}
}

// TestRoundTrip encodes packets, decodes them and compares.
func TestRoundTrip(t *testing.T) {
	tests := []struct {
		h     Header
		event string
		args  []any
	}{
		{Header{Type: Connect}, "", nil},
		{Header{Type: Connect, Namespace: "/admin"}, "", []any{map[string]any{"token": "123"}}},
		{Header{Type: ConnectError}, "", []any{"Not authorized"}},
		{Header{Type: Disconnect, Namespace: "/admin"}, "", nil},
		{Header{Type: Event}, "hello", []any{"world", map[string]any{"a": 1.0}}},
		{Header{Type: Event, Namespace: "/admin", ID: 18446744073709551615, HasID: true}, "é\"\n", []any{nil, true, 1.5, []any{"x"}}},
		{Header{Type: Ack, ID: 0, HasID: true}, "", nil},
		{Header{Type: Ack, ID: 3, HasID: true}, "", []any{"got it", []byte("bin"), map[string]any{"b": []byte{}}}},
	}
	for _, tt := range tests {
		m, err := JSON{}.Encode(tt.h, tt.event, tt.args)
		if err != nil {
			t.Fatal(err)
		}
		d := JSON{}.NewDecoder(10)
		p, ok, err := d.Decode(m.Head)
		for _, a := range m.Attachments {
			p, ok, err = d.Decode(Frame{Data: a, Binary: true})
		}
		if err != nil || !ok {
			t.Fatalf("%s: %v %v", m.Head.Data, ok, err)
		}
		if base := p.Type; base == BinaryEvent {
			p.Type = Event
		} else if base == BinaryAck {
			p.Type = Ack
		}
		ns := tt.h.Namespace
		if ns == "" {
			ns = "/"
		}
		if p.Type != tt.h.Type || p.Namespace != ns || p.ID != tt.h.ID || p.HasID != tt.h.HasID {
			t.Errorf("%s: header %+v", m.Head.Data, p.Header)
		}
		switch tt.h.Type {
		case Event, Ack:
			if tt.h.Type == Event && (p.Name != tt.event || !p.HasName) {
				t.Errorf("%s: name %q", m.Head.Data, p.Name)
			}
			var got []any
			for _, a := range p.Args {
				var v any
				if err := (JSON{}).Unmarshal(a, p.Attachments, &v); err != nil {
					t.Fatal(err)
				}
				got = append(got, v)
			}
			want := tt.args
			for i, w := range want {
				if n, ok := w.(int); ok {
					want[i] = float64(n)
				}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s: args %#v, want %#v", m.Head.Data, got, want)
			}
		case Connect, ConnectError:
			if len(tt.args) > 0 {
				var v any
				if err := json.Unmarshal(p.Data, &v); err != nil || !reflect.DeepEqual(v, tt.args[0]) {
					t.Errorf("%s: data %s", m.Head.Data, p.Data)
				}
			} else if p.Data != nil {
				t.Errorf("%s: data %s", m.Head.Data, p.Data)
			}
		}
	}
}
