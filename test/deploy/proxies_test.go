package deploy_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sio-go/sio"
)

// proxy is a running tinyproxy or danted.
type proxy struct {
	*proc
	url string // http://127.0.0.1:port or socks5://127.0.0.1:port
	log string // the log file
}

// logged returns the proxy's log.
func (p *proxy) logged(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(p.log)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tinyproxyConfig is an HTTP proxy (CONNECT, and plain requests for http://
// URLs) for the clients %[3]s. %[1]d is the port, %[2]s the directory.
const tinyproxyConfig = `Port %[1]d
Listen 127.0.0.1
Timeout 600
MaxClients 100
Allow %[3]s
LogFile "%[2]s/tinyproxy.log"
LogLevel Connect
PidFile "%[2]s/tinyproxy.pid"
`

// startTinyproxy starts tinyproxy, serving allow (127.0.0.1, or another
// address to refuse the tests' clients).
func startTinyproxy(t *testing.T, allow string) *proxy {
	t.Helper()
	dir, port := t.TempDir(), freePort(t)
	cfg := writeFile(t, dir, "tinyproxy.conf", fmt.Sprintf(tinyproxyConfig, port, dir, allow))
	p := startProc(t, "tinyproxy", "tinyproxy", "-d", "-c", cfg)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p.waitListening(t, addr)
	return &proxy{proc: p, url: "http://" + addr, log: filepath.Join(dir, "tinyproxy.log")}
}

// danteConfig is a SOCKS5 proxy without authentication whose rule %[3]s is
// "pass" or "block" for connections to loopback. %[1]d is the port, %[2]s
// the directory.
const danteConfig = `logoutput: %[2]s/danted.log
internal: 127.0.0.1 port = %[1]d
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 }
socks %[3]s {
  from: 127.0.0.0/8 to: 127.0.0.0/8
  command: connect
  log: connect error
}
`

// startDante starts danted with rule "pass" or "block".
func startDante(t *testing.T, rule string) *proxy {
	t.Helper()
	dir, port := t.TempDir(), freePort(t)
	cfg := writeFile(t, dir, "danted.conf", fmt.Sprintf(danteConfig, port, dir, rule))
	p := startProc(t, "danted", "danted", "-f", cfg, "-p", filepath.Join(dir, "danted.pid"), "-N", "1")
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	p.waitListening(t, addr)
	return &proxy{proc: p, url: "socks5://" + addr, log: filepath.Join(dir, "danted.log")}
}

// proxyClient returns a client going through proxyURL, trusting roots, and
// closes its idle connections when the test ends.
func proxyClient(t *testing.T, proxyURL string, roots *x509.CertPool, keepAlive bool) *http.Client {
	t.Helper()
	u, err := url.Parse(proxyURL)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{
		Proxy:             http.ProxyURL(u),
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		DisableKeepAlives: !keepAlive,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// expectLogged fails the test unless the proxy's log holds what.
func (p *proxy) expectLogged(t *testing.T, what string) {
	t.Helper()
	if log := p.logged(t); !strings.Contains(log, what) {
		t.Errorf("%s log has no %q:\n%s", p.name, what, log)
	}
}

// Through an HTTP proxy with CONNECT (tinyproxy): https:// and wss:// go
// through a tunnel, on every transport.
func TestHTTPConnectProxy(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	n := startNode(t, "secure", "--tls-cert", p.certFile, "--tls-key", p.keyFile)
	tp := startTinyproxy(t, "127.0.0.1")
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t, 20*time.Second)
			hc := proxyClient(t, tp.url, p.roots, true)
			if _, err := tc.connectAndSettle(ctx, n.url(), sio.WithHTTPClient(hc)); err != nil {
				t.Fatal(err)
			}
		})
	}
	tp.expectLogged(t, fmt.Sprintf("CONNECT 127.0.0.1:%d", n.port))
}

