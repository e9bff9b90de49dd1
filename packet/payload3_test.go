package packet

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// The golden bodies below were checked against engine.io-parser 2.2.1's
// encodePayload(packets, false) (the b64 variant a 2.x server writes).

func TestAppendPayloadV3(t *testing.T) {
	tests := []struct {
		name   string
		frames []Frame
		want   string
	}{
		{"none", nil, ""},
		{"euro", []Frame{TextFrame(FrameMessage, "hello"), TextFrame(FrameMessage, "€")}, "6:4hello2:4€"},
		{"emoji", []Frame{TextFrame(FrameMessage, "😀")}, "3:4😀"},
		{"binary", []Frame{{Data: []byte{1, 2, 3}, Binary: true}}, "6:b4AQID"},
		{"empty binary", []Frame{{Binary: true}}, "2:b4"},
		{"handshake", []Frame{TextFrame(FrameOpen, `{"sid":"a"}`), TextFrame(FrameMessage, "0")}, `12:0{"sid":"a"}2:40`},
		{"mixed", []Frame{
			TextFrame(FramePing, ""),
			TextFrame(FrameMessage, `2["é😀€",1]`),
			{Data: []byte{0xff, 0, 1, 2}, Binary: true},
		}, `1:212:42["é😀€",1]10:b4/wABAg==`},
		{"ten units", []Frame{TextFrame(FrameMessage, "123456789")}, "10:4123456789"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendPayloadV3([]byte("prefix:"), tt.frames)
			if string(got) != "prefix:"+tt.want {
				t.Fatalf("AppendPayloadV3 = %q, want %q", got, "prefix:"+tt.want)
			}
			size := 0
			for _, f := range tt.frames {
				size += PayloadSizeV3(f)
			}
			if size != len(tt.want) {
				t.Errorf("sum of PayloadSizeV3 = %d, body is %d bytes", size, len(tt.want))
			}
		})
	}
}

func TestPayloadSizeV3(t *testing.T) {
	tests := []struct {
		f    Frame
		want int
	}{
		{TextFrame(FramePing, ""), 3},                             // 1:2
		{TextFrame(FrameMessage, "héllo"), 2 + 7},                 // 6:4héllo, 7 bytes
		{TextFrame(FrameMessage, "€"), 2 + 4},                     // 2:4€
		{TextFrame(FrameMessage, "😀"), 2 + 5},                     // 3:4😀
		{TextFrame(FrameMessage, strings.Repeat("x", 9)), 3 + 10}, // 10:4xxxxxxxxx
		{TextFrame(FrameMessage, strings.Repeat("😀", 5)), 3 + 21}, // 11 units, 21 bytes
		{Frame{Binary: true}, 4},                                  // 2:b4
		{Frame{Data: []byte{1}, Binary: true}, 8},                 // 6:b4AQ==
		{Frame{Data: make([]byte, 6), Binary: true}, 3 + 10},      // 10:b4AAAAAAAA
	}
	for _, tt := range tests {
		if got := PayloadSizeV3(tt.f); got != tt.want {
			t.Errorf("PayloadSizeV3(%s) = %d, want %d", showFrames([]Frame{tt.f}), got, tt.want)
		}
		if got := len(AppendPayloadV3(nil, []Frame{tt.f})); got != tt.want {
			t.Errorf("AppendPayloadV3(%s) is %d bytes, want %d", showFrames([]Frame{tt.f}), got, tt.want)
		}
	}
}

func TestDecodePayloadV3(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []Frame
	}{
		{"one", "6:4hello", []Frame{{Data: []byte("4hello")}}},
		{"euro", "6:4hello2:4€", []Frame{{Data: []byte("4hello")}, {Data: []byte("4€")}}},
		{"emoji", "3:4😀", []Frame{{Data: []byte("4😀")}}},
		{"emoji then ascii", "5:4a😀b1:6", []Frame{{Data: []byte("4a😀b")}, {Data: []byte("6")}}},
		{"handshake of a 2.x server", `96:0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}2:40`,
			[]Frame{
				{Data: []byte(`0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}`)},
				{Data: []byte("40")},
			}},
		{"binary", "6:b4AQID", []Frame{{Data: []byte{1, 2, 3}, Binary: true}}},
		{"binary padded", "10:b4/wABAg==", []Frame{{Data: []byte{0xff, 0, 1, 2}, Binary: true}}},
		{"binary unpadded", "8:b4/wABAg", []Frame{{Data: []byte{0xff, 0, 1, 2}, Binary: true}}},
		{"empty binary", "2:b4", []Frame{{Data: []byte{}, Binary: true}}},
		{"binary attachment", `39:451-["a",{"_placeholder":true,"num":0}]6:b4AQID1:6`, []Frame{
			{Data: []byte(`451-["a",{"_placeholder":true,"num":0}]`)},
			{Data: []byte{1, 2, 3}, Binary: true},
			{Data: []byte("6")},
		}},
		{"binary ping becomes text", "10:b2cHJvYmU=", []Frame{{Data: []byte("2probe")}}},
		{"all types", "1:01:16:2probe6:3probe1:41:51:6", []Frame{
			{Data: []byte("0")}, {Data: []byte("1")}, {Data: []byte("2probe")}, {Data: []byte("3probe")},
			{Data: []byte("4")}, {Data: []byte("5")}, {Data: []byte("6")},
		}},
		{"separator and colons inside", "7:4a:1\x1e:b", []Frame{{Data: []byte("4a:1\x1e:b")}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodePayloadV3([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodePayloadV3(%q): %v", tt.body, err)
			}
			if !framesEqual(got, tt.want) {
				t.Fatalf("DecodePayloadV3(%q) = %s, want %s", tt.body, showFrames(got), showFrames(tt.want))
			}
		})
	}
}

