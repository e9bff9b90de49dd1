package interop_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
	"github.com/sio-go/sio/test/nodeserver"
)

// legacyServer starts the socket.io server of a major version ("2" or "3")
// with the given flags.
func legacyServer(t *testing.T, version string, args ...string) *nodeserver.Server {
	t.Helper()
	return nodeserver.Start(t, nodeserver.WithVersion(version), nodeserver.WithArgs(args...))
}

// legacyInfo is what the legacy peers' info event adds.
type legacyInfo struct {
	ID        string         `json:"id"`
	Nsp       string         `json:"nsp"`
	EngineID  string         `json:"engineId"`
	Transport string         `json:"transport"`
	Protocol  int            `json:"protocol"`
	Query     map[string]any `json:"query"`
}

func askLegacyInfo(t *testing.T, s *sio.Socket) legacyInfo {
	t.Helper()
	var inf legacyInfo
	if err := call(t, testutil.Context(t, testTimeout), s, "info").Decode(&inf); err != nil {
		t.Fatal(err)
	}
	return inf
}

// The same client code talks to socket.io 2.x (Engine.IO v3, detected with no
// option) and 3.x (v4) servers: default and custom namespaces, over polling,
// WebSocket and the upgrade, with binary and acks both ways.
func TestLegacyServers(t *testing.T) {
	for _, v := range []struct {
		version string
		eio     int
	}{{"2", 3}, {"3", 4}} {
		t.Run("socket.io "+v.version, func(t *testing.T) {
			t.Parallel()
			srv := legacyServer(t, v.version)
			for _, tc := range transportCases {
				for _, nsp := range []string{"/", "/admin"} {
					t.Run(tc.name+nsp, func(t *testing.T) {
						ctx := testutil.Context(t, testTimeout)
						s, err := sio.Dial(ctx, srv.URL()+nsp, tc.with(sio.WithoutReconnect())...)
						if err != nil {
							t.Fatal(err)
						}
						defer s.Close()
						expectConnect(t, ctx, s)
						if got := s.Manager().EngineIO(); got != v.eio {
							t.Fatalf("EngineIO() = %d, want %d", got, v.eio)
						}
						inf := askLegacyInfo(t, s)
						if inf.ID != s.ID() || inf.Nsp != nsp || inf.Protocol != v.eio {
							t.Fatalf("server sees id %q nsp %q protocol %d; client id %q", inf.ID, inf.Nsp, inf.Protocol, s.ID())
						}
						// Binary and JSON through an ack, and through an echo.
						blob := bytes.Repeat([]byte{0, 1, 254, 255}, 1000)
						var word string
						var got []byte
						if err := call(t, ctx, s, "ack", "w", blob).Decode(&word, &got); err != nil || word != "w" || !bytes.Equal(got, blob) {
							t.Fatalf("ack: %q, %d bytes (%v)", word, len(got), err)
						}
						if err := s.Emit(ctx, "echo", map[string]any{"b": []byte{9}, "n": 1}); err != nil {
							t.Fatal(err)
						}
						var m struct {
							B []byte `json:"b"`
							N int    `json:"n"`
						}
						if err := nextMessage(t, ctx, s, "echo").Args.Decode(&m); err != nil || !bytes.Equal(m.B, []byte{9}) || m.N != 1 {
							t.Fatalf("echo: %+v (%v)", m, err)
						}
						// The server asks, the client answers.
						if err := s.Emit(ctx, "ask", 3); err != nil {
							t.Fatal(err)
						}
						q := nextMessage(t, ctx, s, "question")
						if err := q.Ack(ctx, 6, []byte{1}); err != nil {
							t.Fatal(err)
						}
						var n int
						var b []byte
						if err := nextMessage(t, ctx, s, "answer").Args.Decode(&n, &b); err != nil || n != 6 || !bytes.Equal(b, []byte{1}) {
							t.Fatalf("answer %d %v (%v)", n, b, err)
						}
						eventually(t, ctx, "final transport", func() (bool, string) {
							inf := askLegacyInfo(t, s)
							return inf.Transport == tc.final, inf.Transport
						})
					})
				}
			}
		})
	}
}