// Through an HTTP proxy to an http:// URL, net/http does not use CONNECT:
// it sends each request, the WebSocket handshake included, to the proxy to
// forward. tinyproxy drops the Upgrade header (the server then refuses the
// WebSocket with "Bad request") and closes each connection after one answer
// without saying so, which a client reusing connections loses requests to:
// polling works with keep-alives off, and the default transports stay on
// polling.
func TestHTTPForwardProxy(t *testing.T) {
	t.Parallel()
	n := startNode(t, "plain")
	tp := startTinyproxy(t, "127.0.0.1")
	ctx := testContext(t, 30*time.Second)

	t.Run("polling", func(t *testing.T) {
		hc := proxyClient(t, tp.url, nil, false)
		if _, err := transportCases[1].connectAndSettle(ctx, n.url(), sio.WithHTTPClient(hc)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("upgrade", func(t *testing.T) {
		hc := proxyClient(t, tp.url, nil, false)
		s, err := sio.Dial(ctx, n.url(), sio.WithHTTPClient(hc), sio.WithoutReconnect())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		// The upgrade is tried and fails; the socket carries on polling.
		for end := time.Now().Add(time.Second); time.Now().Before(end); {
			var inf serverInfo
			if err := call(ctx, s, &inf, "info"); err != nil || inf.Transport != "polling" {
				t.Fatalf("info: %+v, %v; want polling", inf, err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	t.Run("websocket", func(t *testing.T) {
		hc := proxyClient(t, tp.url, nil, false)
		_, err := transportCases[0].connectAndSettle(ctx, n.url(), sio.WithHTTPClient(hc))
		var he *sio.HandshakeError
		if !errors.As(err, &he) || he.StatusCode != 400 || he.Code != 3 {
			t.Fatalf("websocket through a forwarding proxy: %v, want the server's 400 Bad request", err)
		}
	})
	tp.expectLogged(t, fmt.Sprintf("GET http://127.0.0.1:%d/socket.io/", n.port))
}

// Through a SOCKS5 proxy (dante): http and https, on every transport.
func TestSOCKS5Proxy(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	plain := startNode(t, "plain")
	secure := startNode(t, "secure", "--tls-cert", p.certFile, "--tls-key", p.keyFile)
	da := startDante(t, "pass")
	for _, n := range []*node{plain, secure} {
		for _, tc := range transportCases {
			t.Run(n.name+"/"+tc.name, func(t *testing.T) {
				ctx := testContext(t, 20*time.Second)
				hc := proxyClient(t, da.url, p.roots, true)
				if _, err := tc.connectAndSettle(ctx, n.url(), sio.WithHTTPClient(hc)); err != nil {
					t.Fatal(err)
				}
			})
		}
		da.expectLogged(t, fmt.Sprintf(" 127.0.0.1.%d\n", n.port)) // a connection to n passed
	}
}

// A proxy that refuses, or is not there, makes Dial fail at once with an
// error that says so, on every transport.
func TestProxyRefuses(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	plain := startNode(t, "plain")
	secure := startNode(t, "secure", "--tls-cert", p.certFile, "--tls-key", p.keyFile)
	tp := startTinyproxy(t, "192.0.2.1") // serves another host only
	da := startDante(t, "block")
	closed := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))

	tests := []struct {
		name   string
		proxy  string
		target *node
		check  func(err error) bool
	}{
		// CONNECT refused: net/http reports the proxy's reason; the
		// client says which proxy (so do the socks5 and absent cases).
		{"connect", tp.url, secure, func(err error) bool {
			return strings.Contains(err.Error(), "through proxy "+tp.url) && strings.Contains(err.Error(), "Access denied")
		}},
		// A forwarded request refused: the proxy's own answer.
		{"forward", tp.url, plain, func(err error) bool {
			var he *sio.HandshakeError
			return errors.As(err, &he) && he.StatusCode == http.StatusForbidden && strings.Contains(he.Message, "Access denied")
		}},
		{"socks5", da.url, plain, func(err error) bool {
			return strings.Contains(err.Error(), "through proxy "+da.url) && strings.Contains(err.Error(), "not allowed by ruleset")
		}},
		{"absent", closed, plain, func(err error) bool {
			var op *net.OpError
			return strings.Contains(err.Error(), "through proxy "+closed) &&
				errors.As(err, &op) && op.Op == "proxyconnect" && errors.Is(err, syscall.ECONNREFUSED)
		}},
	}
	for _, tt := range tests {
		for _, tc := range transportCases {
			t.Run(tt.name+"/"+tc.name, func(t *testing.T) {
				ctx := testContext(t, 10*time.Second)
				hc := proxyClient(t, tt.proxy, p.roots, true)
				_, err := tc.connectAndSettle(ctx, tt.target.url(), sio.WithHTTPClient(hc))
				if err == nil || !tt.check(err) {
					t.Fatalf("through %s: %v", tt.proxy, err)
				}
				t.Logf("%v", err)
			})
		}
	}
}