func TestDecodePayloadV3Malformed(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"empty body", ""},
		{"no length", ":4a"},
		{"no colon", "4hello"},
		{"only a length", "6"},
		{"only a length and colon", "6:"},
		{"non-digit length", "6a:4hello"},
		{"space in length", " 6:4hello"},
		{"sign", "+6:4hello"},
		{"zero length", "0:"},
		{"zero length between records", "1:60:1:6"},
		{"leading zero", "06:4hello"},
		{"overlong length", "00000000006:4hello"},
		{"hostile length", "99999999999:4"},
		{"ten-digit length", "9999999999:4"},
		{"length beyond the body", "7:4hello"},
		{"length beyond the body after a record", "1:67:4hello"},
		{"length counts bytes", "4:4€"},
		{"length cuts the surrogate pair", "2:4😀"},
		{"length cuts a later surrogate pair", "3:4a😀"},
		{"trailing garbage", "6:4hello2"},
		{"trailing colon", "6:4hello:"},
		{"bad type digit", "6:7hello"},
		{"bad type letter", "2:xa"},
		{"invalid UTF-8", "2:4\xff"},
		{"truncated UTF-8", "3:4h\xc3"},
		{"surrogate in UTF-8", "2:4\xed\xa0\x80"},
		{"invalid UTF-8 after a valid record", "1:62:4\xe2\x82"},
		{"b alone", "1:b"},
		{"b with a bad type", "3:b7A"},
		{"b with a letter type", "6:bxAQID"},
		{"bad base64 character", "6:b4AQ*D"},
		{"truncated base64", "7:b4AQIDB"},
		{"base64 short padding", "10:b4AQIDBA="},
		{"base64 extra padding", "11:b4AQID===="},
		{"base64 not ASCII", "4:b4€A"},
		{"binary ping not UTF-8", "6:b2/w=="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodePayloadV3([]byte(tt.body))
			var de *DecodeError
			if !errors.Is(err, ErrBadPolling) || !errors.As(err, &de) {
				t.Fatalf("DecodePayloadV3(%q) = %s, %v; want a *DecodeError matching ErrBadPolling", tt.body, showFrames(got), err)
			}
			if got != nil {
				t.Errorf("DecodePayloadV3(%q) returned frames with an error: %s", tt.body, showFrames(got))
			}
			if len(de.Input) > maxErrorInput {
				t.Errorf("error keeps %d bytes of input", len(de.Input))
			}
		})
	}
}

func TestDecodePayloadV3ErrorInput(t *testing.T) {
	_, err := DecodePayloadV3([]byte("2:4a3:9ab"))
	var de *DecodeError
	if !errors.As(err, &de) || de.Input != "9ab" {
		t.Fatalf("error %v: want the offending packet as Input", err)
	}
	_, err = DecodePayloadV3([]byte("2:4a3x:4ab"))
	if !errors.As(err, &de) || de.Input != "3x:4ab" {
		t.Fatalf("error %v: want the record from its bad length on as Input", err)
	}
	long := strings.Repeat("x", 200)
	_, err = DecodePayloadV3([]byte("2:4a" + long))
	if !errors.As(err, &de) || de.Input != long[:maxErrorInput] {
		t.Fatalf("error %v: want the first %d bytes of the record", err, maxErrorInput)
	}
}

