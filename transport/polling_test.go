package transport

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/test/nodeserver"
)

// testTimeout bounds every wait of these tests.
const testTimeout = 5 * time.Second

const testSID = "SID1"

// openBody returns a handshake body announcing maxPayload.
func openBody(maxPayload int) string {
	return fmt.Sprintf(`0{"sid":%q,"upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":%d}`,
		testSID, maxPayload)
}

// seenRequest is one request as the fake server saw it.
type seenRequest struct {
	Method string
	Query  url.Values
	Header http.Header
	Body   string // POST only
}

// pollAnswer is the fake server's answer to one long-poll GET.
type pollAnswer struct {
	status  int // 0 means 200
	body    string
	chunked bool // flush before the end: no Content-Length
}

// fakePolling is an Engine.IO long-polling server scripted by the test: it
// answers the handshake, answers each GET with the next pollAnswer the test
// sends, and records every request.
type fakePolling struct {
	srv *httptest.Server

	// handshake answers the GET without sid; the default sends open.
	handshake func(w http.ResponseWriter, r *http.Request)
	open      string
	// post answers a POST whose body was read; the default says "ok".
	post func(w http.ResponseWriter, r *http.Request, body string)

	polls   chan pollAnswer
	reqs    chan seenRequest // every request, when it arrives
	aborted chan struct{}    // a GET's client went away before its answer
	done    chan struct{}    // closed when the test ends: handlers return
}

func newFakePolling(t *testing.T) *fakePolling {
	s := &fakePolling{
		open:    openBody(1000000),
		polls:   make(chan pollAnswer, 16),
		reqs:    make(chan seenRequest, 100),
		aborted: make(chan struct{}, 16),
		done:    make(chan struct{}),
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	t.Cleanup(func() { close(s.done) }) // runs first: unblocks handlers
	return s
}

func (s *fakePolling) serveHTTP(w http.ResponseWriter, r *http.Request) {
	seen := seenRequest{Method: r.Method, Query: r.URL.Query(), Header: r.Header.Clone()}
	switch {
	case r.Method == http.MethodGet && seen.Query.Get("sid") == "":
		s.reqs <- seen
		if s.handshake != nil {
			s.handshake(w, r)
			return
		}
		io.WriteString(w, s.open)
	case r.Method == http.MethodGet:
		s.reqs <- seen
		select {
		case a := <-s.polls:
			if a.status != 0 {
				w.WriteHeader(a.status)
			}
			if a.chunked {
				io.WriteString(w, a.body[:len(a.body)/2])
				w.(http.Flusher).Flush()
				io.WriteString(w, a.body[len(a.body)/2:])
				return
			}
			io.WriteString(w, a.body)
		case <-r.Context().Done():
			s.aborted <- struct{}{}
		case <-s.done:
		}
	case r.Method == http.MethodPost:
		body, _ := io.ReadAll(r.Body)
		seen.Body = string(body)
		s.reqs <- seen
		if s.post != nil {
			s.post(w, r, seen.Body)
			return
		}
		io.WriteString(w, "ok")
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// config returns a Config for the fake server, with a user query parameter
// and a header to check for on every request.
func (s *fakePolling) config(t *testing.T) Config {
	u, err := url.Parse(s.srv.URL + "/engine.io/?token=abc")
	if err != nil {
		t.Fatal(err)
	}
	return Config{
		URL:        u,
		Header:     http.Header{"X-Test": {"yes"}},
		HTTPClient: s.srv.Client(),
	}
}

// next returns the next request the server saw.
func (s *fakePolling) next(t *testing.T) seenRequest {
	t.Helper()
	select {
	case r := <-s.reqs:
		return r
	case <-time.After(testTimeout):
		t.Fatal("timed out waiting for a request")
		return seenRequest{}
	}
}

// nextPost returns the next POST the server saw, skipping GETs.
func (s *fakePolling) nextPost(t *testing.T) seenRequest {
	t.Helper()
	for {
		if r := s.next(t); r.Method == http.MethodPost {
			return r
		}
	}
}

// noPost fails the test if the server has seen a POST that was not consumed.
func (s *fakePolling) noPost(t *testing.T) {
	t.Helper()
	for {
		select {
		case r := <-s.reqs:
			if r.Method == http.MethodPost {
				t.Fatalf("unexpected POST %q", r.Body)
			}
		default:
			return
		}
	}
}

// dialFake dials the fake server and reads the handshake request.
func dialFake(t *testing.T, s *fakePolling, cfg Config) Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := DialPolling(ctx, cfg)
	if err != nil {
		t.Fatalf("DialPolling: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	if r := s.next(t); r.Method != http.MethodGet || r.Query.Get("sid") != "" {
		t.Fatalf("first request: %s %v", r.Method, r.Query)
	}
	return c
}

func readFrame(t *testing.T, c Conn) packet.Frame {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	f, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	return f
}

func writeFrames(t *testing.T, c Conn, frames ...packet.Frame) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if err := c.Write(ctx, frames); err != nil {
		t.Fatalf("Write: %v", err)
	}
}

func wantFrame(t *testing.T, got packet.Frame, data string, binary bool) {
	t.Helper()
	if string(got.Data) != data || got.Binary != binary {
		t.Fatalf("frame %q (binary %v), want %q (binary %v)", got.Data, got.Binary, data, binary)
	}
}

// readAsync starts a Read and returns a channel with its result.
func readAsync(ctx context.Context, c Conn) <-chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		f, err := c.Read(ctx)
		ch <- readResult{f, err}
	}()
	return ch
}

