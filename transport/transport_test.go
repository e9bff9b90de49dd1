package transport

import (
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
