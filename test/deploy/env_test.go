package deploy_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const (
	// loopbackName and noProxyName are 127.0.0.1 in the numbers-and-dots
	// forms C programs accept (inet_aton): tinyproxy and dante resolve
	// them to loopback, and so does Go with the cgo resolver, while
	// net/http takes them for host names. It never proxies "localhost"
	// or a loopback IP, whatever the environment says: with these
	// names the environment decides, as it would for a real host.
	loopbackName = "127.1"
	noProxyName  = "127.0.1"
	// childEnv, set, makes TestEnvProxyChild the helper process of
	// TestEnvProxy: it holds the URLs to connect to, space-separated.
	childEnv = "SIO_DEPLOY_ENV_CHILD"
)

// With the default client, the proxy comes from HTTPS_PROXY / HTTP_PROXY /
// NO_PROXY as net/http's ProxyFromEnvironment reads them (once per
// process, hence a child process): https:// and wss:// through
// HTTPS_PROXY (tinyproxy, CONNECT), http:// and ws:// through HTTP_PROXY
// (dante, SOCKS5), NO_PROXY's hosts and loopback direct. Every transport.
func TestEnvProxy(t *testing.T) {
	t.Parallel()
	p := newPKI(t)
	secure := startNode(t, "secure", "--tls-cert", p.certFile, "--tls-key", p.keyFile)
	viaSOCKS := startNode(t, "via-socks")
	direct := startNode(t, "direct")
	tp := startTinyproxy(t, "127.0.0.1")
	da := startDante(t, "pass")

	urls := []string{
		fmt.Sprintf("https://%s:%d", loopbackName, secure.port),  // HTTPS_PROXY
		fmt.Sprintf("http://%s:%d", loopbackName, viaSOCKS.port), // HTTP_PROXY
		fmt.Sprintf("http://%s:%d", noProxyName, direct.port),    // NO_PROXY
		fmt.Sprintf("http://127.0.0.1:%d", direct.port),          // loopback: never proxied
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestEnvProxyChild$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(),
		childEnv+"="+strings.Join(urls, " "),
		"HTTPS_PROXY="+tp.url,
		"HTTP_PROXY="+da.url,
		"NO_PROXY="+noProxyName,
		"SSL_CERT_FILE="+p.caFile, // the default client trusts the test's CA
		"GODEBUG=netdns=cgo",      // resolve noProxyName as C programs do
	)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestEnvProxyChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	t.Logf("child:\n%s", out)
	tp.expectLogged(t, fmt.Sprintf("CONNECT %s:%d", loopbackName, secure.port))
	da.expectLogged(t, fmt.Sprintf(" 127.0.0.1.%d\n", viaSOCKS.port))
	for _, px := range []*proxy{tp, da} {
		if log := px.logged(t); strings.Contains(log, fmt.Sprintf(".%d\n", direct.port)) ||
			strings.Contains(log, fmt.Sprintf(":%d", direct.port)) {
			t.Errorf("%s carried a connection to the NO_PROXY / loopback node:\n%s", px.name, log)
		}
	}
}

// TestEnvProxyChild is TestEnvProxy's child process: it connects to each
// URL with the default client, on every transport. Run alone, it has
// nothing to do.
func TestEnvProxyChild(t *testing.T) {
	urls := os.Getenv(childEnv)
	if urls == "" {
		return
	}
	closeDefaultIdle(t)
	for _, u := range strings.Fields(urls) {
		for _, tc := range transportCases {
			ctx := testContext(t, 20*time.Second)
			inf, err := tc.connectAndSettle(ctx, u)
			if err != nil {
				t.Errorf("%s %s: %v", u, tc.name, err)
				continue
			}
			t.Logf("%s %s: node %s, %s", u, tc.name, inf.Node, inf.Transport)
		}
	}
}
