package packet

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// wantPacket describes an expected decoded packet with strings for brevity.
type wantPacket struct {
	Type    Type
	NS      string
	ID      uint64
	HasID   bool
	Name    string
	HasName bool
	Args    []string
	Data    string
	Atts    []string
}

// check compares p with w.
func (w wantPacket) check(t *testing.T, label string, p Packet) {
	t.Helper()
	ns := w.NS
	if ns == "" {
		ns = "/"
	}
	var args []string
	for _, a := range p.Args {
		args = append(args, string(a))
	}
	var atts []string
	for _, a := range p.Attachments {
		atts = append(atts, string(a))
	}
	got := fmt.Sprintf("%v %s id=%d/%v name=%q/%v args=%q data=%q atts=%q",
		p.Type, p.Namespace, p.ID, p.HasID, p.Name, p.HasName, args, p.Data, atts)
	want := fmt.Sprintf("%v %s id=%d/%v name=%q/%v args=%q data=%q atts=%q",
		w.Type, ns, w.ID, w.HasID, w.Name, w.HasName, w.Args, w.Data, w.Atts)
	if got != want {
		t.Errorf("%s:\n got %s\nwant %s", label, got, want)
	}
}

// frames turns "text" strings into text frames and "\x00bin:..." into
// binary frames.
func frames(in ...string) []Frame {
	var fs []Frame
	for _, s := range in {
		if b, ok := strings.CutPrefix(s, "bin:"); ok {
			fs = append(fs, Frame{Data: []byte(b), Binary: true})
		} else {
			fs = append(fs, Frame{Data: []byte(s)})
		}
	}
	return fs
}