// Several namespaces over one Manager on a 2.x server: one Engine.IO
// connection, the implicit main namespace included.
func TestLegacyManager(t *testing.T) {
	t.Parallel()
	srv := legacyServer(t, "2")
	ctx := testutil.Context(t, testTimeout)
	m, err := sio.NewManager(srv.URL(), sio.WithoutReconnect())
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	var engine string
	for _, nsp := range []string{"/admin", "/", "/chat"} {
		s, err := m.Socket(ctx, nsp)
		if err != nil {
			t.Fatalf("%s: %v", nsp, err)
		}
		expectConnect(t, ctx, s)
		inf := askLegacyInfo(t, s)
		if engine == "" {
			engine = inf.EngineID
		}
		if inf.EngineID != engine || inf.ID != s.ID() {
			t.Fatalf("%s: engine %q (want %q), id %q (client %q)", nsp, inf.EngineID, engine, inf.ID, s.ID())
		}
	}
}

// Auth goes to a 2.x server as the namespace query; a refusal is a bare
// string.
func TestLegacyAuth(t *testing.T) {
	t.Parallel()
	srv := legacyServer(t, "2")
	ctx := testutil.Context(t, testTimeout)
	s, err := sio.Dial(ctx, srv.URL()+"/auth", sio.WithAuth(map[string]string{"token": "secret"}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if inf := askLegacyInfo(t, s); inf.Query["token"] != "secret" {
		t.Fatalf("query %v", inf.Query)
	}
	_, err = sio.Dial(ctx, srv.URL()+"/auth", sio.WithAuth(map[string]string{"token": "wrong"}))
	var ce *sio.ConnectError
	if !errors.As(err, &ce) || ce.Message != "not authorized" {
		t.Fatalf("refusal: %v", err)
	}
	if _, err := sio.Dial(ctx, srv.URL(), sio.WithAuth(map[string]string{"token": "x"})); !errors.Is(err, sio.ErrProtocol) {
		t.Fatalf("auth for the main namespace of a 2.x server: %v, want ErrProtocol", err)
	}
}

// The client pings a 2.x server (Engine.IO v3): with a 300 ms interval and
// timeout the connection outlives five intervals while the program does not
// read, which a server drops when nobody pings.
func TestLegacyHeartbeat(t *testing.T) {
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := legacyServer(t, "2", "--ping-interval", "300", "--ping-timeout", "1000")
			ctx := testutil.Context(t, testTimeout)
			s := dial(t, ctx, srv.URL()+"/admin", tc.with(sio.WithoutReconnect())...)
			before := askLegacyInfo(t, s)
			lag := idle(5 * 300 * time.Millisecond)
			if !s.Connected() {
				t.Fatalf("disconnected: %v (timers late by up to %v)", s.Err(), lag)
			}
			if after := askLegacyInfo(t, s); after.EngineID != before.EngineID {
				t.Fatalf("engine %q became %q", before.EngineID, after.EngineID)
			}
		})
	}
}

// A 2.x server that drops the transport: the client reconnects (v3 again)
// and every namespace is joined again.
func TestLegacyReconnect(t *testing.T) {
	t.Parallel()
	srv := legacyServer(t, "2")
	ctx := testutil.Context(t, testTimeout)
	m, err := sio.NewManager(srv.URL(), sio.WithReconnect(sio.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond}))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	root, err := m.Socket(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := m.Socket(ctx, "/admin")
	if err != nil {
		t.Fatal(err)
	}
	first := askLegacyInfo(t, admin).EngineID
	if err := admin.Emit(ctx, "close-transport"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*sio.Socket{root, admin} {
		for {
			ev := testutil.NextEvent(t, ctx, s)
			if ev.Type == sio.EventDisconnect {
				break
			}
		}
		for {
			ev := testutil.NextEvent(t, ctx, s)
			if ev.Type == sio.EventConnect {
				break
			}
		}
		inf := askLegacyInfo(t, s)
		if inf.EngineID == first || inf.ID != s.ID() || inf.Protocol != 3 {
			t.Fatalf("%s after reconnecting: %+v (client id %q)", s.Namespace(), inf, s.ID())
		}
	}
	echoed := call(t, ctx, admin, "ack", "back")
	if fmt.Sprint(echoed) != `["back"]` {
		t.Fatalf("ack after reconnecting: %v", echoed)
	}
}

// A 4.x server that also accepts v3 clients (allowEIO3) keeps getting v4:
// the client asks for EIO=4 first.
func TestAllowEIO3KeepsV4(t *testing.T) {
	t.Parallel()
	srv := nodeserver.Start(t, nodeserver.WithArgs("--allow-eio3"))
	for _, tc := range transportCases {
		ctx := testutil.Context(t, testTimeout)
		s, err := sio.Dial(ctx, srv.URL(), tc.with(sio.WithoutReconnect())...)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Manager().EngineIO(); got != 4 {
			t.Fatalf("%s: EngineIO() = %d, want 4", tc.name, got)
		}
		s.Close()
	}
}