type readResult struct {
	f   packet.Frame
	err error
}

func waitRead(t *testing.T, ch <-chan readResult) readResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(testTimeout):
		t.Fatal("Read did not return")
		return readResult{}
	}
}

func TestPollingHandshake(t *testing.T) {
	s := newFakePolling(t)
	s.open = openBody(1000) + "\x1e40"
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := DialPolling(ctx, s.config(t))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := s.next(t)
	if r.Method != http.MethodGet || r.Query.Get("EIO") != "4" || r.Query.Get("transport") != "polling" ||
		r.Query.Has("sid") || r.Query.Get("token") != "abc" || r.Header.Get("X-Test") != "yes" {
		t.Errorf("handshake request: %s %v %v", r.Method, r.Query, r.Header)
	}
	if c.Name() != "polling" {
		t.Errorf("Name() = %q", c.Name())
	}
	wantFrame(t, readFrame(t, c), openBody(1000), false)
	wantFrame(t, readFrame(t, c), "40", false)
	p := c.(*polling)
	if p.sid != testSID || p.maxPayload != 1000 {
		t.Errorf("sid %q maxPayload %d", p.sid, p.maxPayload)
	}
}

func TestPollingHandshakeSchemes(t *testing.T) {
	s := newFakePolling(t)
	cfg := s.config(t)
	ws := *cfg.URL
	ws.Scheme = "ws"
	cfg.URL = &ws
	c := dialFake(t, s, cfg)
	wantFrame(t, readFrame(t, c), s.open, false)

	ftp := ws
	ftp.Scheme = "ftp"
	cfg.URL = &ftp
	if _, err := DialPolling(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Fatalf("ftp URL: %v", err)
	}
}

func TestPollingHandshakeRefused(t *testing.T) {
	tests := []struct {
		status int
		body   string
		want   HandshakeError
	}{
		{400, `{"code":0,"message":"Transport unknown"}`,
			HandshakeError{Transport: "polling", StatusCode: 400, Code: 0, Message: "Transport unknown"}},
		{400, `{"code":5,"message":"Unsupported protocol version"}`,
			HandshakeError{Transport: "polling", StatusCode: 400, Code: 5, Message: "Unsupported protocol version"}},
		{403, `{"code":4,"message":"not on the list"}`,
			HandshakeError{Transport: "polling", StatusCode: 403, Code: 4, Message: "not on the list"}},
		{502, "bad gateway\n", HandshakeError{Transport: "polling", StatusCode: 502, Code: -1, Message: "bad gateway"}},
		{204, "", HandshakeError{Transport: "polling", StatusCode: 204, Code: -1, Message: "unexpected HTTP status 204 No Content"}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status, tt.want.Code), func(t *testing.T) {
			s := newFakePolling(t)
			s.handshake = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}
			c, err := DialPolling(context.Background(), s.config(t))
			var he *HandshakeError
			if !errors.As(err, &he) {
				if c != nil {
					c.Close()
				}
				t.Fatalf("DialPolling: %v, want a *HandshakeError", err)
			}
			if *he != tt.want {
				t.Errorf("error %+v, want %+v", *he, tt.want)
			}
		})
	}
}

