package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sio-go/sio/test/nodeserver"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key to
// dir.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sio command test"},
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
	for f, b := range map[string]*pem.Block{certFile: {Type: "CERTIFICATE", Bytes: der}, keyFile: {Type: "EC PRIVATE KEY", Bytes: keyDER}} {
		if err := os.WriteFile(f, pem.EncodeToMemory(b), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile
}

// TestTLS checks --cacert and --insecure against an https server with a
// self-signed certificate, which is refused without them.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := writeCert(t, dir)
	srv := nodeserver.Start(t, nodeserver.WithArgs("--tls-cert", certFile, "--tls-key", keyFile))
	url := srv.URL() + "/chat"
	if !strings.HasPrefix(url, "https://") {
		t.Fatalf("server URL %q", url)
	}
	want := `{"time":"T","ns":"/chat","type":"ack","args":["tls"]}`

	r := runSio(t, nil, "emit", url, "ack", "tls", "--ack", "--cacert", certFile)
	if r.code != 0 || strings.Contains(r.stderr, "WARNING") {
		t.Fatalf("--cacert: status %d, stderr:\n%s", r.code, r.stderr)
	}
	checkLines(t, lines(t, r.stdout), want)

	r = runSio(t, nil, "emit", url, "ack", "tls", "--ack", "--insecure")
	if r.code != 0 || !strings.Contains(r.stderr, "WARNING: --insecure") {
		t.Fatalf("--insecure: status %d, stderr:\n%s", r.code, r.stderr)
	}
	checkLines(t, lines(t, r.stdout), want)

	r = runSio(t, nil, "emit", url, "ack", "tls", "--ack", "--timeout", "5s", "--transports", "websocket")
	if r.code != 1 || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("without the certificate: status %d, stderr %q; want 1 and a certificate error", r.code, r.stderr)
	}

	// A file that holds no certificate is bad usage.
	r = runSio(t, nil, "emit", url, "ack", "--cacert", keyFile)
	if r.code != 2 || !strings.Contains(r.stderr, "--cacert: no PEM certificate") {
		t.Errorf("--cacert with a key: status %d, stderr %q", r.code, r.stderr)
	}
}