func TestDecode(t *testing.T) {
	const ph0 = `{"_placeholder":true,"num":0}`
	const ph1 = `{"_placeholder":true,"num":1}`
	tests := []struct {
		in   []string
		want wantPacket
	}{
		// Connection to a namespace.
		{[]string{`40`}, wantPacket{Type: Connect}},
		{[]string{`40{"sid":"wZX3oN0bSVIhsaknAAAI"}`}, wantPacket{Type: Connect, Data: `{"sid":"wZX3oN0bSVIhsaknAAAI"}`}},
		{[]string{`40{"sid":"wZX3oN0bSVIhsaknAAAI","pid":"p1"}`}, wantPacket{Type: Connect, Data: `{"sid":"wZX3oN0bSVIhsaknAAAI","pid":"p1"}`}},
		{[]string{`40/admin,`}, wantPacket{Type: Connect, NS: "/admin"}},
		{[]string{`40/admin,{"sid":"oSO0OpakMV_3jnilAAAA"}`}, wantPacket{Type: Connect, NS: "/admin", Data: `{"sid":"oSO0OpakMV_3jnilAAAA"}`}},
		{[]string{`40/admin,{"token":"123"}`}, wantPacket{Type: Connect, NS: "/admin", Data: `{"token":"123"}`}},
		{[]string{`44{"message":"Not authorized"}`}, wantPacket{Type: ConnectError, Data: `{"message":"Not authorized"}`}},
		{[]string{`44/admin,{"message":"Not authorized","data":{"code":401}}`}, wantPacket{Type: ConnectError, NS: "/admin", Data: `{"message":"Not authorized","data":{"code":401}}`}},
		{[]string{`44"Not authorized"`}, wantPacket{Type: ConnectError, Data: `"Not authorized"`}},
		// Events.
		{[]string{`42["foo"]`}, wantPacket{Type: Event, Name: "foo", HasName: true}},
		{[]string{`42/admin,["bar"]`}, wantPacket{Type: Event, NS: "/admin", Name: "bar", HasName: true}},
		{[]string{`42["hey","Jude"]`}, wantPacket{Type: Event, Name: "hey", HasName: true, Args: []string{`"Jude"`}}},
		{[]string{`42["hello","world",{"a":1}]`}, wantPacket{Type: Event, Name: "hello", HasName: true, Args: []string{`"world"`, `{"a":1}`}}},
		{[]string{`42["chat",{"user":"a"}]`}, wantPacket{Type: Event, Name: "chat", HasName: true, Args: []string{`{"user":"a"}`}}},
		{[]string{`4212["hello"]`}, wantPacket{Type: Event, ID: 12, HasID: true, Name: "hello", HasName: true}},
		{[]string{`42/admin,12["hello"]`}, wantPacket{Type: Event, NS: "/admin", ID: 12, HasID: true, Name: "hello", HasName: true}},
		{[]string{`42/admin,13["foo"]`}, wantPacket{Type: Event, NS: "/admin", ID: 13, HasID: true, Name: "foo", HasName: true}},
		{[]string{`4218446744073709551615["x"]`}, wantPacket{Type: Event, ID: 18446744073709551615, HasID: true, Name: "x", HasName: true}},
		{[]string{`42[1,"x"]`}, wantPacket{Type: Event, Args: []string{`1`, `"x"`}}},
		{[]string{`42[{"a":1}]`}, wantPacket{Type: Event, Args: []string{`{"a":1}`}}},
		{[]string{`42[null]`}, wantPacket{Type: Event, Args: []string{`null`}}},
		{[]string{` 42 `[1:] + ` [ "a" , [1, 2] ,"]," ] `}, wantPacket{Type: Event, Name: "a", HasName: true, Args: []string{`[1, 2]`, `"],"`}}},
		{[]string{`42["caf\u00e9 \"q\""]`}, wantPacket{Type: Event, Name: `café "q"`, HasName: true}},
		{[]string{`42["café"]`}, wantPacket{Type: Event, Name: `café`, HasName: true}},
		{[]string{`42[""]`}, wantPacket{Type: Event, Name: "", HasName: true}},
		{[]string{`42["Connect"]`}, wantPacket{Type: Event, Name: "Connect", HasName: true}},
		{[]string{`42/,["x"]`}, wantPacket{Type: Event, Name: "x", HasName: true}},
		// Acknowledgements.
		{[]string{`4312["got it"]`}, wantPacket{Type: Ack, ID: 12, HasID: true, Args: []string{`"got it"`}}},
		{[]string{`4312[]`}, wantPacket{Type: Ack, ID: 12, HasID: true}},
		{[]string{`43/admin,13["bar"]`}, wantPacket{Type: Ack, NS: "/admin", ID: 13, HasID: true, Args: []string{`"bar"`}}},
		{[]string{`4314["bar"]`}, wantPacket{Type: Ack, ID: 14, HasID: true, Args: []string{`"bar"`}}},
		{[]string{`430[1,[2]]`}, wantPacket{Type: Ack, ID: 0, HasID: true, Args: []string{`1`, `[2]`}}},
		// Disconnection.
		{[]string{`41`}, wantPacket{Type: Disconnect}},
		{[]string{`41/admin,`}, wantPacket{Type: Disconnect, NS: "/admin"}},
		{[]string{`41/admin`}, wantPacket{Type: Disconnect, NS: "/admin"}},
		// Binary.
		{[]string{`451-["baz",` + ph0 + `]`, "bin:\x01\x02\x03\x04"},
			wantPacket{Type: BinaryEvent, Name: "baz", HasName: true, Args: []string{ph0}, Atts: []string{"\x01\x02\x03\x04"}}},
		{[]string{`451-["up",` + ph0 + `]`, "bin:x"},
			wantPacket{Type: BinaryEvent, Name: "up", HasName: true, Args: []string{ph0}, Atts: []string{"x"}}},
		{[]string{`452-/admin,["baz",` + ph0 + `,` + ph1 + `]`, "bin:\x01\x02", "bin:\x03\x04"},
			wantPacket{Type: BinaryEvent, NS: "/admin", Name: "baz", HasName: true, Args: []string{ph0, ph1}, Atts: []string{"\x01\x02", "\x03\x04"}}},
		{[]string{`451-14["foo",` + ph0 + `]`, "bin:\x01\x02\x03\x04"},
			wantPacket{Type: BinaryEvent, ID: 14, HasID: true, Name: "foo", HasName: true, Args: []string{ph0}, Atts: []string{"\x01\x02\x03\x04"}}},
		{[]string{`461-15["bar",` + ph0 + `]`, "bin:\x01\x02\x03\x04"},
			wantPacket{Type: BinaryAck, ID: 15, HasID: true, Args: []string{`"bar"`, ph0}, Atts: []string{"\x01\x02\x03\x04"}}},
		{[]string{`461-12[` + ph0 + `]`, "bin:"},
			wantPacket{Type: BinaryAck, ID: 12, HasID: true, Args: []string{ph0}, Atts: []string{""}}},
		{[]string{`451-[` + ph0 + `]`, "bin:buf"}, // the server's emit(Buffer)
			wantPacket{Type: BinaryEvent, Args: []string{ph0}, Atts: []string{"buf"}}},
		{[]string{`452-["nested",{"a":[1,{"b":` + ph1 + `}],"c":` + ph0 + `}]`, "bin:zero", "bin:one"},
			wantPacket{Type: BinaryEvent, Name: "nested", HasName: true, Args: []string{`{"a":[1,{"b":` + ph1 + `}],"c":` + ph0 + `}`}, Atts: []string{"zero", "one"}}},
		{[]string{`450-["x"]`}, wantPacket{Type: BinaryEvent, Name: "x", HasName: true}},
		{[]string{`4610-1[]`, "bin:0", "bin:1", "bin:2", "bin:3", "bin:4", "bin:5", "bin:6", "bin:7", "bin:8", "bin:9"},
			wantPacket{Type: BinaryAck, ID: 1, HasID: true, Atts: strings.Split("0123456789", "")}},
		// A placeholder in a packet without attachments is just data.
		{[]string{`42["x",` + ph1 + `]`}, wantPacket{Type: Event, Name: "x", HasName: true, Args: []string{ph1}}},
		{[]string{`450-["x",` + ph0 + `]`}, wantPacket{Type: BinaryEvent, Name: "x", HasName: true, Args: []string{ph0}}},
	}
	for _, tt := range tests {
		d := JSON{}.NewDecoder(10)
		fs := frames(tt.in...)
		for i, f := range fs {
			p, ok, err := d.Decode(f)
			if err != nil {
				t.Errorf("%q: frame %d: %v", tt.in, i, err)
				break
			}
			if last := i == len(fs)-1; ok != last {
				t.Errorf("%q: frame %d: ok = %v", tt.in, i, ok)
				break
			}
			if ok {
				tt.want.check(t, fmt.Sprintf("%q", tt.in), p)
			}
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	const ph0 = `{"_placeholder":true,"num":0}`
	tests := []struct {
		in   []string // the last frame fails, the others succeed
		want error
		max  int
	}{
		{[]string{``}, ErrBadFrame, 10},
		{[]string{`2`}, ErrBadFrame, 10},
		{[]string{`3probe`}, ErrBadFrame, 10},
		{[]string{`0{"sid":"x"}`}, ErrBadFrame, 10},
		{[]string{`b42["x"]`}, ErrBadFrame, 10},

		{[]string{`4`}, ErrUnknownType, 10},
		{[]string{`47["x"]`}, ErrUnknownType, 10},
		{[]string{`4a`}, ErrUnknownType, 10},
		{[]string{`4-1`}, ErrUnknownType, 10},

		{[]string{`42/admin["x"]`}, ErrBadNamespace, 10},
		{[]string{`40/admin{"token":"1"}`}, ErrBadNamespace, 10},
		{[]string{`42/admin"x"`}, ErrBadNamespace, 10},
		{[]string{`42/admin["a","b"]`}, ErrBadNamespace, 10},

		{[]string{`4218446744073709551616["x"]`}, ErrBadID, 10},
		{[]string{`43999999999999999999999999999[]`}, ErrBadID, 10},

		{[]string{`42["x"`}, ErrBadJSON, 10},
		{[]string{`42[x]`}, ErrBadJSON, 10},
		{[]string{`42["x"]]`}, ErrBadJSON, 10},
		{[]string{`40{`}, ErrBadJSON, 10},
		{[]string{`42 `}, ErrBadJSON, 10},
		{[]string{`42-["x"]`}, ErrBadJSON, 10},
		{[]string{`421-["x"]`}, ErrBadJSON, 10},
		{[]string{"42[\"a\x01\"]"}, ErrBadJSON, 10},
		{[]string{"42[\"\xff\xfe\"]"}, ErrBadJSON, 10},
		{[]string{"42[\"a\",\"\xc3\"]"}, ErrBadJSON, 10},
		{[]string{"42/\xff,[\"a\"]"}, ErrBadNamespace, 10},

		{[]string{`40[]`}, ErrBadPayload, 10},
		{[]string{`40"x"`}, ErrBadPayload, 10},
		{[]string{`40null`}, ErrBadPayload, 10},
		{[]string{`41{}`}, ErrBadPayload, 10},
		{[]string{`41/admin,{}`}, ErrBadPayload, 10},
		{[]string{`41[]`}, ErrBadPayload, 10},
		{[]string{`44`}, ErrBadPayload, 10},
		{[]string{`44[]`}, ErrBadPayload, 10},
		{[]string{`44null`}, ErrBadPayload, 10},
		{[]string{`441`}, ErrBadPayload, 10},
		{[]string{`42`}, ErrBadPayload, 10},
		{[]string{`42/admin,`}, ErrBadPayload, 10},
		{[]string{`4212`}, ErrBadPayload, 10},
		{[]string{`42{}`}, ErrBadPayload, 10},
		{[]string{`42[]`}, ErrBadPayload, 10},
		{[]string{`42"x"`}, ErrBadPayload, 10},
		{[]string{`42["connect"]`}, ErrBadPayload, 10},
		{[]string{`42["connect_error",1]`}, ErrBadPayload, 10},
		{[]string{`42["disconnect"]`}, ErrBadPayload, 10},
		{[]string{`42["disconnecting"]`}, ErrBadPayload, 10},
		{[]string{`42["newListener"]`}, ErrBadPayload, 10},
		{[]string{`42["removeListener"]`}, ErrBadPayload, 10},
		{[]string{`42["\u0063onnect"]`}, ErrBadPayload, 10},
		{[]string{`43["x"]`}, ErrBadPayload, 10},
		{[]string{`43/admin,["x"]`}, ErrBadPayload, 10},
		{[]string{`431{}`}, ErrBadPayload, 10},
		{[]string{`431"x"`}, ErrBadPayload, 10},
		{[]string{`431`}, ErrBadPayload, 10},
		{[]string{`450-[]`}, ErrBadPayload, 10},
		{[]string{`460-[]`}, ErrBadPayload, 10},

		{[]string{`4511-["x"]`}, ErrTooManyAttachments, 10},
		{[]string{`45999999999999999999999999999999-["x"]`}, ErrTooManyAttachments, 10},
		{[]string{`451-["x",` + ph0 + `]`}, ErrTooManyAttachments, 0},
		{[]string{`453-["x"]`}, ErrTooManyAttachments, 2},

		{[]string{`45-["x"]`}, ErrBadAttachment, 10},
		{[]string{`45a-["x"]`}, ErrBadAttachment, 10},
		{[]string{`451["x"]`}, ErrBadAttachment, 10},
		{[]string{`451`}, ErrBadAttachment, 10},
		{[]string{`45`}, ErrBadAttachment, 10},
		{[]string{`45+1-["x"]`}, ErrBadAttachment, 10},
		{[]string{`451-["x",{"_placeholder":true,"num":1}]`, "bin:a"}, ErrBadAttachment, 10},
		{[]string{`451-["x",{"_placeholder":true,"num":-1}]`, "bin:a"}, ErrBadAttachment, 10},
		{[]string{`451-["x",{"_placeholder":true,"num":"0"}]`, "bin:a"}, ErrBadAttachment, 10},
		{[]string{`451-["x",{"_placeholder":true,"num":0.5}]`, "bin:a"}, ErrBadAttachment, 10},
		{[]string{`451-["x",{"_placeholder":true}]`, "bin:a"}, ErrBadAttachment, 10},
		{[]string{`451-["x",{"a":[{"num":7,"_placeholder":true}]}]`, "bin:a"}, ErrBadAttachment, 10},
		{[]string{`451-["x",{"\u005fplaceholder":true,"num":3}]`, "bin:a"}, ErrBadAttachment, 10},

		{[]string{`451-["x",` + ph0 + `]`, `42["y"]`}, ErrMissingAttachments, 10},
		{[]string{`452-["x",` + ph0 + `]`, "bin:a", `42["y"]`}, ErrMissingAttachments, 10},

		{[]string{"bin:abc"}, ErrUnexpectedAttachment, 10},
		{[]string{`42["x"]`, "bin:abc"}, ErrUnexpectedAttachment, 10},
		{[]string{`451-["x",` + ph0 + `]`, "bin:a", "bin:b"}, ErrUnexpectedAttachment, 10},
	}
	sentinels := []error{ErrBadFrame, ErrBadOpen, ErrUnknownType, ErrBadNamespace, ErrBadID, ErrBadJSON,
		ErrBadPayload, ErrTooManyAttachments, ErrMissingAttachments, ErrUnexpectedAttachment, ErrBadAttachment}
	for _, tt := range tests {
		d := JSON{}.NewDecoder(tt.max)
		fs := frames(tt.in...)
		var err error
		for i, f := range fs {
			var p Packet
			var ok bool
			p, ok, err = d.Decode(f)
			if i < len(fs)-1 && err != nil {
				t.Errorf("%q: frame %d: unexpected %v", tt.in, i, err)
			}
			if err != nil && (ok || p.Type != 0 || p.Args != nil) {
				t.Errorf("%q: frame %d: error %v with a packet", tt.in, i, err)
			}
		}
		if !errors.Is(err, tt.want) {
			t.Errorf("%q: error = %v, want %v", tt.in, err, tt.want)
			continue
		}
		for _, s := range sentinels {
			if s != tt.want && errors.Is(err, s) {
				t.Errorf("%q: error %v also matches %v", tt.in, err, s)
			}
		}
		var de *DecodeError
		if !errors.As(err, &de) || de.Err != tt.want || len(de.Input) > 64 {
			t.Errorf("%q: error %#v is not a *DecodeError wrapping %v", tt.in, err, tt.want)
		}
		if !strings.HasPrefix(err.Error(), tt.want.Error()) {
			t.Errorf("%q: message %q", tt.in, err.Error())
		}

		// The decoder recovers: the next packet decodes.
		p, ok, err := d.Decode(Frame{Data: []byte(`42["next",1]`)})
		if err != nil || !ok || p.Name != "next" {
			t.Errorf("%q: after the error: %+v %v %v", tt.in, p, ok, err)
		}
	}
}

func TestDecodeErrorInputTruncated(t *testing.T) {
	in := `42["` + strings.Repeat("x", 200)
	_, _, err := JSON{}.NewDecoder(10).Decode(Frame{Data: []byte(in)})
	var de *DecodeError
	if !errors.As(err, &de) || de.Input != in[:64] {
		t.Fatalf("error %#v", err)
	}
	if !strings.Contains(de.Error(), strconv.Quote(in[:64])) {
		t.Errorf("Error() = %q", de.Error())
	}
	if (&DecodeError{}).Error() == "" || (&DecodeError{Err: ErrBadID}).Error() != ErrBadID.Error() {
		t.Error("DecodeError.Error with empty fields")
	}
}

// TestDecodeSharesFrame checks that Args and Attachments are sub-slices of
// the frames rather than copies.
func TestDecodeSharesFrame(t *testing.T) {
	d := JSON{}.NewDecoder(10)
	head := []byte(`451-["x",{"_placeholder":true,"num":0}]`)
	att := []byte{1, 2, 3}
	if _, ok, err := d.Decode(Frame{Data: head}); ok || err != nil {
		t.Fatal(ok, err)
	}
	p, ok, err := d.Decode(Frame{Data: att, Binary: true})
	if !ok || err != nil {
		t.Fatal(ok, err)
	}
	if &p.Attachments[0][0] != &att[0] {
		t.Error("attachment was copied")
	}
	if i := bytes.Index(head, p.Args[0]); i < 0 || &head[i] != &p.Args[0][0] {
		t.Error("argument was copied")
	}
	if cap(p.Args[0]) != len(p.Args[0]) {
		t.Error("argument capacity exposes the rest of the frame")
	}
}

// TestDecodeHugeAnnouncedCount checks that an announced attachment count
// does not drive allocation.
func TestDecodeHugeAnnouncedCount(t *testing.T) {
	d := JSON{}.NewDecoder(1 << 40)
	allocs := testing.AllocsPerRun(10, func() {
		_, _, err := d.Decode(Frame{Data: []byte(`45999999999-["x"]`)})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = d.Decode(Frame{Data: []byte(`42["y"]`)})
		if !errors.Is(err, ErrMissingAttachments) {
			t.Fatal(err)
		}
	})
	if allocs > 10 {
		t.Errorf("%v allocations", allocs)
	}
}

func TestTypeString(t *testing.T) {
	want := []string{"CONNECT", "DISCONNECT", "EVENT", "ACK", "CONNECT_ERROR", "BINARY_EVENT", "BINARY_ACK"}
	for i, w := range want {
		if got := Type(i).String(); got != w {
			t.Errorf("Type(%d).String() = %q, want %q", i, got, w)
		}
	}
	if got := Type(9).String(); got != "Type(9)" {
		t.Errorf("Type(9).String() = %q", got)
	}
}

// TestDecodeDeepNesting checks deeply nested payloads: beyond the
// encoding/json depth limit they are rejected, below it placeholders deep
// inside are still found.
func TestDecodeDeepNesting(t *testing.T) {
	d := JSON{}.NewDecoder(10)
	_, _, err := d.Decode(Frame{Data: []byte("42" + strings.Repeat("[", 20000) + strings.Repeat("]", 20000))})
	if !errors.Is(err, ErrBadJSON) {
		t.Fatalf("20000 levels: %v", err)
	}
	deep := "451-" + strings.Repeat("[", 9000) + `{"_placeholder":true,"num":1}` + strings.Repeat("]", 9000)
	if _, _, err := d.Decode(Frame{Data: []byte(deep)}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := d.Decode(Frame{Data: []byte("x"), Binary: true}); !errors.Is(err, ErrBadAttachment) {
		t.Fatalf("deep placeholder out of range: %v", err)
	}
}

// TestPlaceholderWithoutAttachmentsIsData decodes events that announced no
// attachments and holds placeholder objects: they are data, decoded as the
// JSON they are.
func TestPlaceholderWithoutAttachmentsIsData(t *testing.T) {
	const ph = `{"_placeholder":true,"num":0}`
	for _, in := range []string{`42["x",` + ph + `]`, `450-["x",` + ph + `]`, `42/a,7["x",` + ph + `]`} {
		p, ok, err := JSON{}.NewDecoder(10).Decode(Frame{Data: []byte(in)})
		if err != nil || !ok || len(p.Args) != 1 {
			t.Fatalf("%s: %+v %v %v", in, p, ok, err)
		}
		var raw json.RawMessage
		if err := (JSON{}).Unmarshal(p.Args[0], p.Attachments, &raw); err != nil || string(raw) != ph {
			t.Errorf("%s: RawMessage %s %v", in, raw, err)
		}
		var m map[string]any
		if err := (JSON{}).Unmarshal(p.Args[0], p.Attachments, &m); err != nil || m["_placeholder"] != true || m["num"] != 0.0 {
			t.Errorf("%s: map %v %v", in, m, err)
		}
	}
}
