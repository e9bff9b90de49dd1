package interop_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
)

// selfSigned writes a certificate for 127.0.0.1 and its key to dir and
// returns their paths and a pool trusting the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sio interop"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// https and wss with WithHTTPClient's TLS settings, on every transport.
func TestTLS(t *testing.T) {
	t.Parallel()
	certFile, keyFile, pool := selfSigned(t, t.TempDir())
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
