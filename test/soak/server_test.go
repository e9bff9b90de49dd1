package soak

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/sio-go/sio/test/testserver"
)

// The test server runs in a child process, so that the client's goroutines
// and heap are measured alone: the test server keeps, by design, every
// session it opened (Server.Sessions) and every packet it received
// (Server.Received), which grow with every reconnection and every emit.
//
// The child is this test binary started again with serverEnv set. It prints
// "url <URL>" on stdout, then answers commands read from stdin, one a line,
// with one line on stdout:
//
//	cut N   cut the transport of N random live sessions -> "ok <cut>"
//	stats   -> a JSON serverStats
//
// It closes the server and exits when stdin ends.
const serverEnv = "SIO_SOAK_SERVER"

// serverStats is what the child's "stats" command reports, about every
// packet received since the server started.
type serverStats struct {
	Sessions int `json:"sessions"` // Engine.IO sessions opened
	Live     int `json:"live"`     // sessions whose handler runs
	Cuts     int `json:"cuts"`     // transports cut by "cut"
	Packets  int `json:"packets"`  // packets received (Server.Received)
	// AckEmits and PlainEmits count the numbered "ack" events and the
	// numbered "echo" and "noop" events received; AckDups and PlainDups the
	// receptions of a number already received.
	AckEmits   int      `json:"ackEmits"`
	AckDups    int      `json:"ackDups"`
	PlainEmits int      `json:"plainEmits"`
	PlainDups  int      `json:"plainDups"`
	DupSample  []string `json:"dupSample,omitempty"`
	// Errors are the default behaviour's errors (protocol errors, ping
	// timeouts, ...), a sample of them in ErrSample.
	Errors         int      `json:"errors"`
	ProtocolErrors int      `json:"protocolErrors"` // testserver.ErrProtocol: the client broke the protocol
	ErrSample      []string `json:"errSample,omitempty"`
}

// registry holds the live sessions, for "cut".
type registry struct {
	mu   sync.Mutex
	live []*testserver.Conn
	idx  map[*testserver.Conn]int
	cuts int
}

func (r *registry) add(c *testserver.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.idx[c] = len(r.live)
	r.live = append(r.live, c)
}

func (r *registry) remove(c *testserver.Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, ok := r.idx[c]
	if !ok {
		return
	}
	last := len(r.live) - 1
	r.live[i] = r.live[last]
	r.idx[r.live[i]] = i
	r.live = r.live[:last]
	delete(r.idx, c)
}

// pick removes up to n random live sessions from the registry and returns
// them: a session is cut once.
func (r *registry) pick(n int) []*testserver.Conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*testserver.Conn
	for range n {
		if len(r.live) == 0 {
			break
		}
		c := r.live[rand.IntN(len(r.live))]
		out = append(out, c)
		last := len(r.live) - 1
		i := r.idx[c]
		r.live[i] = r.live[last]
		r.idx[r.live[i]] = i
		r.live = r.live[:last]
		delete(r.idx, c)
	}
	r.cuts += len(out)
	return out
}

func (r *registry) counts() (live, cuts int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.live), r.cuts
}

