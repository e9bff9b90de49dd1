package deploy_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sio-go/sio"
)

// transportCase is one way to carry Engine.IO: WebSocket alone, polling
// alone, and the default, polling upgraded to WebSocket.
type transportCase struct {
	name  string
	opts  []sio.Option
	final string // the transport the server reports once settled
}

var transportCases = []transportCase{
	{"websocket", []sio.Option{sio.WithTransports(sio.WebSocket)}, "websocket"},
	{"polling", []sio.Option{sio.WithTransports(sio.Polling)}, "polling"},
	{"upgrade", nil, "websocket"},
}

// connectAndSettle dials url with the case's options and opts, waits until
// the server reports the case's final transport, and closes the socket.
func (tc transportCase) connectAndSettle(ctx context.Context, url string, opts ...sio.Option) (serverInfo, error) {
	var inf serverInfo
	s, err := sio.Dial(ctx, url, append(append([]sio.Option{sio.WithoutReconnect()}, tc.opts...), opts...)...)
	if err != nil {
		return inf, err
	}
	defer s.Close()
	for {
		if err := call(ctx, s, &inf, "info"); err != nil {
			return inf, err
		}
		if inf.Transport == tc.final {
			return inf, nil
		}
		select {
		case <-ctx.Done():
			return inf, fmt.Errorf("still on %s: %w", inf.Transport, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// tlsClient returns a client trusting roots and presenting certs, and
// closes its idle connections when the test ends.
func tlsClient(t *testing.T, roots *x509.CertPool, certs ...tls.Certificate) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, Certificates: certs}}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}
}

// https:// and wss:// with a private CA given through WithHTTPClient; the
// default client refuses the unknown CA with an error errors.As finds.
func TestTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	n := startNode(t, "tls", "--tls-cert", p.certFile, "--tls-key", p.keyFile)
	url := n.url()
	closeDefaultIdle(t)
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t, 20*time.Second)
			if _, err := tc.connectAndSettle(ctx, url, sio.WithHTTPClient(tlsClient(t, p.roots))); err != nil {
				t.Fatalf("with the CA: %v", err)
			}
			_, err := tc.connectAndSettle(ctx, url)
			var cve *tls.CertificateVerificationError
			var uae x509.UnknownAuthorityError
			if !errors.As(err, &cve) || !errors.As(err, &uae) {
				t.Fatalf("default client: %v, want a *tls.CertificateVerificationError and an x509.UnknownAuthorityError", err)
			}
			t.Logf("default client: %v", err)
		})
	}
}

// Mutual TLS: a node that requires a client certificate signed by the CA
// accepts the client presenting one, on every transport, and refuses the
// one presenting none: the client reports the server's TLS alert.
func TestMutualTLS(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	n := startNode(t, "mtls", "--tls-cert", p.certFile, "--tls-key", p.keyFile, "--client-ca", p.caFile)
	url := n.url()
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testContext(t, 20*time.Second)
			if _, err := tc.connectAndSettle(ctx, url, sio.WithHTTPClient(tlsClient(t, p.roots, p.clientCert))); err != nil {
				t.Fatalf("with a client certificate: %v", err)
			}
			_, err := tc.connectAndSettle(ctx, url, sio.WithHTTPClient(tlsClient(t, p.roots)))
			var op *net.OpError
			if !errors.As(err, &op) || op.Op != "remote error" || !strings.Contains(err.Error(), "certificate required") {
				t.Fatalf("without a client certificate: %v, want the server's alert \"certificate required\"", err)
			}
			t.Logf("without a client certificate: %v", err)
		})
	}
}