func TestPollingHandshakeMalformed(t *testing.T) {
	tests := []struct {
		name string
		body string
		want error // nil: any error
	}{
		{"not open", "40", nil},
		{"bad open", `0{"sid":""}`, packet.ErrBadOpen},
		{"bad payload", openBody(1000) + "\x1e", packet.ErrBadPolling},
		{"empty", "", packet.ErrBadPolling},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakePolling(t)
			s.open = tt.body
			c, err := DialPolling(context.Background(), s.config(t))
			if err == nil {
				c.Close()
				t.Fatal("DialPolling succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("DialPolling: %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPollingRead(t *testing.T) {
	s := newFakePolling(t)
	c := dialFake(t, s, s.config(t))
	wantFrame(t, readFrame(t, c), s.open, false)

	s.polls <- pollAnswer{body: "4hello\x1e2\x1ebAQID\x1e451-[\"a\",{\"_placeholder\":true,\"num\":0}]\x1eb\x1e6"}
	wantFrame(t, readFrame(t, c), "4hello", false)
	r := s.next(t)
	if r.Method != http.MethodGet || r.Query.Get("sid") != testSID || r.Query.Get("EIO") != "4" ||
		r.Query.Get("transport") != "polling" || r.Query.Get("token") != "abc" || r.Header.Get("X-Test") != "yes" {
		t.Errorf("poll request: %s %v %v", r.Method, r.Query, r.Header)
	}
	wantFrame(t, readFrame(t, c), "2", false)
	wantFrame(t, readFrame(t, c), "\x01\x02\x03", true)
	wantFrame(t, readFrame(t, c), `451-["a",{"_placeholder":true,"num":0}]`, false)
	wantFrame(t, readFrame(t, c), "", true)
	wantFrame(t, readFrame(t, c), "6", false)

	// The next Read polls again; a chunked body (no Content-Length) too.
	s.polls <- pollAnswer{body: `42["x"]` + "\x1e1", chunked: true}
	wantFrame(t, readFrame(t, c), `42["x"]`, false)
	wantFrame(t, readFrame(t, c), "1", false) // the close packet is a frame like any other
	if r := s.next(t); r.Method != http.MethodGet {
		t.Fatalf("second poll: %s", r.Method)
	}
	// The server closed the session: Close does not send the close packet.
	c.Close()
	s.noPost(t)
}

func TestPollingReadMalformed(t *testing.T) {
	for _, body := range []string{"4a\x1e\x1e2", "9", "b%%%", "4\xff"} {
		s := newFakePolling(t)
		c := dialFake(t, s, s.config(t))
		readFrame(t, c)
		s.polls <- pollAnswer{body: body}
		_, err := c.Read(context.Background())
		if !errors.Is(err, packet.ErrBadPolling) {
			t.Errorf("body %q: Read: %v, want ErrBadPolling", body, err)
		}
	}
}

func TestPollingSessionUnknown(t *testing.T) {
	s := newFakePolling(t)
	c := dialFake(t, s, s.config(t))
	readFrame(t, c)
	s.polls <- pollAnswer{status: 400, body: `{"code":1,"message":"Session ID unknown"}`}
	_, err := c.Read(context.Background())
	var he *HandshakeError
	if !errors.As(err, &he) || he.Code != CodeSessionIDUnknown || he.StatusCode != 400 ||
		he.Transport != "polling" || he.Message != "Session ID unknown" {
		t.Fatalf("Read: %v, want HandshakeError code 1", err)
	}
	// The session is gone: Close does not try to send the close packet.
	c.Close()
	s.noPost(t)
}

func TestPollingReadLimit(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		chunked bool
		ok      bool
	}{
		{"at the limit", 64, false, true},
		{"at the limit chunked", 64, true, true},
		{"over the limit", 65, false, false},
		{"over the limit chunked", 65, true, false},
		{"far over the limit chunked", 1 << 20, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakePolling(t)
			cfg := s.config(t)
			cfg.ReadLimit = 64
			s.open = `0{"sid":"SID1","pingInterval":1,"pingTimeout":1}`
			c := dialFake(t, s, cfg)
			readFrame(t, c)
			s.polls <- pollAnswer{body: "4" + strings.Repeat("x", tt.size-1), chunked: tt.chunked}
			f, err := c.Read(context.Background())
			if tt.ok {
				if err != nil || len(f.Data) != tt.size {
					t.Fatalf("Read: %d bytes, %v", len(f.Data), err)
				}
				return
			}
			if !errors.Is(err, ErrFrameTooLarge) {
				t.Fatalf("Read: %v, want ErrFrameTooLarge", err)
			}
		})
	}
	t.Run("handshake", func(t *testing.T) {
		s := newFakePolling(t)
		cfg := s.config(t)
		cfg.ReadLimit = 64
		c, err := DialPolling(context.Background(), cfg)
		if !errors.Is(err, ErrFrameTooLarge) {
			if c != nil {
				c.Close()
			}
			t.Fatalf("DialPolling: %v, want ErrFrameTooLarge", err)
		}
	})
}

func TestPollingWrite(t *testing.T) {
	s := newFakePolling(t)
	c := dialFake(t, s, s.config(t))
	writeFrames(t, c, packet.TextFrame(packet.FrameMessage, `0`),
		packet.Frame{Data: []byte{1, 2, 3}, Binary: true}, packet.TextFrame(packet.FramePong, ""))
	r := s.nextPost(t)
	if r.Body != "40\x1ebAQID\x1e3" {
		t.Errorf("POST body %q", r.Body)
	}
	if r.Query.Get("sid") != testSID || r.Query.Get("EIO") != "4" || r.Query.Get("transport") != "polling" ||
		r.Query.Get("token") != "abc" || r.Header.Get("X-Test") != "yes" ||
		r.Header.Get("Content-Type") != "text/plain;charset=UTF-8" {
		t.Errorf("POST request: %v %v", r.Query, r.Header)
	}
	// Nothing to write sends nothing.
	writeFrames(t, c)
	s.noPost(t)
	// The buffer is reused: a shorter body after a longer one.
	writeFrames(t, c, packet.TextFrame(packet.FramePing, ""))
	if r := s.nextPost(t); r.Body != "2" {
		t.Errorf("POST body %q", r.Body)
	}
	if got := c.(interface{ FrameSize(packet.Frame) int }).FrameSize(packet.Frame{Data: []byte{1, 2, 3, 4}, Binary: true}); got != 9 {
		t.Errorf("FrameSize of 4 binary bytes = %d, want 9", got)
	}
}

func TestPollingWriteWhileReading(t *testing.T) {
	s := newFakePolling(t)
	c := dialFake(t, s, s.config(t))
	readFrame(t, c)
	ch := readAsync(context.Background(), c)
	if r := s.next(t); r.Method != http.MethodGet {
		t.Fatalf("expected the poll, got %s", r.Method)
	}
	// A pending GET does not hold up a POST.
	writeFrames(t, c, packet.TextFrame(packet.FrameMessage, "x"))
	if r := s.nextPost(t); r.Body != "4x" {
		t.Fatalf("POST body %q", r.Body)
	}
	s.polls <- pollAnswer{body: "4y"}
	if r := waitRead(t, ch); r.err != nil || string(r.f.Data) != "4y" {
		t.Fatalf("Read: %q %v", r.f.Data, r.err)
	}
}

func TestPollingWriteSplits(t *testing.T) {
	bin3 := packet.Frame{Data: []byte{1, 2, 3}, Binary: true}   // 5 bytes in a body
	bin12 := packet.Frame{Data: make([]byte, 12), Binary: true} // 17
	text := func(s string) packet.Frame { return packet.Frame{Data: []byte(s)} }
	tests := []struct {
		name   string
		frames []packet.Frame
		bodies []string
	}{
		{"fits exactly", []packet.Frame{text("4aaaaaaaa"), text("4bbbbbbbbb")}, []string{"4aaaaaaaa\x1e4bbbbbbbbb"}},
		{"one over", []packet.Frame{text("4aaaaaaaaa"), text("4bbbbbbbbb")}, []string{"4aaaaaaaaa", "4bbbbbbbbb"}},
		{"mixed", []packet.Frame{
			text("4aaaa"), text("4bbbbbbbbb"), bin3, text("4ccccccccccccccccccc"), text("2"), text("3"), bin12,
		}, []string{"4aaaa\x1e4bbbbbbbbb", "bAQID", "4ccccccccccccccccccc", "2\x1e3", "bAAAAAAAAAAAAAAAA"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakePolling(t)
			s.open = openBody(20)
			c := dialFake(t, s, s.config(t))
			writeFrames(t, c, tt.frames...)
			var all []packet.Frame
			for i, want := range tt.bodies {
				r := s.nextPost(t)
				if len(r.Body) > 20 {
					t.Errorf("body %d is %d bytes, over maxPayload", i, len(r.Body))
				}
				if r.Body != want {
					t.Errorf("body %d = %q, want %q", i, r.Body, want)
				}
				frames, err := packet.DecodePayload([]byte(r.Body))
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, frames...)
			}
			s.noPost(t)
			if len(all) != len(tt.frames) {
				t.Fatalf("%d frames arrived, want %d", len(all), len(tt.frames))
			}
			for i := range all {
				if string(all[i].Data) != string(tt.frames[i].Data) || all[i].Binary != tt.frames[i].Binary {
					t.Errorf("frame %d = %q, want %q", i, all[i].Data, tt.frames[i].Data)
				}
			}
		})
	}
}

func TestPollingWriteTooLarge(t *testing.T) {
	s := newFakePolling(t)
	s.open = openBody(20)
	c := dialFake(t, s, s.config(t))
	ok := packet.TextFrame(packet.FrameMessage, "fine")
	for _, big := range []packet.Frame{
		packet.TextFrame(packet.FrameMessage, strings.Repeat("x", 20)), // 21 bytes
		{Data: make([]byte, 15), Binary: true},                         // 1 + 20 bytes of base64
	} {
		err := c.Write(context.Background(), []packet.Frame{ok, ok, big, ok})
		if !errors.Is(err, ErrFrameTooLarge) {
			t.Fatalf("Write of a %d-byte frame: %v, want ErrFrameTooLarge", packet.PayloadSize(big), err)
		}
	}
	for _, bad := range []packet.Frame{{}, {Data: []byte("4a\x1e4b")}} {
		if err := c.Write(context.Background(), []packet.Frame{ok, bad}); err == nil {
			t.Fatalf("Write of text frame %q succeeded", bad.Data)
		}
	}
	s.noPost(t) // nothing was sent
	// The largest frame that fits is sent.
	writeFrames(t, c, packet.TextFrame(packet.FrameMessage, strings.Repeat("x", 19)))
	if r := s.nextPost(t); len(r.Body) != 20 {
		t.Errorf("body %q", r.Body)
	}
}

func TestPollingWriteRefused(t *testing.T) {
	tests := []struct {
		status int
		body   string
		check  func(error) bool
	}{
		{400, `{"code":1,"message":"Session ID unknown"}`, func(err error) bool {
			var he *HandshakeError
			return errors.As(err, &he) && he.Code == CodeSessionIDUnknown && he.Transport == "polling"
		}},
		{413, "", func(err error) bool {
			var he *HandshakeError
			return errors.As(err, &he) && he.StatusCode == 413 && he.Code == -1
		}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			s := newFakePolling(t)
			s.post = func(w http.ResponseWriter, r *http.Request, body string) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			}
			c := dialFake(t, s, s.config(t))
			err := c.Write(context.Background(), []packet.Frame{packet.TextFrame(packet.FrameMessage, "x")})
			if !tt.check(err) {
				t.Fatalf("Write: %v", err)
			}
			s.nextPost(t)
			c.Close() // a request failed: no close packet
			s.noPost(t)
		})
	}
}

