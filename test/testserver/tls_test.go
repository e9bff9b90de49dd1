package testserver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func TestStartTLS(t *testing.T) {
	srv, err := StartTLS()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	if !strings.HasPrefix(srv.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL() = %q", srv.URL())
	}

	// Polling with Client().
	p := newPollClient(t, srv)
	p.hc = srv.Client()
	status, body := p.do("GET", "")
	if status != http.StatusOK {
		t.Fatalf("handshake: %d %q", status, body)
	}
	p.sid = parseOpen(t, body).SID
	p.connectNS("/")
	p.post(`42["echo","over tls"]`)
	p.expect(`42["echo","over tls"]`)

	// wss:// with Client(), then an upgrade of the polling session.
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	ws, _, err := dialWS(ctx, wsURL(srv), srv.Client())
	if err != nil {
		t.Fatalf("wss dial: %v", err)
	}
	c := &rawClient{t: t, ws: ws}
	defer ws.CloseNow()
	c.open()
	c.connectNS("/")
	up, _, err := dialWS(ctx, wsURL(srv)+"&sid="+p.sid, srv.Client())
	if err != nil {
		t.Fatalf("wss upgrade: %v", err)
	}
	defer up.CloseNow()
	u := &rawClient{t: t, ws: up}
	u.send("2probe")
	u.expect("3probe")
	u.send("5")
	u.send(`42["echo","upgraded"]`)
	u.expect(`42["echo","upgraded"]`)

	// A client built from CertPool trusts the server; one without does not.
	pool := srv.CertPool()
	if pool == nil {
		t.Fatal("CertPool() = nil")
	}
	own := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DisableKeepAlives: true}}
	resp, err := own.Get(srv.URL() + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatalf("client with CertPool: %v", err)
	}
	parseOpen(t, readAll(t, resp))
	_, err = noKeepAlive().Get(srv.URL() + "/socket.io/?EIO=4&transport=polling")
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Fatalf("client without the certificate: %v", err)
	}
	if n := srv.Connections(); n != 3 {
		t.Fatalf("Connections() = %d, want 3", n)
	}
}

func TestCertPoolWithoutTLS(t *testing.T) {
	srv := start(t)
	if srv.CertPool() != nil {
		t.Fatal("CertPool() of a plain server")
	}
	if srv.Client() == nil {
		t.Fatal("Client() = nil")
	}
	p := newPollClient(t, srv)
	p.hc = srv.Client()
	if status, body := p.do("GET", ""); status != http.StatusOK {
		t.Fatalf("%d %q", status, body)
	}
}
