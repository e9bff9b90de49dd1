// Command testserver runs the Go test server (package testserver) in a
// process of its own, for benchmarks that must not share a process, its
// memory or its open-file limit with the clients they measure.
//
//	go run ./test/testserver/cmd/testserver [-ping-interval 25s] [-ping-timeout 20s]
//
// It prints the server's URL as the first line of its standard output and
// serves, with the default behaviour, until its standard input reaches end of
// file or it gets SIGINT or SIGTERM. It then closes the server and prints one
// JSON line summing up what the server saw (see summary) before it exits.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/sio-go/sio/test/testserver"
)

// summary is the line printed on exit.
type summary struct {
	Sessions int `json:"sessions"` // Engine.IO sessions opened
	Upgraded int `json:"upgraded"` // of which upgraded from polling to WebSocket
	Pongs    int `json:"pongs"`    // heartbeat answers "3" received
	Errors   int `json:"errors"`   // sessions that ended on an error (such as a ping timeout)
	// FirstError is the first of those errors, "" when there was none.
	FirstError string `json:"firstError,omitempty"`
}

func main() {
	interval := flag.Duration("ping-interval", 0, "interval between the server's pings (0: the test server's default, 25s)")
	timeout := flag.Duration("ping-timeout", 0, "how long the server waits for a pong (0: the default, 20s)")
	flag.Parse()
	if err := run(*interval, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "testserver:", err)
		os.Exit(1)
	}
}

func run(interval, timeout time.Duration) error {
	var opts []testserver.Option
	if interval > 0 {
		opts = append(opts, testserver.WithPingInterval(interval))
	}
	if timeout > 0 {
		opts = append(opts, testserver.WithPingTimeout(timeout))
	}
	srv, err := testserver.Start(opts...)
	if err != nil {
		return err
	}
	fmt.Println(srv.URL())

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	eof := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(eof)
	}()
	select {
	case <-stop:
	case <-eof:
	}
	signal.Stop(stop)
	if err := srv.Close(); err != nil {
		return err
	}

	var sum summary
	for _, s := range srv.Sessions() {
		sum.Sessions++
		if s.Upgraded {
			sum.Upgraded++
		}
	}
	for _, p := range srv.Received() {
		if p == "3" {
			sum.Pongs++
		}
	}
	if err := srv.Err(); err != nil {
		var joined interface{ Unwrap() []error }
		if errors.As(err, &joined) {
			errs := joined.Unwrap()
			sum.Errors, sum.FirstError = len(errs), errs[0].Error()
		} else {
			sum.Errors, sum.FirstError = 1, err.Error()
		}
	}
	return json.NewEncoder(os.Stdout).Encode(sum)
}
