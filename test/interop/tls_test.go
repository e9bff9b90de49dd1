package interop_test

import (
	"crypto/tls"
	"net/http"
	"strings"
	"testing"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
)

// https and wss with WithHTTPClient's TLS settings, on every transport.
func TestTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := testutil.SelfSigned(t, t.TempDir())
	srv := startServer(t, "--tls-cert", certFile, "--tls-key", keyFile)
	if !strings.HasPrefix(srv.URL(), "https://") {
		t.Fatalf("server URL %q is not https", srv.URL())
	}
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		ht := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
		t.Cleanup(ht.CloseIdleConnections) // runs after the sockets are closed
		hc := &http.Client{Transport: ht}
		s := dial(t, ctx, srv.URL()+"/admin", tr.with(sio.WithHTTPClient(hc))...)
		inf := settle(t, ctx, s, tr)
		if inf.ID != s.ID() || inf.Nsp != "/admin" {
			t.Errorf("info = %+v", inf)
		}
		echo(t, ctx, s, "over tls")
		reply := call(t, ctx, s, "binary", 70000)
		var b []byte
		if err := reply.Decode(&b); err != nil || len(b) != 70000 || b[69999] != byte(69999%256) {
			t.Errorf("binary over tls: %d bytes, %v", len(b), err)
		}

		// Without the certificate in its roots, the client refuses the
		// server.
		s2, err := sio.Dial(ctx, srv.URL()+"/admin", tr.opts...)
		if s2 != nil {
			s2.Close()
			t.Fatalf("Dial trusted a self-signed certificate")
		}
		if err == nil || !strings.Contains(err.Error(), "certificate") {
			t.Errorf("Dial without the root = %v, want a certificate error", err)
		}
	})
}