func TestPayloadV3RoundTrip(t *testing.T) {
	big := make([]byte, 3000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	batches := [][]Frame{
		{TextFrame(FrameMessage, "x")},
		{TextFrame(FrameOpen, `{"sid":"s"}`), TextFrame(FrameMessage, "0")},
		{TextFrame(FrameMessage, `2["emoji","😀👍🏽","€uro","\u0000"]`)},
		{TextFrame(FrameMessage, strings.Repeat("😀", 5000))},
		{{Data: big, Binary: true}},
		{{Data: []byte{}, Binary: true}, {Data: []byte{}, Binary: true}},
		{TextFrame(FrameMessage, `2["a"]`), {Data: big[:1], Binary: true}, {Data: big[:2], Binary: true},
			{Data: big[:3], Binary: true}, TextFrame(FramePong, "probe"), TextFrame(FrameClose, "")},
		{TextFrame(FrameMessage, "a\x1eb:c")},
	}
	for _, frames := range batches {
		body := AppendPayloadV3(nil, frames)
		got, err := DecodePayloadV3(body)
		if err != nil {
			t.Fatalf("DecodePayloadV3(%.80q): %v", body, err)
		}
		if !framesEqual(got, frames) {
			t.Fatalf("round trip of %.200s = %.200s", showFrames(frames), showFrames(got))
		}
	}
}

// TestDecodePayloadV3Sharing documents who owns what: text frames alias the
// body, binary frames do not.
func TestDecodePayloadV3Sharing(t *testing.T) {
	body := []byte("2:4a6:b4AQ==")
	frames, err := DecodePayloadV3(body)
	if err != nil {
		t.Fatal(err)
	}
	body[3] = 'z'
	body[len(body)-3] = 'B'
	if string(frames[0].Data) != "4z" || !bytes.Equal(frames[1].Data, []byte{1}) {
		t.Fatalf("frames after changing the body: %s", showFrames(frames))
	}
}

// TestDecodePayloadV3HostileLength checks that an announced length is never
// trusted for an allocation.
func TestDecodePayloadV3HostileLength(t *testing.T) {
	for _, s := range []string{"99999999999:4", "9999999999:4", "2147483647:4x", "999999:4" + strings.Repeat("x", 100)} {
		body := []byte(s)
		allocs := testing.AllocsPerRun(10, func() {
			if _, err := DecodePayloadV3(body); !errors.Is(err, ErrBadPolling) {
				t.Fatalf("DecodePayloadV3(%.20q): %v", body, err)
			}
		})
		if allocs > 2 { // the *DecodeError and its Input
			t.Errorf("DecodePayloadV3(%.20q): %v allocations", body, allocs)
		}
	}
}

func TestUTF16Len(t *testing.T) {
	tests := []struct {
		s    string
		want int
	}{
		{"", 0}, {"abc", 3}, {"é", 1}, {"€", 1}, {"😀", 2}, {"👍🏽", 4}, {"a€😀", 4},
		{"\xff", 1}, {"\xe2\x82", 2}, // invalid bytes count one each
	}
	for _, tt := range tests {
		if got := utf16Len([]byte(tt.s)); got != tt.want {
			t.Errorf("utf16Len(%q) = %d, want %d", tt.s, got, tt.want)
		}
	}
}

// FuzzDecodePayloadV3 checks that DecodePayloadV3 never panics, that every
// failure is a *DecodeError matching ErrBadPolling, that what it accepts is
// well-formed, and that encoding the frames again yields a body that decodes
// to the same frames.
func FuzzDecodePayloadV3(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		frames, err := DecodePayloadV3(body)
		if err != nil {
			var de *DecodeError
			if !errors.Is(err, ErrBadPolling) || !errors.As(err, &de) || frames != nil {
				t.Fatalf("DecodePayloadV3(%q) = %s, %v", body, showFrames(frames), err)
			}
			return
		}
		if len(frames) == 0 {
			t.Fatalf("DecodePayloadV3(%q) returned no frames and no error", body)
		}
		size := 0
		textOnly := true
		for _, fr := range frames {
			size += PayloadSizeV3(fr)
			if fr.Binary {
				textOnly = false
				continue
			}
			if _, err := ParseFrame(fr.Data, false); err != nil {
				t.Fatalf("DecodePayloadV3(%q) returned an invalid text frame %q", body, fr.Data)
			}
			if !utf8.Valid(fr.Data) {
				t.Fatalf("DecodePayloadV3(%q) returned a text frame that is not UTF-8: %q", body, fr.Data)
			}
		}
		again := AppendPayloadV3(nil, frames)
		if len(again) != size {
			t.Fatalf("PayloadSizeV3 sum %d, AppendPayloadV3 wrote %d bytes", size, len(again))
		}
		// Decoded base64 re-encodes no longer than it was plus its padding
		// (ignored newlines go away), and the length prefix may gain a digit.
		if len(again) > len(body)+3*len(frames) {
			t.Fatalf("re-encoding %q grew it to %q", body, again)
		}
		frames2, err := DecodePayloadV3(again)
		if err != nil {
			t.Fatalf("DecodePayloadV3(AppendPayloadV3(%s)) = %q: %v", showFrames(frames), again, err)
		}
		if !framesEqual(frames, frames2) {
			t.Fatalf("round trip: %s != %s", showFrames(frames2), showFrames(frames))
		}
		// Without base64 records the body is its own canonical form. A
		// non-message base64 record becomes a shorter text record, so a
		// text-only result of the same length had none.
		if textOnly && len(again) == len(body) && !bytes.Equal(again, body) {
			t.Fatalf("text-only body %q re-encoded as %q", body, again)
		}
		if textOnly && len(again) > len(body) {
			t.Fatalf("text-only frames of %q re-encoded longer: %q", body, again)
		}
	})
}
