// Package soak is a long-running reliability check of sio, not run in CI:
// BenchmarkSoak runs many clients against the Go test server for minutes,
// with random emits and acknowledgements and forced disconnects, and checks
// that no acknowledgement is lost, duplicated or wrong and that goroutines
// and heap stay flat. See README.md.
//
//	go test -run='^$' -bench=Soak -benchtime=1x -timeout=0 ./test/soak/
package soak

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// The benchmark runs the test server in a child process, this test
	// binary started again with serverEnv set (see serverMain).
	if os.Getenv(serverEnv) != "" {
		os.Exit(serverMain())
	}
	goleak.VerifyTestMain(m)
}
