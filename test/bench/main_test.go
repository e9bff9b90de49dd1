// Package bench measures sio end to end against the official Node.js server,
// side by side with a baseline in the same run.
//
// Run with:
//
//	npm ci --prefix test/node
//	go test -run='^$' -bench=. -benchtime=20000x ./test/bench/
//
// Each benchmark reports events/s (streams) or the median round trip (acks)
// as custom metrics; compare a sio row with the raw row next to it.
package bench

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
