package transport

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/sio-go/sio/packet"
)

const sessionUnknown = `{"code":1,"message":"Session ID unknown"}`

// A poll or a POST of an established session answered "Session ID unknown"
// names the likely cause (a balancer without sticky sessions), and still
// carries the server's refusal.
func TestPollingSessionUnknownNamesCause(t *testing.T) {
	check := func(t *testing.T, what string, err error) {
		t.Helper()
		var he *HandshakeError
		if !errors.Is(err, ErrSessionUnknown) || !errors.As(err, &he) || he.Code != CodeSessionIDUnknown {
			t.Fatalf("%s: %v, want ErrSessionUnknown wrapping the HandshakeError", what, err)
		}
		if !strings.Contains(err.Error(), "sticky") || !strings.Contains(err.Error(), "cookie jar") {
			t.Errorf("%s: %q does not name the likely cause", what, err)
		}
	}
	t.Run("GET", func(t *testing.T) {
		s := newFakePolling(t)
		c := dialFake(t, s, s.config(t))
		readFrame(t, c)
		s.polls <- pollAnswer{status: 400, body: sessionUnknown}
		_, err := c.Read(context.Background())
		check(t, "Read", err)
	})
	t.Run("POST", func(t *testing.T) {
		s := newFakePolling(t)
		s.post = func(w http.ResponseWriter, r *http.Request, body string) {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, sessionUnknown)
		}
		c := dialFake(t, s, s.config(t))
		err := c.Write(context.Background(), []packet.Frame{packet.TextFrame(packet.FrameMessage, "x")})
		check(t, "Write", err)
	})
}

// A handshake refused with code 1 has no session to blame: it is the bare
// HandshakeError.
func TestPollingHandshakeCode1(t *testing.T) {
	s := newFakePolling(t)
	s.handshake = func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, sessionUnknown)
	}
	_, err := DialPolling(context.Background(), s.config(t))
	var he *HandshakeError
	if !errors.As(err, &he) || he.Code != CodeSessionIDUnknown || errors.Is(err, ErrSessionUnknown) {
		t.Fatalf("DialPolling: %v, want the bare HandshakeError", err)
	}
}
