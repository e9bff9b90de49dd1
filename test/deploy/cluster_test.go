package deploy_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sio-go/sio"
)

// clusterSize is the number of nodes behind a balancer.
const clusterSize = 3

// clients is the number of clients of the cluster scenarios.
const clients = 100

// cluster is three socket.io nodes sharing rooms through one Redis.
type cluster struct {
	redis string
	nodes map[string]*node // by name: n1, n2, n3
}

// startCluster starts Redis and the nodes, which use the Redis adapter.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	c := &cluster{redis: startRedis(t), nodes: map[string]*node{}}
	for i := 1; i <= clusterSize; i++ {
		name := fmt.Sprintf("n%d", i)
		c.nodes[name] = startNode(t, name, "--redis", c.redis)
	}
	return c
}

func sortedNames(nodes map[string]*node) []string {
	var names []string
	for name := range nodes {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// nodeStats is a node's GET /deploy/stats: the requests it served for each
// Engine.IO session, and those for a session it did not know.
type nodeStats struct {
	Name     string         `json:"name"`
	Sessions map[string]int `json:"sessions"`
	Unknown  int            `json:"unknown"`
}

// stats asks node n directly (not through the balancer).
func (n *node) stats(t *testing.T, ctx context.Context) nodeStats {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.addr()+"/deploy/stats", nil)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatalf("%s stats: %v", n.name, err)
	}
	defer resp.Body.Close()
	var st nodeStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatalf("%s stats: %v", n.name, err)
	}
	return st
}

// serverInfo is the reply of the node's "info" event.
type serverInfo struct {
	Node      string `json:"node"`
	ID        string `json:"id"`
	EngineID  string `json:"engineId"`
	Transport string `json:"transport"`
}

// call emits event with args and waits for the acknowledgement, decoding
// its first argument into reply (when not nil).
func call(ctx context.Context, s *sio.Socket, reply any, event string, args ...any) error {
	f, err := s.EmitWithAck(ctx, event, args...)
	if err != nil {
		return fmt.Errorf("%s: %w", event, err)
	}
	got, err := f.Wait(ctx)
	if err != nil {
		return fmt.Errorf("%s: ack: %w", event, err)
	}
	if reply != nil {
		if err := got.Decode(reply); err != nil {
			return fmt.Errorf("%s: ack %s: %w", event, got.String(), err)
		}
	}
	return nil
}

// upgraded waits until the server reports the socket on WebSocket, and
// returns what it reports.
func upgraded(ctx context.Context, s *sio.Socket) (serverInfo, error) {
	for {
		var inf serverInfo
		if err := call(ctx, s, &inf, "info"); err != nil {
			return inf, err
		}
		if inf.Transport == "websocket" {
			return inf, nil
		}
		select {
		case <-ctx.Done():
			return inf, fmt.Errorf("still on %s: %w", inf.Transport, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// jarClient is README's client for cookie-based sticky sessions: the
// default transport, and a cookie jar of its own.
func jarClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

// closeDefaultIdle closes http.DefaultTransport's idle connections when the
// test ends, after the sockets using it (Cleanups run last-in first-out).
func closeDefaultIdle(t *testing.T) {
	t.Cleanup(http.DefaultTransport.(*http.Transport).CloseIdleConnections)
}

// parallel runs f(i) for i in [0, n), at most limit at once, and returns the
// first error.
func parallel(n, limit int, f func(i int) error) error {
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(i); err != nil {
				once.Do(func() { first = err })
			}
		}()
	}
	wg.Wait()
	return first
}

// testContext ends after d or with the test.
func testContext(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
