package transport

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A request that fails on its way through a proxy says which proxy, without
// its password; one without a proxy says nothing of proxies.
func TestErrorsNameTheProxy(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there: the proxy refuses connections
	proxy := &url.URL{Scheme: "http", User: url.UserPassword("user", "secret"), Host: addr}
	server, _ := url.Parse("http://127.0.0.1:1/socket.io/")

	for _, tt := range []struct {
		name  string
		proxy *url.URL
		want  string
	}{
		{"proxy", proxy, "through proxy http://user:xxxxx@" + addr + ":"},
		{"direct", nil, ""},
	} {
		tr := &http.Transport{Proxy: http.ProxyURL(tt.proxy)}
		defer tr.CloseIdleConnections()
		cfg := Config{URL: server, HTTPClient: &http.Client{Transport: tr}}
		_, perr := DialPolling(context.Background(), cfg)
		_, werr := DialWebSocket(context.Background(), cfg, "")
		for _, err := range []error{perr, werr} {
			switch {
			case err == nil:
				t.Fatalf("%s: no error", tt.name)
			case strings.Contains(err.Error(), "secret"):
				t.Errorf("%s: %q shows the proxy's password", tt.name, err)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("%s: %q does not contain %q", tt.name, err, tt.want)
			case tt.want == "" && strings.Contains(err.Error(), "proxy"):
				t.Errorf("%s: %q speaks of a proxy", tt.name, err)
			}
		}
	}
}