// TestPollingWriteAnyBody: like the official client, a POST answered 200 has
// succeeded whatever its body says: python-socketio answers "OK", not "ok".
func TestPollingWriteAnyBody(t *testing.T) {
	for _, answer := range []string{"ok", "OK", "", "nope"} {
		t.Run(answer, func(t *testing.T) {
			s := newFakePolling(t)
			s.post = func(w http.ResponseWriter, r *http.Request, body string) {
				io.WriteString(w, answer)
			}
			c := dialFake(t, s, s.config(t))
			for _, msg := range []string{"4a", "4b"} {
				writeFrames(t, c, packet.TextFrame(packet.FrameMessage, msg[1:]))
				if r := s.nextPost(t); r.Body != msg {
					t.Fatalf("POST body %q, want %q", r.Body, msg)
				}
			}
			c.Close() // nothing failed: the close packet goes out
			if r := s.nextPost(t); r.Body != "1" {
				t.Errorf("close POST body %q, want 1", r.Body)
			}
		})
	}
}

func TestPollingCookies(t *testing.T) {
	s := newFakePolling(t)
	s.handshake = func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sticky", Value: "abc", Path: "/"})
		io.WriteString(w, s.open)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.config(t)
	cfg.HTTPClient = &http.Client{Transport: s.srv.Client().Transport, Jar: jar}
	c := dialFake(t, s, cfg)
	readFrame(t, c)
	s.polls <- pollAnswer{body: "6"}
	readFrame(t, c)
	if r := s.next(t); r.Method != http.MethodGet || r.Header.Get("Cookie") != "sticky=abc" {
		t.Errorf("GET: Cookie %q", r.Header.Get("Cookie"))
	}
	writeFrames(t, c, packet.TextFrame(packet.FrameMessage, "0"))
	if r := s.nextPost(t); r.Header.Get("Cookie") != "sticky=abc" {
		t.Errorf("POST: Cookie %q", r.Header.Get("Cookie"))
	}
}

