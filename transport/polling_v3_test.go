package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/sio-go/sio/packet"
)

// v3Body writes packets as an Engine.IO v3 body, each as
// "<UTF-16 length>:<packet>", independently of the codec under test.
func v3Body(packets ...string) string {
	var sb strings.Builder
	for _, p := range packets {
		sb.WriteString(strconv.Itoa(len(utf16.Encode([]rune(p)))))
		sb.WriteByte(':')
		sb.WriteString(p)
	}
	return sb.String()
}

// v3Open is the open packet of an engine.io 3.x server: no maxPayload.
const v3Open = `0{"sid":"SID1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":5000}`

// newFakeV3 returns a fake server whose handshake is that of a socket.io 2.x
// server: the open packet, then the CONNECT of the main namespace.
func newFakeV3(t *testing.T) *fakePolling {
	s := newFakePolling(t)
	s.open = v3Body(v3Open, "40")
	return s
}

func (s *fakePolling) configV3(t *testing.T) Config {
	cfg := s.config(t)
	cfg.EIO = 3
	return cfg
}

// wantV3Query checks the query of a v3 polling request.
func wantV3Query(t *testing.T, what string, q url.Values, sid string) {
	t.Helper()
	if q.Get("EIO") != "3" || q.Get("b64") != "1" || q.Get("transport") != "polling" ||
		q.Get("token") != "abc" || q.Get("sid") != sid {
		t.Errorf("%s: query %v", what, q)
	}
}

func TestEndpointV3(t *testing.T) {
	u, err := url.Parse("https://example.com/socket.io/?token=abc&EIO=4&b64=true")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{URL: u, EIO: 3}
	tests := []struct {
		transport, sid string
		want           string
	}{
		{NamePolling, "", "https://example.com/socket.io/?EIO=3&b64=1&token=abc&transport=polling"},
		{NamePolling, "s1", "https://example.com/socket.io/?EIO=3&b64=1&sid=s1&token=abc&transport=polling"},
		// Over WebSocket b64 would make the server send binary as base64 text.
		{NameWebSocket, "s1", "https://example.com/socket.io/?EIO=3&sid=s1&token=abc&transport=websocket"},
	}
	for _, tt := range tests {
		if got := cfg.endpoint(tt.transport, tt.sid).String(); got != tt.want {
			t.Errorf("endpoint(%q, %q) = %s, want %s", tt.transport, tt.sid, got, tt.want)
		}
	}
	cfg.EIO = 4
	if got := cfg.endpoint(NamePolling, "").Query().Get("EIO"); got != "4" {
		t.Errorf("EIO 4: EIO=%s", got)
	}
}

func TestDialUnsupportedEIO(t *testing.T) {
	s := newFakePolling(t)
	for _, eio := range []int{-1, 1, 2, 5} {
		cfg := s.config(t)
		cfg.EIO = eio
		if c, err := DialPolling(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "version") {
			if c != nil {
				c.Close()
			}
			t.Errorf("DialPolling with EIO %d: %v", eio, err)
		}
		if c, err := DialWebSocket(context.Background(), cfg, ""); err == nil || !strings.Contains(err.Error(), "version") {
			if c != nil {
				c.Close()
			}
			t.Errorf("DialWebSocket with EIO %d: %v", eio, err)
		}
	}
	select {
	case r := <-s.reqs:
		t.Errorf("unexpected %s request", r.Method)
	default:
	}
}

func TestPollingV3Handshake(t *testing.T) {
	s := newFakeV3(t)
	if !strings.HasPrefix(s.open, "80:0{") || !strings.HasSuffix(s.open, "}2:40") {
		t.Fatalf("handshake body %q", s.open)
	}
	c := dialFake(t, s, s.configV3(t))
	wantFrame(t, readFrame(t, c), v3Open, false)
	wantFrame(t, readFrame(t, c), "40", false)
	p := c.(*polling)
	if p.sid != testSID || !p.v3 || p.maxPayload != 1e6 {
		t.Errorf("sid %q v3 %v maxPayload %d", p.sid, p.v3, p.maxPayload)
	}

	// The polls carry EIO=3, b64=1 and the sid; bodies are length-prefixed,
	// with binary as b4 + base64 and lengths in UTF-16 code units.
	s.polls <- pollAnswer{body: v3Body("4hello", "4€", `42["😀"]`, `451-["a",{"_placeholder":true,"num":0}]`) +
		"6:b4AQID" + "2:b4" + "1:6"}
	wantFrame(t, readFrame(t, c), "4hello", false)
	r := s.next(t)
	if r.Method != http.MethodGet || r.Header.Get("X-Test") != "yes" {
		t.Errorf("poll: %s %v", r.Method, r.Header)
	}
	wantV3Query(t, "poll", r.Query, testSID)
	wantFrame(t, readFrame(t, c), "4€", false)
	wantFrame(t, readFrame(t, c), `42["😀"]`, false)
	wantFrame(t, readFrame(t, c), `451-["a",{"_placeholder":true,"num":0}]`, false)
	wantFrame(t, readFrame(t, c), "\x01\x02\x03", true)
	wantFrame(t, readFrame(t, c), "", true)
	wantFrame(t, readFrame(t, c), "6", false)

	// A chunked body, and the server's close packet.
	s.polls <- pollAnswer{body: v3Body(`42["x"]`, "1"), chunked: true}
	wantFrame(t, readFrame(t, c), `42["x"]`, false)
	wantFrame(t, readFrame(t, c), "1", false)
	c.Close()
	s.noPost(t)
}

