package packet

import (
	"bytes"
	"errors"
	"testing"
)

func TestFrameTypeString(t *testing.T) {
	want := []string{"open", "close", "ping", "pong", "message", "upgrade", "noop"}
	for i, w := range want {
		if got := FrameType(i).String(); got != w {
			t.Errorf("FrameType(%d).String() = %q, want %q", i, got, w)
		}
	}
	if got := FrameType(7).String(); got != "FrameType(7)" {
		t.Errorf("FrameType(7).String() = %q", got)
	}
	if got := FrameType(255).String(); got != "FrameType(255)" {
		t.Errorf("FrameType(255).String() = %q", got)
	}
}

func TestTextFrame(t *testing.T) {
	tests := []struct {
		typ     FrameType
		payload string
		want    string
	}{
		{FramePong, "probe", "3probe"},
		{FramePing, "probe", "2probe"},
		{FramePing, "", "2"},
		{FrameClose, "", "1"},
		{FrameUpgrade, "", "5"},
		{FrameNoop, "", "6"},
		{FrameMessage, "hello", "4hello"},
		{FrameMessage, `{"a":1}`, `4{"a":1}`},
	}
	for _, tt := range tests {
		f := TextFrame(tt.typ, tt.payload)
		if string(f.Data) != tt.want || f.Binary {
			t.Errorf("TextFrame(%v, %q) = %q (binary %v), want %q", tt.typ, tt.payload, f.Data, f.Binary, tt.want)
		}
		if f.Type() != tt.typ || string(f.Payload()) != tt.payload {
			t.Errorf("TextFrame(%v, %q): Type %v Payload %q", tt.typ, tt.payload, f.Type(), f.Payload())
		}
	}
}

func TestParseFrame(t *testing.T) {
	valid := []struct {
		data    string
		binary  bool
		typ     FrameType
		payload string
	}{
		{`0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`, false, FrameOpen,
			`{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`},
		{"1", false, FrameClose, ""},
		{"2", false, FramePing, ""},
		{"3", false, FramePong, ""},
		{"2probe", false, FramePing, "probe"},
		{"3probe", false, FramePong, "probe"},
		{"4hello", false, FrameMessage, "hello"},
		{`4{"a":1}`, false, FrameMessage, `{"a":1}`},
		{"4", false, FrameMessage, ""},
		{"5", false, FrameUpgrade, ""},
		{"6", false, FrameNoop, ""},
		{"\x01\x02\x03\x04", true, FrameMessage, "\x01\x02\x03\x04"},
		{"", true, FrameMessage, ""},
		{"9 any bytes", true, FrameMessage, "9 any bytes"},
	}
	for _, tt := range valid {
		data := []byte(tt.data)
		f, err := ParseFrame(data, tt.binary)
		if err != nil {
			t.Errorf("ParseFrame(%q, %v): %v", tt.data, tt.binary, err)
			continue
		}
		if f.Type() != tt.typ || string(f.Payload()) != tt.payload || f.Binary != tt.binary {
			t.Errorf("ParseFrame(%q, %v) = type %v payload %q binary %v", tt.data, tt.binary, f.Type(), f.Payload(), f.Binary)
		}
		if len(data) > 0 && &f.Data[0] != &data[0] {
			t.Errorf("ParseFrame(%q) copied its input", tt.data)
		}
	}

	for _, bad := range []string{"", "7", "9", "a", "b4hello", "\x1e", " 4"} {
		_, err := ParseFrame([]byte(bad), false)
		if !errors.Is(err, ErrBadFrame) {
			t.Errorf("ParseFrame(%q) error = %v, want ErrBadFrame", bad, err)
		}
		var de *DecodeError
		if !errors.As(err, &de) || de.Input != bad {
			t.Errorf("ParseFrame(%q) error %#v is not a *DecodeError with the input", bad, err)
		}
	}
}

func TestZeroFrame(t *testing.T) {
	var f Frame
	if f.Type() != FrameMessage || f.Payload() != nil {
		t.Errorf("zero Frame: Type %v Payload %q", f.Type(), f.Payload())
	}
	b := Frame{Binary: true}
	if b.Type() != FrameMessage || b.Payload() != nil {
		t.Errorf("empty binary Frame: Type %v Payload %q", b.Type(), b.Payload())
	}
	odd := Frame{Data: []byte("x")} // not from ParseFrame: must not panic
	_ = odd.Type().String()
	if !bytes.Equal(odd.Payload(), []byte{}) {
		t.Errorf("Payload of %q = %q", odd.Data, odd.Payload())
	}
}
