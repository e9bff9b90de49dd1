package packet

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestAppendPayload(t *testing.T) {
	tests := []struct {
		name   string
		frames []Frame
		want   string
	}{
		{"none", nil, ""},
		{"one", []Frame{TextFrame(FrameMessage, "hello")}, "4hello"},
		{"protocol example", []Frame{
			TextFrame(FrameMessage, "hello"), TextFrame(FramePing, ""), TextFrame(FrameMessage, `{"a":1}`),
		}, "4hello\x1e2\x1e4{\"a\":1}"},
		{"binary", []Frame{{Data: []byte{1, 2, 3, 4}, Binary: true}}, "bAQIDBA=="},
		{"empty binary", []Frame{{Binary: true}}, "b"},
		{"mixed", []Frame{
			TextFrame(FrameMessage, `51-["up",{"_placeholder":true,"num":0}]`),
			{Data: []byte("\xff\x00"), Binary: true},
			TextFrame(FrameNoop, ""),
		}, "451-[\"up\",{\"_placeholder\":true,\"num\":0}]\x1eb/wA=\x1e6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendPayload([]byte("prefix:"), tt.frames)
			if string(got) != "prefix:"+tt.want {
				t.Fatalf("AppendPayload = %q, want %q", got, "prefix:"+tt.want)
			}
			size := 0
			for i, f := range tt.frames {
				if i > 0 {
					size++
				}
				size += PayloadSize(f)
			}
			if size != len(tt.want) {
				t.Errorf("sum of PayloadSize + separators = %d, body is %d bytes", size, len(tt.want))
			}
		})
	}
}

func TestPayloadSize(t *testing.T) {
	tests := []struct {
		f    Frame
		want int
	}{
		{TextFrame(FramePing, ""), 1},
		{TextFrame(FrameMessage, "héllo"), 7},
		{Frame{Binary: true}, 1},
		{Frame{Data: []byte{1}, Binary: true}, 5},
		{Frame{Data: []byte{1, 2, 3}, Binary: true}, 5},
		{Frame{Data: make([]byte, 4), Binary: true}, 9},
	}
	for _, tt := range tests {
		if got := PayloadSize(tt.f); got != tt.want {
			t.Errorf("PayloadSize(%+v) = %d, want %d", tt.f, got, tt.want)
		}
		if got := len(AppendPayload(nil, []Frame{tt.f})); got != tt.want {
			t.Errorf("AppendPayload(%+v) is %d bytes, PayloadSize says %d", tt.f, got, tt.want)
		}
	}
}

func TestDecodePayload(t *testing.T) {
	tests := []struct {
		name string
		body string
		want []Frame
	}{
		{"one", "4hello", []Frame{{Data: []byte("4hello")}}},
		{"open", `0{"sid":"a","pingInterval":1,"pingTimeout":1}`, []Frame{{Data: []byte(`0{"sid":"a","pingInterval":1,"pingTimeout":1}`)}}},
		{"protocol example", "4hello\x1e2\x1e4{\"a\":1}", []Frame{
			{Data: []byte("4hello")}, {Data: []byte("2")}, {Data: []byte(`4{"a":1}`)},
		}},
		{"binary", "bAQIDBA==", []Frame{{Data: []byte{1, 2, 3, 4}, Binary: true}}},
		{"binary unpadded", "bAQIDBA", []Frame{{Data: []byte{1, 2, 3, 4}, Binary: true}}},
		{"empty binary", "b", []Frame{{Data: []byte{}, Binary: true}}},
		{"binary between text", "451-[\"a\",{\"_placeholder\":true,\"num\":0}]\x1eb/wA=\x1e6", []Frame{
			{Data: []byte(`451-["a",{"_placeholder":true,"num":0}]`)},
			{Data: []byte{0xff, 0}, Binary: true},
			{Data: []byte("6")},
		}},
		{"utf-8", "4\"héllo €\"", []Frame{{Data: []byte("4\"héllo €\"")}}},
		{"all types", "0\x1e1\x1e2probe\x1e3probe\x1e4\x1e5\x1e6", []Frame{
			{Data: []byte("0")}, {Data: []byte("1")}, {Data: []byte("2probe")}, {Data: []byte("3probe")},
			{Data: []byte("4")}, {Data: []byte("5")}, {Data: []byte("6")},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodePayload([]byte(tt.body))
			if err != nil {
				t.Fatalf("DecodePayload(%q): %v", tt.body, err)
			}
			if !framesEqual(got, tt.want) {
				t.Fatalf("DecodePayload(%q) = %s, want %s", tt.body, showFrames(got), showFrames(tt.want))
			}
		})
	}
}

func TestDecodePayloadMalformed(t *testing.T) {
	tests := []struct {
		name string
		body string
	}{
		{"empty body", ""},
		{"only a separator", "\x1e"},
		{"leading separator", "\x1e4hello"},
		{"trailing separator", "4hello\x1e"},
		{"doubled separator", "4a\x1e\x1e4b"},
		{"bad type digit", "7hello"},
		{"bad type letter", "4a\x1ex"},
		{"bad base64 character", "bAQ*D"},
		{"truncated base64", "bAQIDB"},
		{"base64 bad padding", "bAQ=D"},
		{"base64 short padding", "bAQIDBA="},
		{"base64 extra padding", "bAQID===="},
		{"invalid UTF-8", "4\xff"},
		{"truncated UTF-8", "4h\xc3"},
		{"invalid UTF-8 after valid record", "4a\x1e4\xe2\x82"},
		{"truncated after binary", "bAQID\x1e"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodePayload([]byte(tt.body))
			var de *DecodeError
			if !errors.Is(err, ErrBadPolling) || !errors.As(err, &de) {
				t.Fatalf("DecodePayload(%q) = %s, %v; want a *DecodeError matching ErrBadPolling", tt.body, showFrames(got), err)
			}
			if got != nil {
				t.Errorf("DecodePayload(%q) returned frames with an error: %s", tt.body, showFrames(got))
			}
			if len(de.Input) > maxErrorInput {
				t.Errorf("error keeps %d bytes of input", len(de.Input))
			}
		})
	}
}

