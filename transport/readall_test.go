package transport

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
)

func TestReadAll(t *testing.T) {
	for _, n := range []int{0, 1, firstChunk - 1, firstChunk, firstChunk + 1, 3*maxChunk + 7} {
		want := bytes.Repeat([]byte{'a', 'b', 'c'}, n/3+1)[:n]
		got, err := readAll(iotest.HalfReader(bytes.NewReader(want)))
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%d bytes: got %d bytes, %v", n, len(got), err)
		}
	}
	boom := errors.New("boom")
	got, err := readAll(io.MultiReader(bytes.NewReader(make([]byte, 5000)), iotest.ErrReader(boom)))
	if !errors.Is(err, boom) || got != nil {
		t.Fatalf("failing reader: %d bytes, %v", len(got), err)
	}
	// A body cut short (a gzip stream, or one shorter than its
	// Content-Length) is an error, not a short result.
	for _, n := range []int{10, firstChunk, 5000} {
		got, err = readAll(io.MultiReader(bytes.NewReader(make([]byte, n)), iotest.ErrReader(io.ErrUnexpectedEOF)))
		if !errors.Is(err, io.ErrUnexpectedEOF) || got != nil {
			t.Fatalf("body cut short after %d bytes: %d bytes, %v", n, len(got), err)
		}
	}
}

func TestRecordLimiter(t *testing.T) {
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{"4xxx", true},
		{"4xxxx", false},
		{"4xx\x1e4xxx\x1e4xxx", true},
		{"4xx\x1e4xxxx\x1e4x", false},
		{"\x1e\x1e\x1e", true},
		{strings.Repeat("4xx\x1e", 1000), true},
	} {
		for _, r := range []io.Reader{strings.NewReader(tc.body), iotest.OneByteReader(strings.NewReader(tc.body))} {
			_, err := io.ReadAll(&recordLimiter{r: r, max: 4})
			if tc.ok != (err == nil) || err != nil && !errors.Is(err, ErrFrameTooLarge) {
				t.Fatalf("%q: %v", tc.body, err)
			}
		}
	}
}

// A poll body longer than the read limit is read when no frame in it is, a
// binary frame at the limit (its base64 longer) included; a frame over the
// limit is refused.
func TestPollingRecordLimit(t *testing.T) {
	const limit = 64
	bin := "b" + base64.StdEncoding.EncodeToString(make([]byte, limit))
	for _, tc := range []struct {
		name, body string
		frames     int // 0: refused
	}{
		{"small frames over the limit together", strings.Repeat("4"+strings.Repeat("x", limit-1)+"\x1e", 9) + "6", 10},
		{"binary frame at the limit", bin + "\x1e" + bin, 2},
		{"binary frame over the limit", "b" + base64.StdEncoding.EncodeToString(make([]byte, limit+3)), 0},
		{"text frame between the limit and its base64 allowance", "4" + strings.Repeat("x", limit+5), 0},
	} {
		for _, chunked := range []bool{false, true} {
			s := newFakePolling(t)
			cfg := s.config(t)
			cfg.ReadLimit = limit
			s.open = `0{"sid":"SID1","pingInterval":1,"pingTimeout":1}`
			c := dialFake(t, s, cfg)
			readFrame(t, c)
			s.polls <- pollAnswer{body: tc.body, chunked: chunked}
			if tc.frames == 0 {
				if _, err := c.Read(context.Background()); !errors.Is(err, ErrFrameTooLarge) {
					t.Fatalf("%s (chunked %v): %v, want ErrFrameTooLarge", tc.name, chunked, err)
				}
				continue
			}
			for range tc.frames {
				readFrame(t, c)
			}
		}
	}
}

// A WebSocket handshake redirected in a loop fails after 10 requests
// (net/http's default policy), as a poll does: coder/websocket alone would
// follow the redirects until the context ends.
func TestWebSocketRedirectLoop(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Redirect(w, r, r.URL.String(), http.StatusFound)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL + "/engine.io/")
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, err := DialWebSocket(ctx, Config{URL: u, HTTPClient: srv.Client()}, "")
	if err == nil {
		c.Close()
	}
	if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "stopped after 10 redirects") || n.Load() != 10 {
		t.Fatalf("DialWebSocket: %v after %d requests", err, n.Load())
	}
	// A client's own policy still applies.
	hc := srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	n.Store(0)
	_, err = DialWebSocket(ctx, Config{URL: u, HTTPClient: hc}, "")
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusFound || n.Load() != 1 {
		t.Fatalf("DialWebSocket with ErrUseLastResponse: %v after %d requests", err, n.Load())
	}
}
