package webtransport

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/transport"
)

func TestFrameRoundTrip(t *testing.T) {
	frames := []packet.Frame{
		packet.TextFrame(packet.FrameOpen, ""),
		packet.TextFrame(packet.FrameMessage, strings.Repeat("é", 100)), // 16-bit length
		{Data: bytes.Repeat([]byte{7}, 70000), Binary: true},            // 64-bit length
		{Data: []byte{1}, Binary: true},
		packet.TextFrame(packet.FramePing, ""),
	}
	var b []byte
	for _, f := range frames {
		b = appendFrame(b, f)
	}
	if b[0] != 1 || b[2] != 126 {
		t.Fatalf("headers % x", b[:4])
	}
	r := bufio.NewReader(bytes.NewReader(b))
	for i, want := range frames {
		got, err := readFrame(r, 1<<20)
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if got.Binary != want.Binary || !bytes.Equal(got.Data, want.Data) {
			t.Fatalf("frame %d: got %v %d bytes", i, got.Binary, len(got.Data))
		}
	}
	if _, err := readFrame(r, 1<<20); !errors.Is(err, io.EOF) {
		t.Fatalf("after the last frame: %v", err)
	}
}

func TestReadFrameHostile(t *testing.T) {
	for name, tc := range map[string]struct {
		in   []byte
		want error
	}{
		"cut in header":   {[]byte{126, 1}, io.ErrUnexpectedEOF},
		"cut in payload":  {[]byte{5, '4', 'a'}, io.ErrUnexpectedEOF},
		"over the limit":  {[]byte{127, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, transport.ErrFrameTooLarge},
		"bad utf-8":       {[]byte{2, '4', 0xff}, transport.ErrInvalidUTF8},
		"bad packet type": {[]byte{1, '9'}, packet.ErrBadFrame},
	} {
		_, err := readFrame(bufio.NewReader(bytes.NewReader(tc.in)), 1024)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
	// Empty frames (zishang520's final fragments) are skipped.
	f, err := readFrame(bufio.NewReader(bytes.NewReader([]byte{0x80, 0, 1, '3'})), 1024)
	if err != nil || string(f.Data) != "3" {
		t.Errorf("after empty frames: %q, %v", f.Data, err)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add(appendFrame(nil, packet.TextFrame(packet.FrameMessage, "2[\"a\"]")))
	f.Add(appendFrame(nil, packet.Frame{Data: bytes.Repeat([]byte{1}, 300), Binary: true}))
	f.Add([]byte{0x80, 126, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		r := bufio.NewReader(bytes.NewReader(b))
		for {
			fr, err := readFrame(r, 4096)
			if err != nil {
				return
			}
			if len(fr.Data) == 0 && !fr.Binary || len(fr.Data) > 4096 {
				t.Fatalf("frame %+v", fr)
			}
			again, err := readFrame(bufio.NewReader(bytes.NewReader(appendFrame(nil, fr))), 4096)
			if err != nil || !bytes.Equal(again.Data, fr.Data) || again.Binary != fr.Binary {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}
