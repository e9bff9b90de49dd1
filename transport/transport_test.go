package transport

import (
	"net"
	"net/url"
	"testing"
)

func TestEndpoint(t *testing.T) {
	u, err := url.Parse("https://example.com/socket.io/?token=abc&EIO=3&sid=stale")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{URL: u}
	tests := []struct {
		transport, sid string
		want           string
	}{
		{NamePolling, "", "https://example.com/socket.io/?EIO=4&token=abc&transport=polling"},
		{NamePolling, "s1", "https://example.com/socket.io/?EIO=4&sid=s1&token=abc&transport=polling"},
		{NameWebSocket, "s/2", "https://example.com/socket.io/?EIO=4&sid=s%2F2&token=abc&transport=websocket"},
	}
	for _, tt := range tests {
		if got := cfg.endpoint(tt.transport, tt.sid).String(); got != tt.want {
			t.Errorf("endpoint(%q, %q) = %s, want %s", tt.transport, tt.sid, got, tt.want)
		}
	}
	if u.String() != "https://example.com/socket.io/?token=abc&EIO=3&sid=stale" {
		t.Errorf("endpoint changed the configured URL: %s", u)
	}
}

func TestHandshakeErrorMessage(t *testing.T) {
	tests := []struct {
		err  HandshakeError
		want string
	}{
		{HandshakeError{Transport: NamePolling, StatusCode: 400, Code: 1, Message: "Session ID unknown"},
			"transport: polling refused: HTTP 400: Session ID unknown (code 1)"},
		{HandshakeError{Transport: NameWebSocket, StatusCode: 403, Code: 4, Message: "Forbidden"},
			"transport: websocket refused: HTTP 403: Forbidden (code 4)"},
		{HandshakeError{Transport: NamePolling, StatusCode: 413, Code: -1},
			"transport: polling refused: HTTP 413: Request Entity Too Large"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

// A corked connection gathers writes and sends them in one write when
// uncorked; writes outside a batch go straight through.
func TestCorkConn(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := &corkConn{Conn: a}
	got := make(chan []byte, 10)
	go func() {
		buf := make([]byte, 1024)
		for {
			n, err := b.Read(buf)
			if err != nil {
				close(got)
				return
			}
			got <- append([]byte(nil), buf[:n]...)
		}
	}()
	c.Write([]byte("x"))
	if g := <-got; string(g) != "x" {
		t.Fatalf("uncorked write arrived as %q", g)
	}
	c.cork(1) // a batch larger than announced still goes out as one
	c.Write([]byte("a"))
	c.Write([]byte("b"))
	select {
	case g := <-got:
		t.Fatalf("corked write arrived early: %q", g)
	default:
	}
	if err := c.uncork(); err != nil {
		t.Fatal(err)
	}
	if g := <-got; string(g) != "ab" {
		t.Fatalf("batch arrived as %q, want one write of \"ab\"", g)
	}
	if c.buf != nil {
		t.Fatalf("an uncorked connection holds a %d-byte buffer", cap(c.buf))
	}
}