func TestPollingPause(t *testing.T) {
	t.Run("poll in flight", func(t *testing.T) {
		s := newFakePolling(t)
		c := dialFake(t, s, s.config(t))
		readFrame(t, c)
		ch := readAsync(context.Background(), c)
		if r := s.next(t); r.Method != http.MethodGet {
			t.Fatalf("expected the poll, got %s", r.Method)
		}
		c.(Pauser).Pause()
		// The poll in flight is not interrupted: its frames are read.
		select {
		case r := <-ch:
			t.Fatalf("Read returned %q, %v before the poll was answered", r.f.Data, r.err)
		case <-time.After(50 * time.Millisecond):
		}
		s.polls <- pollAnswer{body: "4x\x1e6"}
		if r := waitRead(t, ch); r.err != nil || string(r.f.Data) != "4x" {
			t.Fatalf("Read: %q %v", r.f.Data, r.err)
		}
		wantFrame(t, readFrame(t, c), "6", false)
		// Then no new poll: a GET would wait for an answer and time out.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if _, err := c.Read(ctx); err != ErrPaused {
			t.Fatalf("Read after the poll: %v, want ErrPaused", err)
		}
		if _, err := c.Read(ctx); err != ErrPaused {
			t.Fatalf("second Read: %v, want ErrPaused", err)
		}
		// Writing still works while paused.
		writeFrames(t, c, packet.TextFrame(packet.FrameMessage, "y"))
		if r := s.nextPost(t); r.Body != "4y" {
			t.Fatalf("POST %q", r.Body)
		}
		// Aborting it after the upgrade tells the server nothing: the
		// session lives on over the new transport.
		c.Abort()
		s.noPost(t)
		if _, err := c.Read(ctx); err == nil {
			t.Fatal("Read after Abort succeeded")
		}
	})
	t.Run("before polling", func(t *testing.T) {
		s := newFakePolling(t)
		s.open = openBody(1000) + "\x1e40"
		c := dialFake(t, s, s.config(t))
		c.(Pauser).Pause()
		readFrame(t, c)
		wantFrame(t, readFrame(t, c), "40", false) // received before the pause
		if _, err := c.Read(context.Background()); err != ErrPaused {
			t.Fatalf("Read: %v, want ErrPaused", err)
		}
	})
}

