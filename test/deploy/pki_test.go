package deploy_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"testing"
	"time"
)

// pki is a private CA made by the test, a server certificate for 127.0.0.1
// and a client certificate, both signed by it.
type pki struct {
	roots      *x509.CertPool  // trusts the CA
	caFile     string          // the CA certificate (PEM), for a server checking clients
	certFile   string          // the server's certificate (PEM)
	keyFile    string          // and its key
	clientCert tls.Certificate // the client's certificate and key
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	caKey := newKey(t)
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sio deploy test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER := sign(t, caTmpl, caTmpl, caKey, caKey)
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p := &pki{roots: x509.NewCertPool()}
	p.roots.AddCert(ca)
	p.caFile = writeFile(t, dir, "ca.pem", pemBlock("CERTIFICATE", caDER))

	leaf := func(serial int64, cn string, usage x509.ExtKeyUsage) (*x509.Certificate, *ecdsa.PrivateKey) {
		return &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		}, newKey(t)
	}
	srv, srvKey := leaf(2, "127.0.0.1", x509.ExtKeyUsageServerAuth)
	srv.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	srv.DNSNames = []string{loopbackName} // see TestEnvProxy
	p.certFile = writeFile(t, dir, "server.pem", pemBlock("CERTIFICATE", sign(t, srv, ca, srvKey, caKey)))
	p.keyFile = writeFile(t, dir, "server-key.pem", pemBlock("EC PRIVATE KEY", marshalKey(t, srvKey)))

	cli, cliKey := leaf(3, "sio deploy test client", x509.ExtKeyUsageClientAuth)
	p.clientCert = tls.Certificate{Certificate: [][]byte{sign(t, cli, ca, cliKey, caKey)}, PrivateKey: cliKey}
	return p
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sign(t *testing.T, tmpl, parent *x509.Certificate, key *ecdsa.PrivateKey, by crypto.Signer) []byte {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, key.Public(), by)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func marshalKey(t *testing.T, k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func pemBlock(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}