func TestDecodePayloadErrorInput(t *testing.T) {
	_, err := DecodePayload([]byte("4ok\x1e9bad"))
	var de *DecodeError
	if !errors.As(err, &de) || de.Input != "9bad" {
		t.Fatalf("error %v: want the offending record as Input", err)
	}
	long := strings.Repeat("x", 200)
	_, err = DecodePayload([]byte("4a\x1e" + long))
	if !errors.As(err, &de) || de.Input != long[:maxErrorInput] {
		t.Fatalf("error %v: want the first %d bytes of the record", err, maxErrorInput)
	}
}

func TestPayloadRoundTrip(t *testing.T) {
	big := make([]byte, 3000)
	for i := range big {
		big[i] = byte(i * 7)
	}
	batches := [][]Frame{
		{TextFrame(FrameMessage, "x")},
		{TextFrame(FrameOpen, `{"sid":"s"}`), TextFrame(FrameMessage, "0")},
		{{Data: big, Binary: true}},
		{{Data: []byte{}, Binary: true}, {Data: []byte{}, Binary: true}},
		{TextFrame(FrameMessage, `2["a"]`), {Data: big[:1], Binary: true}, {Data: big[:2], Binary: true},
			{Data: big[:3], Binary: true}, TextFrame(FramePong, "probe"), TextFrame(FrameClose, "")},
	}
	for _, frames := range batches {
		body := AppendPayload(nil, frames)
		got, err := DecodePayload(body)
		if err != nil {
			t.Fatalf("DecodePayload(%q): %v", body, err)
		}
		if !framesEqual(got, frames) {
			t.Fatalf("round trip of %s = %s", showFrames(frames), showFrames(got))
		}
	}
}

// TestDecodePayloadSharing documents who owns what: text frames alias the
// body, binary frames do not.
func TestDecodePayloadSharing(t *testing.T) {
	body := []byte("4a\x1ebAQ==")
	frames, err := DecodePayload(body)
	if err != nil {
		t.Fatal(err)
	}
	body[1] = 'z'
	body[len(body)-3] = 'B'
	if string(frames[0].Data) != "4z" || !bytes.Equal(frames[1].Data, []byte{1}) {
		t.Fatalf("frames after changing the body: %s", showFrames(frames))
	}
}

// showFrames formats frames for test failures: text frames quoted, binary
// frames as b"..." .
func showFrames(frames []Frame) string {
	var sb strings.Builder
	sb.WriteByte('[')
	for i, f := range frames {
		if i > 0 {
			sb.WriteByte(' ')
		}
		if f.Binary {
			sb.WriteByte('b')
		}
		sb.WriteString(strconv.Quote(string(f.Data)))
	}
	sb.WriteByte(']')
	return sb.String()
}

func framesEqual(a, b []Frame) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Binary != b[i].Binary || !bytes.Equal(a[i].Data, b[i].Data) {
			return false
		}
	}
	return true
}

// FuzzDecodePayload checks that DecodePayload never panics, that every
// failure is a *DecodeError matching ErrBadPolling, that what it accepts is
// well-formed, and that encoding the frames again yields a body that decodes
// to the same frames.
func FuzzDecodePayload(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		frames, err := DecodePayload(body)
		if err != nil {
			var de *DecodeError
			if !errors.Is(err, ErrBadPolling) || !errors.As(err, &de) || frames != nil {
				t.Fatalf("DecodePayload(%q) = %s, %v", body, showFrames(frames), err)
			}
			return
		}
		if len(frames) != bytes.Count(body, []byte{0x1e})+1 {
			t.Fatalf("DecodePayload(%q): %d frames for %d separators", body, len(frames), bytes.Count(body, []byte{0x1e}))
		}
		size := len(frames) - 1
		for _, fr := range frames {
			size += PayloadSize(fr)
			if fr.Binary {
				continue
			}
			if _, err := ParseFrame(fr.Data, false); err != nil {
				t.Fatalf("DecodePayload(%q) returned an invalid text frame %q", body, fr.Data)
			}
			if bytes.IndexByte(fr.Data, 0x1e) >= 0 {
				t.Fatalf("DecodePayload(%q) returned a frame holding a separator", body)
			}
		}
		again := AppendPayload(nil, frames)
		if len(again) != size {
			t.Fatalf("PayloadSize sum %d, AppendPayload wrote %d bytes", size, len(again))
		}
		// Decoded base64 re-encodes no longer than it was (padding may be
		// added, ignored newlines go away), so the body does not grow by
		// more than the padding of each record.
		if len(again) > len(body)+2*len(frames) {
			t.Fatalf("re-encoding %q grew it to %q", body, again)
		}
		frames2, err := DecodePayload(again)
		if err != nil {
			t.Fatalf("DecodePayload(AppendPayload(%s)) = %q: %v", showFrames(frames), again, err)
		}
		if !framesEqual(frames, frames2) {
			t.Fatalf("round trip: %s != %s", showFrames(frames2), showFrames(frames))
		}
		textOnly := true
		for _, fr := range frames {
			textOnly = textOnly && !fr.Binary
		}
		if textOnly && !bytes.Equal(again, body) {
			// Without binary records, the body is its own canonical form.
			t.Fatalf("text-only body %q re-encoded as %q", body, again)
		}
	})
}