// Closing a paused transport abandons the upgrade and ends the session.
func TestPollingClosePaused(t *testing.T) {
	s := newFakePolling(t)
	c := dialFake(t, s, s.config(t))
	readFrame(t, c)
	c.(Pauser).Pause()
	c.Close()
	if r := s.nextPost(t); r.Body != "1" {
		t.Fatalf("POST %q, want the close packet", r.Body)
	}
}

func TestPollingReadCancel(t *testing.T) {
	s := newFakePolling(t)
	c := dialFake(t, s, s.config(t))
	readFrame(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	ch := readAsync(ctx, c)
	s.next(t) // the poll is pending
	start := time.Now()
	cancel()
	r := waitRead(t, ch)
	if !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Read: %v, want context.Canceled", r.err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("Read took %v to return after cancel", d)
	}
	select {
	case <-s.aborted:
	case <-time.After(testTimeout):
		t.Fatal("the server did not see the GET aborted")
	}
	// Aborting a poll ends the session: no close packet.
	c.Close()
	s.noPost(t)
}

// TestPollingDoneContext: a call whose ctx is already done sends no
// request, so the session stays usable and Close still says goodbye.
func TestPollingDoneContext(t *testing.T) {
	s := newFakePolling(t)
	c := dialFake(t, s, s.config(t))
	readFrame(t, c)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Read(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read: %v", err)
	}
	if err := c.Write(ctx, []packet.Frame{packet.TextFrame(packet.FrameMessage, "x")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Write: %v", err)
	}
	select {
	case r := <-s.reqs:
		t.Fatalf("unexpected %s request", r.Method)
	default:
	}
	c.Close()
	if r := s.nextPost(t); r.Body != "1" {
		t.Fatalf("close POST %q", r.Body)
	}
}

func TestPollingClose(t *testing.T) {
	s := newFakePolling(t)
	c := dialFake(t, s, s.config(t))
	readFrame(t, c)
	ch := readAsync(context.Background(), c)
	s.next(t) // the poll is pending; the server never answers it
	start := time.Now()
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d >= closeTimeout {
		t.Errorf("Close took %v", d)
	}
	if r := s.nextPost(t); r.Body != "1" || r.Query.Get("sid") != testSID ||
		r.Header.Get("Content-Type") != "text/plain;charset=UTF-8" {
		t.Errorf("close POST: %q %v", r.Body, r.Query)
	}
	if r := waitRead(t, ch); !errors.Is(r.err, net.ErrClosed) {
		t.Fatalf("pending Read: %v, want net.ErrClosed", r.err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	s.noPost(t)
	if _, err := c.Read(context.Background()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read after Close: %v", err)
	}
	if err := c.Write(context.Background(), []packet.Frame{packet.TextFrame(packet.FrameMessage, "x")}); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	s.noPost(t)
}

func TestPollingCloseWithBufferedFrames(t *testing.T) {
	s := newFakePolling(t)
	s.open = openBody(1000) + "\x1e40"
	c := dialFake(t, s, s.config(t))
	c.Close()
	if r := s.nextPost(t); r.Body != "1" {
		t.Fatalf("close POST %q", r.Body)
	}
	if _, err := c.Read(context.Background()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
}

// TestPollingCloseBounded: an unresponsive server does not hold Close for
// more than about a second, whether a POST is in flight or the close packet
// itself gets no answer.
func TestPollingCloseBounded(t *testing.T) {
	t.Run("POST in flight", func(t *testing.T) {
		t.Parallel()
		s := newFakePolling(t)
		s.post = func(w http.ResponseWriter, r *http.Request, body string) {
			select { // never answers
			case <-r.Context().Done():
			case <-s.done:
			}
		}
		c := dialFake(t, s, s.config(t))
		werr := make(chan error, 1)
		go func() {
			werr <- c.Write(context.Background(), []packet.Frame{packet.TextFrame(packet.FrameMessage, "x")})
		}()
		s.nextPost(t)
		start := time.Now()
		c.Close()
		if d := time.Since(start); d < closeTimeout/2 || d > closeTimeout+time.Second {
			t.Errorf("Close took %v", d)
		}
		select {
		case err := <-werr:
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("Write: %v, want net.ErrClosed", err)
			}
		case <-time.After(testTimeout):
			t.Fatal("Write did not return")
		}
		s.noPost(t) // the close packet could not be sent
	})
	t.Run("close unanswered", func(t *testing.T) {
		t.Parallel()
		s := newFakePolling(t)
		s.post = func(w http.ResponseWriter, r *http.Request, body string) {
			select {
			case <-r.Context().Done():
			case <-s.done:
			}
		}
		c := dialFake(t, s, s.config(t))
		start := time.Now()
		c.Close()
		if d := time.Since(start); d < closeTimeout/2 || d > closeTimeout+time.Second {
			t.Errorf("Close took %v", d)
		}
		if r := s.nextPost(t); r.Body != "1" {
			t.Errorf("close POST %q", r.Body)
		}
	})
}

func TestPollingConcurrentRead(t *testing.T) {
	s := newFakePolling(t)
	c := dialFake(t, s, s.config(t))
	readFrame(t, c)
	ch := readAsync(context.Background(), c)
	s.next(t)
	if _, err := c.Read(context.Background()); err == nil || !strings.Contains(err.Error(), "concurrent") {
		t.Fatalf("second Read: %v", err)
	}
	s.polls <- pollAnswer{body: "6"}
	if r := waitRead(t, ch); r.err != nil {
		t.Fatal(r.err)
	}
}

// recorder is an http.RoundTripper that records the requests it carries.
type recorder struct {
	base http.RoundTripper
	mu   sync.Mutex
	reqs []recordedRequest
}

type recordedRequest struct {
	method string
	cookie string
	size   int64
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, recordedRequest{req.Method, req.Header.Get("Cookie"), req.ContentLength})
	r.mu.Unlock()
	return r.base.RoundTrip(req)
}

func (r *recorder) all() []recordedRequest {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recordedRequest(nil), r.reqs...)
}

func (r *recorder) posts() []recordedRequest {
	var posts []recordedRequest
	for _, q := range r.all() {
		if q.method == http.MethodPost {
			posts = append(posts, q)
		}
	}
	return posts
}

// dialNode dials the reference server over polling with a cookie jar and a
// recording client of its own.
func dialNode(t *testing.T, srv *nodeserver.Server) (Conn, *recorder) {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	rec := &recorder{base: tr}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(srv.URL() + "/socket.io/")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := DialPolling(ctx, Config{URL: u, HTTPClient: &http.Client{Transport: rec, Jar: jar}})
	if err != nil {
		t.Fatalf("DialPolling: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c, rec
}

// readMessage reads frames until a message, skipping noops.
func readMessage(t *testing.T, c Conn) packet.Frame {
	t.Helper()
	for {
		f := readFrame(t, c)
		if f.Type() == packet.FrameMessage {
			return f
		}
		if f.Type() != packet.FrameNoop {
			t.Fatalf("unexpected %s frame %q", f.Type(), f.Data)
		}
	}
}

// nodeConnect reads the open packet, joins the main namespace and returns
// the handshake data.
func nodeConnect(t *testing.T, c Conn) packet.Open {
	t.Helper()
	f := readFrame(t, c)
	if f.Type() != packet.FrameOpen {
		t.Fatalf("first frame %q", f.Data)
	}
	open, err := packet.ParseOpen(f.Payload())
	if err != nil {
		t.Fatal(err)
	}
	writeFrames(t, c, packet.TextFrame(packet.FrameMessage, "0"))
	if f := readMessage(t, c); !strings.HasPrefix(string(f.Data), `40{"sid":"`) {
		t.Fatalf("CONNECT answered with %q", f.Data)
	}
	return open
}

func TestPollingNode(t *testing.T) {
	srv := nodeserver.Start(t)
	c, rec := dialNode(t, srv)
	open := nodeConnect(t, c)
	if open.MaxPayload != 1000000 || len(open.Upgrades) != 1 || open.Upgrades[0] != "websocket" {
		t.Errorf("open packet: %+v", open)
	}

	writeFrames(t, c, packet.TextFrame(packet.FrameMessage, `2["echo","x"]`))
	wantFrame(t, readMessage(t, c), `42["echo","x"]`, false)

	// A binary attachment comes as b + base64 in the poll body.
	writeFrames(t, c, packet.TextFrame(packet.FrameMessage, `2["binary",300]`))
	wantFrame(t, readMessage(t, c), `451-["binary",{"_placeholder":true,"num":0}]`, false)
	want := make([]byte, 300)
	for i := range want {
		want[i] = byte(i)
	}
	wantFrame(t, readMessage(t, c), string(want), true)

	// And one we send arrives: the server echoes it back.
	writeFrames(t, c, packet.TextFrame(packet.FrameMessage, `51-["echo",{"_placeholder":true,"num":0}]`),
		packet.Frame{Data: []byte{0, 0xff, 0x1e}, Binary: true})
	wantFrame(t, readMessage(t, c), `451-["echo",{"_placeholder":true,"num":0}]`, false)
	wantFrame(t, readMessage(t, c), "\x00\xff\x1e", true)

	// The cookie set by the handshake went back with the later requests.
	for i, r := range rec.all()[1:] {
		if r.cookie != "sticky=abc" {
			t.Errorf("request %d (%s): Cookie %q", i+1, r.method, r.cookie)
		}
	}

	// Close sends the close packet and ends the pending poll.
	ch := readAsync(context.Background(), c)
	time.Sleep(50 * time.Millisecond) // let the poll reach the server
	c.Close()
	if r := waitRead(t, ch); r.err == nil && r.f.Type() != packet.FrameNoop {
		t.Errorf("pending Read: %q", r.f.Data)
	}
	deadline := time.Now().Add(testTimeout)
	for !strings.Contains(srv.Stderr(), "transport close") {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not see the client close:\n%s", srv.Stderr())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPollingNodeSplit(t *testing.T) {
	srv := nodeserver.Start(t, nodeserver.WithArgs("--max-http-buffer-size", "1000"))
	c, rec := dialNode(t, srv)
	if open := nodeConnect(t, c); open.MaxPayload != 1000 {
		t.Fatalf("maxPayload %d, want 1000", open.MaxPayload)
	}
	before := len(rec.posts())

	// Ten events of about 220 bytes: 2.2 kB in all, sent in one Write.
	var frames []packet.Frame
	for i := range 10 {
		frames = append(frames, packet.TextFrame(packet.FrameMessage,
			fmt.Sprintf(`2["echo","%d:%s"]`, i, strings.Repeat("x", 200))))
	}
	writeFrames(t, c, frames...)
	posts := rec.posts()[before:]
	if len(posts) < 3 {
		t.Errorf("%d POSTs for 2.2 kB with maxPayload 1000", len(posts))
	}
	for i, p := range posts {
		if p.size > 1000 {
			t.Errorf("POST %d: %d bytes", i, p.size)
		}
	}
	for i := range 10 {
		want := fmt.Sprintf(`42["echo","%d:%s"]`, i, strings.Repeat("x", 200))
		wantFrame(t, readMessage(t, c), want, false)
	}

	// A frame that cannot fit is refused without sending anything, and the
	// session goes on.
	big := packet.TextFrame(packet.FrameMessage, `2["echo","`+strings.Repeat("y", 1000)+`"]`)
	if err := c.Write(context.Background(), []packet.Frame{big}); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("Write of %d bytes: %v", len(big.Data), err)
	}
	writeFrames(t, c, packet.TextFrame(packet.FrameMessage, `2["echo","still here"]`))
	wantFrame(t, readMessage(t, c), `42["echo","still here"]`, false)
}

// A poll whose connection dies after the server read it, before any answer:
// net/http sends it again on a new connection, and the server may have
// answered the first one (the packets are then lost). Read reports
// ErrResent at once, not when the second poll is answered, which can take a
// whole ping interval.
func TestPollResentFailsAtOnce(t *testing.T) {
	done := make(chan struct{})
	var polls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("sid") == "" {
			io.WriteString(w, openBody(1000000))
			return
		}
		if polls.Add(1) == 1 {
			c, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				c.Close()
			}
			return
		}
		select { // the poll sent again: nothing to say for a long while
		case <-r.Context().Done():
		case <-done:
		}
	}))
	defer srv.Close()
	defer close(done)
	u, _ := url.Parse(srv.URL + "/engine.io/")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := DialPolling(ctx, Config{URL: u, HTTPClient: srv.Client()})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	for {
		_, err = c.Read(ctx)
		if err != nil {
			break
		}
	}
	if !errors.Is(err, ErrResent) {
		t.Fatalf("Read = %v after %v, want ErrResent", err, time.Since(start))
	}
	if polls.Load() == 0 {
		t.Fatal("no poll reached the server")
	}
	// A functional bound: without the fix the Read waits for ctx (10 s).
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("ErrResent after %v", d)
	}
}

