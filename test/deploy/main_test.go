// Package deploy_test runs the client against real deployments, built by the
// tests from real parts on loopback: a cluster of three socket.io 4.8 nodes
// (test/deploy/node/server.js) sharing rooms through Redis with
// @socket.io/redis-adapter, behind HAProxy (cookie stickiness) or nginx
// (ip_hash); tinyproxy (HTTP CONNECT) and dante (SOCKS5) between the client
// and a node; TLS with a private CA, and mutual TLS.
//
// Every process is started by the tests with a configuration written to the
// test's temporary directory, on free loopback ports, and stopped by its pid
// when the test ends. The Debian packages haproxy, nginx-light, redis-server,
// tinyproxy and dante-server (test/setup.sh) and the Node packages (npm ci
// --prefix test/deploy/node) must be installed: a missing one fails the
// tests, it never skips them.
package deploy_test

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