// serverMain runs the child process; it returns the exit code.
func serverMain() int {
	reg := &registry{idx: make(map[*testserver.Conn]int)}
	srv, err := testserver.Start(testserver.WithHandler(func(ctx context.Context, c *testserver.Conn) error {
		reg.add(c)
		defer reg.remove(c)
		return c.Serve(ctx) // the default behaviour
	}))
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak server:", err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(out, "url", srv.URL())
	out.Flush()

	var (
		closers sync.WaitGroup
		tally   = newTally()
		cuts    int // every other cut is a clean close
	)
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		switch cmd {
		case "cut":
			n, _ := strconv.Atoi(arg)
			conns := reg.pick(n)
			for _, c := range conns {
				cuts++
				if cuts%2 == 1 {
					_ = c.Cut() // no close: the TCP connection (or pending GET) is dropped
				} else {
					// A clean close ("1" over polling, a close frame over
					// WebSocket); Close waits for the client's answer.
					closers.Go(func() { _ = c.Close(1000, "soak") })
				}
			}
			fmt.Fprintln(out, "ok", len(conns))
		case "stats":
			st := tally.update(srv.Received())
			st.Sessions = srv.Connections()
			st.Live, st.Cuts = reg.counts()
			if j, ok := srv.Err().(interface{ Unwrap() []error }); ok {
				for _, err := range j.Unwrap() {
					st.Errors++
					if errors.Is(err, testserver.ErrProtocol) {
						st.ProtocolErrors++
					}
					if len(st.ErrSample) < 5 {
						st.ErrSample = append(st.ErrSample, err.Error())
					}
				}
			}
			b, _ := json.Marshal(st)
			fmt.Fprintln(out, string(b))
		default:
			fmt.Fprintln(out, "error unknown command", cmd)
		}
		out.Flush()
	}
	closers.Wait()
	if err := srv.Close(); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		fmt.Fprintln(os.Stderr, "soak server: close:", err)
	}
	return 0
}

// tally counts the numbered emits among the packets the server received,
// and the numbers received more than once. Every emit of the soak carries a
// number of its own (see control.emits), so a number seen twice is an emit the
// client sent twice.
type tally struct {
	done  int      // packets of Received already counted
	seen  []uint64 // bitset of the numbers received
	stats serverStats
}

func newTally() *tally { return &tally{} }

func (t *tally) update(received []string) serverStats {
	for _, p := range received[t.done:] {
		name, n, ok := parseEmit(p)
		if !ok {
			continue
		}
		ack := name == "ack"
		if ack {
			t.stats.AckEmits++
		} else {
			t.stats.PlainEmits++
		}
		w, bit := n/64, uint64(1)<<(n%64)
		for int64(len(t.seen)) <= w {
			t.seen = append(t.seen, 0)
		}
		if t.seen[w]&bit == 0 {
			t.seen[w] |= bit
			continue
		}
		if ack {
			t.stats.AckDups++
		} else {
			t.stats.PlainDups++
		}
		if len(t.stats.DupSample) < 10 {
			t.stats.DupSample = append(t.stats.DupSample, p)
		}
	}
	t.done = len(received)
	st := t.stats
	st.Packets = len(received)
	st.DupSample = append([]string(nil), st.DupSample...)
	return st
}

// parseEmit reads a numbered soak event as the server received it: an
// Engine.IO message "4" holding a Socket.IO EVENT "2" or BINARY_EVENT "5"
// (with its attachment count), in any namespace, with or without an ack id,
// whose arguments start with the event's name and a non-negative number:
//
//	42["echo",17]  4212["ack",18]  451-13["ack",19,{"_placeholder":true,"num":0}]
func parseEmit(p string) (name string, n int64, ok bool) {
	if len(p) < 2 || p[0] != '4' || (p[1] != '2' && p[1] != '5') {
		return "", 0, false
	}
	i := 2
	if p[1] == '5' {
		i = skipDigits(p, i)
		if i >= len(p) || p[i] != '-' {
			return "", 0, false
		}
		i++
	}
	if i < len(p) && p[i] == '/' {
		j := strings.IndexByte(p[i:], ',')
		if j < 0 {
			return "", 0, false
		}
		i += j + 1
	}
	i = skipDigits(p, i)
	rest, found := strings.CutPrefix(p[i:], `["`)
	if !found {
		return "", 0, false
	}
	name, rest, found = strings.Cut(rest, `",`)
	if !found {
		return "", 0, false
	}
	j := skipDigits(rest, 0)
	if j == 0 || j > 18 {
		return "", 0, false
	}
	n, err := strconv.ParseInt(rest[:j], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return name, n, true
}

func skipDigits(s string, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