// TestPollingV3HandshakeMaxPayload: a later server started with allowEIO3
// may announce maxPayload to a v3 client too; it is then obeyed.
func TestPollingV3HandshakeMaxPayload(t *testing.T) {
	s := newFakePolling(t)
	s.open = v3Body(openBody(20))
	c := dialFake(t, s, s.configV3(t))
	if p := c.(*polling); p.maxPayload != 20 {
		t.Fatalf("maxPayload %d, want 20", p.maxPayload)
	}
}

func TestPollingV3HandshakeMalformed(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error
	}{
		{"v4 body", openBody(1000) + "\x1e40", packet.ErrBadPolling},
		{"bad length", "81:" + v3Open, packet.ErrBadPolling},
		{"not open", v3Body("40"), nil},
		{"bad open", v3Body(`0{"sid":""}`), packet.ErrBadOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakePolling(t)
			s.open = tt.body
			c, err := DialPolling(context.Background(), s.configV3(t))
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				if c != nil {
					c.Close()
				}
				t.Fatalf("DialPolling: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPollingV3ReadMalformed(t *testing.T) {
	for _, body := range []string{"4a\x1e2", "2:4a3:4a", "2:4😀", "4:4€", "0:", "3:b4%", "2:4\xff"} {
		s := newFakeV3(t)
		c := dialFake(t, s, s.configV3(t))
		readFrame(t, c)
		readFrame(t, c)
		s.polls <- pollAnswer{body: body}
		if _, err := c.Read(context.Background()); !errors.Is(err, packet.ErrBadPolling) {
			t.Errorf("body %q: Read: %v, want ErrBadPolling", body, err)
		}
	}
}

func TestPollingV3Write(t *testing.T) {
	s := newFakeV3(t)
	c := dialFake(t, s, s.configV3(t))
	writeFrames(t, c,
		packet.TextFrame(packet.FrameMessage, `2["chat","€ 😀"]`),
		packet.TextFrame(packet.FrameMessage, `51-["up",{"_placeholder":true,"num":0}]`),
		packet.Frame{Data: []byte{1, 2, 3}, Binary: true},
		packet.Frame{Binary: true},
		packet.TextFrame(packet.FramePing, ""))
	r := s.nextPost(t)
	want := v3Body(`42["chat","€ 😀"]`, `451-["up",{"_placeholder":true,"num":0}]`, "b4AQID", "b4", "2")
	if r.Body != want {
		t.Errorf("POST body %q, want %q", r.Body, want)
	}
	if !strings.HasPrefix(r.Body, `17:42["chat","€ 😀"]`) {
		t.Errorf("POST body %q: the emoji counts 2, the euro sign 1", r.Body)
	}
	wantV3Query(t, "POST", r.Query, testSID)
	if r.Header.Get("Content-Type") != "text/plain;charset=UTF-8" || r.Header.Get("X-Test") != "yes" {
		t.Errorf("POST header %v", r.Header)
	}
	sizer := c.(interface{ FrameSize(packet.Frame) int })
	for _, tt := range []struct {
		f    packet.Frame
		want int
	}{
		{packet.Frame{Data: []byte{1, 2, 3, 4}, Binary: true}, len("12:b4AQIDBA==")},
		{packet.TextFrame(packet.FrameMessage, "😀"), len("3:4😀")},
		{packet.TextFrame(packet.FrameMessage, strings.Repeat("€", 9)), len("10:4") + 27},
	} {
		if got := sizer.FrameSize(tt.f); got != tt.want {
			t.Errorf("FrameSize(%q) = %d, want %d", tt.f.Data, got, tt.want)
		}
	}

	// Close sends the close packet in v3 framing.
	c.Close()
	r = s.nextPost(t)
	if r.Body != "1:1" {
		t.Errorf("close POST %q, want 1:1", r.Body)
	}
	wantV3Query(t, "close POST", r.Query, testSID)
}

func TestPollingV3WriteSplits(t *testing.T) {
	text := func(s string) packet.Frame { return packet.Frame{Data: []byte(s)} }
	bin3 := packet.Frame{Data: []byte{1, 2, 3}, Binary: true} // 6:b4AQID, 8 bytes
	tests := []struct {
		name   string
		frames []packet.Frame
		bodies []string
	}{
		// 9:4aaaaaaaa (11 bytes) + 7:4bbbbbb (9 bytes) = 20
		{"fits exactly", []packet.Frame{text("4aaaaaaaa"), text("4bbbbbb")}, []string{"9:4aaaaaaaa7:4bbbbbb"}},
		{"one over", []packet.Frame{text("4aaaaaaaa"), text("4bbbbbbb")}, []string{"9:4aaaaaaaa", "8:4bbbbbbb"}},
		// 6:4€€€€€ is 18 bytes for 6 units.
		{"bytes count, not units", []packet.Frame{text("4€€€€€"), text("2")}, []string{"6:4€€€€€", "1:2"}},
		{"mixed", []packet.Frame{text("4aaaa"), bin3, text("4ccccccccccccccc"), text("2"), text("3")},
			[]string{"5:4aaaa6:b4AQID", "16:4ccccccccccccccc", "1:21:3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakePolling(t)
			s.open = v3Body(openBody(20))
			c := dialFake(t, s, s.configV3(t))
			writeFrames(t, c, tt.frames...)
			for i, want := range tt.bodies {
				r := s.nextPost(t)
				if len(r.Body) > 20 {
					t.Errorf("body %d is %d bytes, over maxPayload", i, len(r.Body))
				}
				if r.Body != want {
					t.Errorf("body %d = %q, want %q", i, r.Body, want)
				}
			}
			s.noPost(t)
		})
	}
}

// TestPollingV3WriteDefaultLimit: without maxPayload in the open packet,
// POST bodies stay within 1e6 bytes, engine.io 3.x's default
// maxHttpBufferSize.
func TestPollingV3WriteDefaultLimit(t *testing.T) {
	s := newFakeV3(t)
	c := dialFake(t, s, s.configV3(t))
	half := packet.TextFrame(packet.FrameMessage, strings.Repeat("x", 600_000))
	writeFrames(t, c, half, half)
	for range 2 {
		if r := s.nextPost(t); len(r.Body) != len("600001:")+600_001 {
			t.Errorf("POST of %d bytes", len(r.Body))
		}
	}
	s.noPost(t)
	// 999,993 bytes of text take 1e6 bytes with "999993:".
	writeFrames(t, c, packet.TextFrame(packet.FrameMessage, strings.Repeat("x", 999_992)))
	if r := s.nextPost(t); len(r.Body) != 1e6 {
		t.Errorf("POST of %d bytes, want 1e6", len(r.Body))
	}
	big := packet.TextFrame(packet.FrameMessage, strings.Repeat("x", 999_993))
	if err := c.Write(context.Background(), []packet.Frame{big}); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("Write of a frame taking 1e6+1 bytes: %v, want ErrFrameTooLarge", err)
	}
	s.noPost(t)
}

func TestPollingV3WriteRefusesFrames(t *testing.T) {
	s := newFakeV3(t)
	c := dialFake(t, s, s.configV3(t))
	ok := packet.TextFrame(packet.FrameMessage, "fine")
	for _, bad := range []packet.Frame{{}, {Data: []byte("4\xff")}, {Data: []byte("4h\xc3")}} {
		if err := c.Write(context.Background(), []packet.Frame{ok, bad}); err == nil {
			t.Errorf("Write of text frame %q succeeded", bad.Data)
		}
	}
	s.noPost(t)
	// The record separator is an ordinary character in a v3 body.
	writeFrames(t, c, packet.TextFrame(packet.FrameMessage, "a\x1eb"))
	if r := s.nextPost(t); r.Body != "4:4a\x1eb" {
		t.Errorf("POST body %q", r.Body)
	}
}

// TestPollingDetectsEIO3: a socket.io 2.x server ignores EIO=4 and answers in
// v3 framing; DialPolling says so with ErrEIO3 and closes that session.
func TestPollingDetectsEIO3(t *testing.T) {
	for _, eio := range []int{0, 4} {
		s := newFakeV3(t)
		cfg := s.config(t)
		cfg.EIO = eio
		c, err := DialPolling(context.Background(), cfg)
		if !errors.Is(err, ErrEIO3) || c != nil {
			if c != nil {
				c.Close()
			}
			t.Fatalf("EIO %d: DialPolling: %v, want ErrEIO3", eio, err)
		}
		if r := s.next(t); r.Query.Get("EIO") != "4" || r.Query.Has("b64") {
			t.Errorf("handshake query %v", r.Query)
		}
		r := s.nextPost(t)
		if r.Body != "1:1" {
			t.Errorf("close POST %q, want 1:1", r.Body)
		}
		wantV3Query(t, "close POST", r.Query, testSID)
		s.noPost(t)

		// Dialing again with EIO 3 succeeds.
		cfg.EIO = 3
		c = dialFake(t, s, cfg)
		wantFrame(t, readFrame(t, c), v3Open, false)
	}
}

func TestPollingDetectsEIO3Malformed(t *testing.T) {
	// Still v3 framing, but no session to close.
	for _, body := range []string{"3:40", "5:4abc", "2:4😀", "12:" + v3Open, v3Body("40"), v3Body(`0{"sid":""}`)} {
		s := newFakePolling(t)
		s.open = body
		c, err := DialPolling(context.Background(), s.config(t))
		if !errors.Is(err, ErrEIO3) {
			if c != nil {
				c.Close()
			}
			t.Fatalf("body %q: DialPolling: %v, want ErrEIO3", body, err)
		}
		s.next(t)
		s.noPost(t)
	}
	// Not v3 framing: the usual errors.
	for _, body := range []string{"12", ":4", "4a", "b4AQID"} {
		s := newFakePolling(t)
		s.open = body
		c, err := DialPolling(context.Background(), s.config(t))
		if err == nil || errors.Is(err, ErrEIO3) {
			if c != nil {
				c.Close()
			}
			t.Fatalf("body %q: DialPolling: %v, want an error other than ErrEIO3", body, err)
		}
	}
}

// v3BinaryBody writes string packets as an Engine.IO v3 body in binary
// framing: a byte 0, the length's decimal digits as bytes 0 to 9, the byte
// 255, the packet.
func v3BinaryBody(packets ...string) string {
	var sb strings.Builder
	for _, p := range packets {
		sb.WriteByte(0)
		for _, d := range strconv.Itoa(len(utf16.Encode([]rune(p)))) {
			sb.WriteByte(byte(d - '0'))
		}
		sb.WriteByte(0xff)
		sb.WriteString(p)
	}
	return sb.String()
}

// TestPollingDetectsEIO3Binary: a v3 server asked without b64=1 may answer
// the handshake in binary framing (application/octet-stream), as some Go
// servers do whatever EIO was asked for. That is a v3 body too: DialPolling
// says ErrEIO3 and closes that session, and v3 (with b64=1) then works.
func TestPollingDetectsEIO3Binary(t *testing.T) {
	s := newFakePolling(t)
	s.handshake = func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("b64") == "1" {
			io.WriteString(w, v3Body(v3Open, "40"))
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		io.WriteString(w, v3BinaryBody(v3Open, "40"))
	}
	cfg := s.config(t)
	c, err := DialPolling(context.Background(), cfg)
	if !errors.Is(err, ErrEIO3) || c != nil {
		if c != nil {
			c.Close()
		}
		t.Fatalf("DialPolling: %v, want ErrEIO3", err)
	}
	s.next(t)
	r := s.nextPost(t)
	if r.Body != "1:1" {
		t.Errorf("close POST %q, want 1:1", r.Body)
	}
	wantV3Query(t, "close POST", r.Query, testSID)
	s.noPost(t)

	cfg.EIO = 3
	c = dialFake(t, s, cfg)
	wantFrame(t, readFrame(t, c), v3Open, false)
}

func TestBinaryV3First(t *testing.T) {
	tests := []struct {
		body string
		pkt  string
		ok   bool
	}{
		{v3BinaryBody(v3Open, "40"), v3Open, true},
		{"\x00\x02\xff40", "40", true},
		{"\x01\x03\xff\x04\x01\x02", "\x04\x01\x02", true},
		{"\x00\x09\x09\xff0{", "0{", true}, // cut short: still v3 framing
		{"\x00\xff0", "", false},           // no digits
		{"\x00\x0a\xff0", "", false},       // not a digit byte
		{"\x02\x01\xff0", "", false},       // not a packet kind
		{"\x00\x01", "", false},            // no 255
		{"\x00" + strings.Repeat("\x01", 10) + "\xff0", "", false},
		{`0{"sid":"x"}`, "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		pkt, ok := binaryV3First([]byte(tt.body))
		if ok != tt.ok || string(pkt) != tt.pkt {
			t.Errorf("binaryV3First(%q) = %q, %v; want %q, %v", tt.body, pkt, ok, tt.pkt, tt.ok)
		}
	}
}
