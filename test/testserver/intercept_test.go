package testserver

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// An interceptor answers the requests it picks (here a session's second
// GET, with a 500); the others reach the server, which goes on serving the
// session.
func TestIntercept(t *testing.T) {
	var polls, seen atomic.Int32
	srv := start(t, WithIntercept(func(_ context.Context, w http.ResponseWriter, r *http.Request) bool {
		seen.Add(1)
		if r.Method != http.MethodGet || r.URL.Query().Get("sid") == "" || polls.Add(1) != 2 {
			return false
		}
		http.Error(w, "hostile", http.StatusInternalServerError)
		return true
	}))
	p, _ := pollConnect(t, srv)
	p.post("40")
	p.expectMatch(`^40\{"sid":`) // poll 1: through to the session
	if status, body := p.do("GET", ""); status != http.StatusInternalServerError || body != "hostile\n" {
		t.Fatalf("poll 2: %d %q, want the interceptor's 500", status, body)
	}
	// The session never saw poll 2: poll 3 gets what is queued.
	p.post(`42["echo","x"]`)
	p.expect(`42["echo","x"]`)
	if n := seen.Load(); n != 6 {
		t.Fatalf("the interceptor saw %d requests, want 6", n)
	}
}

// Stream.ServeHTTP writes exactly Size bytes, Prefix then Fill repeated,
// chunked or with Content-Length.
func TestStreamServeHTTP(t *testing.T) {
	const size = 1<<20 + 5
	for _, announced := range []bool{false, true} {
		st := Stream{Prefix: "ab", Fill: "xyz", Size: size, Chunk: 1000, ContentLength: announced}
		errc := make(chan error, 1)
		srv := start(t, WithIntercept(func(ctx context.Context, w http.ResponseWriter, _ *http.Request) bool {
			errc <- st.ServeHTTP(ctx, w)
			return true
		}))
		resp, err := srv.Client().Get(srv.URL() + "/anything")
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := "ab" + strings.Repeat("xyz", size/3)[:size-2]; string(body) != want {
			t.Fatalf("body of %d bytes %.16q...%q", len(body), body, body[max(len(body)-8, 0):])
		}
		if want := int64(-1); announced {
			if resp.ContentLength != size {
				t.Fatalf("Content-Length %d", resp.ContentLength)
			}
		} else if resp.ContentLength != want {
			t.Fatalf("Content-Length %d for a chunked body", resp.ContentLength)
		}
		if err := <-errc; err != nil {
			t.Fatalf("ServeHTTP: %v", err)
		}
	}
}

// An endless trickle ends when the client goes away, and when the server
// closes; Close waits for the interceptor (goleak checks in TestMain).
func TestStreamEndless(t *testing.T) {
	errc := make(chan error, 1)
	srv, err := Start(WithIntercept(func(ctx context.Context, w http.ResponseWriter, _ *http.Request) bool {
		errc <- Stream{Fill: "6", Size: -1, Chunk: 1, Every: time.Millisecond}.ServeHTTP(ctx, w)
		return true
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()

	// The client reads some, then goes away.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+"/x", nil)
	resp, err := noKeepAlive().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("ServeHTTP returned nil for an endless body")
		}
	case <-ctx.Done():
		t.Fatal("ServeHTTP went on after the client left")
	}

	// The client stays; the server closes.
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, srv.URL()+"/x", nil)
	resp, err = noKeepAlive().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if _, err := br.ReadByte(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if err := <-errc; err == nil {
		t.Fatal("ServeHTTP returned nil for an endless body")
	}
	if _, err := io.Copy(io.Discard, br); err == nil {
		t.Fatal("the endless body ended cleanly")
	}
}

// SendStream sends one WebSocket message of Size bytes; over polling it
// fails at once.
func TestSendStream(t *testing.T) {
	const size = 3<<20 + 1
	srv := start(t, WithHandler(Script(
		SendOpen(Open{}),
		SendStream(Stream{Prefix: "4", Fill: "z", Size: size}),
		Send("4after"),
		WaitForClose(),
	)))
	c, _ := connect(t, srv)
	f := c.read()
	if f.IsBinary || len(f.Text) != size || f.Text[0] != '4' || strings.Count(f.Text, "z") != size-1 {
		t.Fatalf("message of %d bytes %.16q", len(f.Text), f.Text)
	}
	c.expect("4after")

	errc := make(chan error, 1)
	psrv := start(t, WithHandler(func(ctx context.Context, c *Conn) error {
		if err := c.SendOpen(Open{}); err != nil {
			return err
		}
		errc <- c.SendStream(ctx, Stream{Fill: "x", Size: 10})
		return nil
	}))
	pollConnect(t, psrv)
	if err := <-errc; !errors.Is(err, errNotWebSocket) {
		t.Fatalf("SendStream over polling: %v", err)
	}
}