// TestPollingStatedMaxPayload: when the open packet announces no maxPayload
// (python-socketio, socket.io 3.x), Config.MaxPayload states the server's
// limit; without it 1e6 bytes are assumed. An announced maxPayload wins.
func TestPollingStatedMaxPayload(t *testing.T) {
	noMax := `0{"sid":"SID1","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}`
	big := packet.TextFrame(packet.FrameMessage, strings.Repeat("x", 1_500_000))
	small := packet.TextFrame(packet.FrameMessage, strings.Repeat("y", 30))
	for _, tt := range []struct {
		name   string
		open   string
		stated int64
		bodies []int // the sizes of the POSTs of big, small, small; nil: refused
	}{
		{"default", noMax, 0, nil},
		{"stated", noMax, 2_000_000, []int{1_500_001 + 1 + 31 + 1 + 31}},
		{"stated small", noMax, 1_500_033, []int{1_500_001 + 1 + 31, 31}},
		{"announced wins", openBody(1_000_000), 2_000_000, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newFakePolling(t)
			s.open = tt.open
			cfg := s.config(t)
			cfg.MaxPayload = tt.stated
			c := dialFake(t, s, cfg)
			err := c.Write(context.Background(), []packet.Frame{big, small, small})
			if tt.bodies == nil {
				if !errors.Is(err, ErrFrameTooLarge) {
					t.Fatalf("Write of a 1.5 MB frame: %v, want ErrFrameTooLarge", err)
				}
				s.noPost(t)
				return
			}
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			for _, want := range tt.bodies {
				if r := s.nextPost(t); len(r.Body) != want {
					t.Errorf("POST of %d bytes, want %d", len(r.Body), want)
				}
			}
			s.noPost(t)
		})
	}
}
