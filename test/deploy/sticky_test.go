package deploy_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sio-go/sio"
)

// Through HAProxy with cookie stickiness: 100 clients with the default
// transports and a cookie jar connect, upgrade and stay on one node; a
// broadcast to a room from a client on any node reaches the room's clients
// on every node (Redis adapter); without a jar the client ends with an
// error naming the likely cause.
func TestHAProxySticky(t *testing.T) {
	c := startCluster(t)
	url := startHAProxy(t, c.nodes)
	closeDefaultIdle(t)
	ctx := testContext(t, 90*time.Second)

	socks := make([]*sio.Socket, clients)
	infos := make([]serverInfo, clients)
	err := parallel(clients, 20, func(i int) error {
		s, err := sio.Dial(ctx, url, sio.WithHTTPClient(jarClient(t)))
		if err != nil {
			return fmt.Errorf("client %d: Dial: %w", i, err)
		}
		socks[i] = s
		if ev := <-s.Events(); ev.Type != sio.EventConnect {
			return fmt.Errorf("client %d: first event %v (%v)", i, ev.Type, ev.Err)
		}
		infos[i], err = upgraded(ctx, s)
		if err != nil {
			return fmt.Errorf("client %d: %w", i, err)
		}
		return nil
	})
	t.Cleanup(func() {
		for _, s := range socks {
			if s != nil {
				s.Close()
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}

	// Every request of a session reached the node of its handshake: the
	// session is known to that node only, and no node saw a request for a
	// session it did not know.
	perNode := map[string]int{}
	stats := map[string]nodeStats{}
	for name, n := range c.nodes {
		stats[name] = n.stats(t, ctx)
		if u := stats[name].Unknown; u != 0 {
			t.Errorf("%s got %d requests for sessions it does not know", name, u)
		}
	}
	for i, inf := range infos {
		perNode[inf.Node]++
		for name, st := range stats {
			n, ok := st.Sessions[inf.EngineID]
			switch {
			case name == inf.Node && n < 2:
				t.Errorf("client %d: its node %s served %d requests of its session, want the handshake and more", i, name, n)
			case name != inf.Node && ok:
				t.Errorf("client %d on %s: %s served %d requests of its session", i, inf.Node, name, n)
			}
		}
	}
	if len(perNode) != clusterSize {
		t.Errorf("clients per node: %v, want all %d nodes used", perNode, clusterSize)
	}
	t.Logf("%d clients connected and upgraded; per node %v", clients, perNode)

	// Rooms span the nodes: a broadcast from a client on each node
	// reaches every other client, wherever it is.
	err = parallel(clients, 20, func(i int) error { return call(ctx, socks[i], nil, "join", "all") })
	if err != nil {
		t.Fatal(err)
	}
	for _, from := range sortedNames(c.nodes) {
		sender := -1
		for i, inf := range infos {
			if inf.Node == from {
				sender = i
				break
			}
		}
		payload := "hello from " + from
		if err := call(ctx, socks[sender], nil, "broadcast", "all", payload); err != nil {
			t.Fatal(err)
		}
		err := parallel(clients, clients, func(i int) error {
			if i == sender {
				return nil
			}
			ev, err := nextMessage(ctx, socks[i])
			if err != nil {
				return fmt.Errorf("client %d on %s: %w", i, infos[i].Node, err)
			}
			var got, node string
			if ev.Name != "news" || ev.Args.Decode(&got, &node) != nil || got != payload || node != from {
				return fmt.Errorf("client %d on %s: got %q %s, want news %q from %s", i, infos[i].Node, ev.Name, ev.Args.String(), payload, from)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}

	t.Run("NoJar", func(t *testing.T) { testNoJar(t, url) })
}

// nextMessage returns the next event of s, which must be a message.
func nextMessage(ctx context.Context, s *sio.Socket) (sio.Event, error) {
	select {
	case ev, ok := <-s.Events():
		if !ok {
			return ev, fmt.Errorf("events closed: %w", s.Err())
		}
		if ev.Type != sio.EventMessage {
			return ev, fmt.Errorf("got %v (%v), want a message", ev.Type, ev.Err)
		}
		return ev, nil
	case <-ctx.Done():
		return sio.Event{}, ctx.Err()
	}
}

// Without a cookie jar, the cookie HAProxy sets is never sent back: polls
// reach other nodes, which answer "Session ID unknown", and the client says
// why that likely happened. WebSocket alone needs no jar.
func testNoJar(t *testing.T, url string) {
	ctx := testContext(t, 30*time.Second)
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	for _, transports := range [][]sio.Transport{{sio.Polling, sio.WebSocket}, {sio.Polling}} {
		s, err := sio.Dial(ctx, url, sio.WithHTTPClient(&http.Client{Transport: tr}),
			sio.WithTransports(transports...), sio.WithoutReconnect())
		if err == nil {
			// The handshake and the CONNECT may land on one node by
			// chance; the session ends at the first poll elsewhere.
			for range s.Events() {
			}
			err = s.Err()
		}
		var he *sio.HandshakeError
		if !errors.Is(err, sio.ErrSessionUnknown) || !errors.As(err, &he) || he.StatusCode != 400 {
			t.Fatalf("%v without a jar: %v, want ErrSessionUnknown wrapping an HTTP 400", transports, err)
		}
		if !strings.Contains(err.Error(), "sticky") || !strings.Contains(err.Error(), "cookie jar") {
			t.Errorf("error %q does not name the likely cause", err)
		}
		t.Logf("%v without a jar: %v", transports, err)
	}
	// WebSocket alone is one connection: it needs no stickiness.
	_, err := transportCases[0].connectAndSettle(ctx, url, sio.WithHTTPClient(&http.Client{Transport: tr}))
	if err != nil {
		t.Errorf("WebSocket alone without a jar: %v", err)
	}
}
