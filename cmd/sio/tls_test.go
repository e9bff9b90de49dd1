package main

import (
	"strings"
	"testing"

	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/test/nodeserver"
)

// TestTLS checks --cacert and --insecure against an https server with a
// self-signed certificate, which is refused without them.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, _ := testutil.SelfSigned(t, dir)
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
