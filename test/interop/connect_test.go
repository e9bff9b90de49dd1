package interop_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
)

// Dial joins the namespace named by the URL's path; the socket's ID is the
// one the server gave it.
func TestConnectNamespaces(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		for _, tc := range []struct {
			name, path, nsp string
		}{
			{"no path", "", "/"},
			{"slash", "/", "/"},
			{"admin", "/admin", "/admin"},
			{"chat", "/chat", "/chat"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := testutil.Context(t, testTimeout)
				s := dial(t, ctx, srv.URL()+tc.path, tr.opts...)
				if s.Namespace() != tc.nsp {
					t.Errorf("Namespace() = %q, want %q", s.Namespace(), tc.nsp)
				}
				if !s.Connected() {
					t.Errorf("Connected() = false after Dial")
				}
				if s.Err() != nil {
					t.Errorf("Err() = %v on a live socket", s.Err())
				}
				inf := info(t, ctx, s)
				if s.ID() == "" {
					t.Fatalf("ID() is empty")
				}
				if s.ID() != inf.ID {
					t.Errorf("ID() = %q, server says %q", s.ID(), inf.ID)
				}
				if inf.Nsp != tc.nsp {
					t.Errorf("server nsp = %q, want %q", inf.Nsp, tc.nsp)
				}
				if want := []string{tc.nsp}; !reflect.DeepEqual(inf.NamespacesOnConnection, want) {
					t.Errorf("namespaces on the connection = %q, want %q", inf.NamespacesOnConnection, want)
				}
				if q := inf.Query; q["EIO"] != "4" {
					t.Errorf("handshake query = %v, want EIO=4", q)
				}
				switch tr.name {
				case "websocket":
					if inf.Transport != "websocket" || inf.Query["transport"] != "websocket" {
						t.Errorf("transport = %q (handshake %v), want websocket", inf.Transport, inf.Query["transport"])
					}
				case "polling", "upgrade":
					if inf.Query["transport"] != "polling" {
						t.Errorf("handshake transport = %v, want polling", inf.Query["transport"])
					}
				}
				after := settle(t, ctx, s, tr)
				if after.ID != inf.ID || after.EngineID != inf.EngineID {
					t.Errorf("settling changed the socket: %q/%q -> %q/%q", inf.EngineID, inf.ID, after.EngineID, after.ID)
				}
			})
		}
	})
}

// Polling alone never upgrades, even though the server offers it.
func TestPollingStaysPolling(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	s := dial(t, ctx, srv.URL(), sio.WithTransports(sio.Polling))
	time.Sleep(300 * time.Millisecond)
	if inf := info(t, ctx, s); inf.Transport != "polling" {
		t.Errorf("transport = %q, want polling", inf.Transport)
	}
}

// The client falls back to the next transport when the server refuses one,
// and stays on polling when the server offers no upgrade.
func TestTransportNegotiation(t *testing.T) {
	t.Parallel()
	t.Run("server websocket only", func(t *testing.T) {
		srv := startServer(t, "--transports", "websocket")
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL()+"/admin", sio.WithTransports(sio.Polling, sio.WebSocket))
		if inf := info(t, ctx, s); inf.Transport != "websocket" || inf.Nsp != "/admin" {
			t.Errorf("info = transport %q nsp %q, want websocket /admin", inf.Transport, inf.Nsp)
		}
		echo(t, ctx, s, "fallback")
	})
	t.Run("server polling only", func(t *testing.T) {
		srv := startServer(t, "--transports", "polling")
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL(), sio.WithTransports(sio.Polling, sio.WebSocket))
		echo(t, ctx, s, "no upgrade")
		time.Sleep(300 * time.Millisecond)
		if inf := info(t, ctx, s); inf.Transport != "polling" {
			t.Errorf("transport = %q, want polling", inf.Transport)
		}
		// WebSocket alone is refused with "Transport unknown".
		s2, err := sio.Dial(ctx, srv.URL(), sio.WithTransports(sio.WebSocket))
		if s2 != nil {
			s2.Close()
		}
		var he *sio.HandshakeError
		if !errors.As(err, &he) {
			t.Fatalf("websocket-only Dial = %v (%T), want *sio.HandshakeError", err, err)
		}
		if he.Code != 0 || he.StatusCode != http.StatusBadRequest {
			t.Errorf("HandshakeError = %+v, want HTTP 400 code 0", he)
		}
	})
}

// Two Dials are two connections and two distinct sockets.
func TestDialTwiceDistinctSockets(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	a := dial(t, ctx, srv.URL()+"/admin")
	b := dial(t, ctx, srv.URL()+"/admin")
	ia, ib := info(t, ctx, a), info(t, ctx, b)
	if a.ID() == b.ID() || ia.ID == ib.ID {
		t.Errorf("two sockets share id %q / %q", a.ID(), b.ID())
	}
	if ia.EngineID == ib.EngineID {
		t.Errorf("two Dials share the Engine.IO connection %q", ia.EngineID)
	}
	if ib.EngineConnections != 2 {
		t.Errorf("engineConnections = %d, want 2", ib.EngineConnections)
	}
}

func TestAuthAccepted(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		auth := map[string]any{
			"token": "secret",
			"user":  map[string]any{"name": "ada", "roles": []any{"admin", "dev"}},
			"n":     7,
		}
		s := dial(t, ctx, srv.URL()+"/auth", tr.with(sio.WithAuth(auth))...)
		inf := info(t, ctx, s)
		if inf.Nsp != "/auth" {
			t.Errorf("nsp = %q, want /auth", inf.Nsp)
		}
		if inf.ID != s.ID() {
			t.Errorf("ID() = %q, server says %q", s.ID(), inf.ID)
		}
		want := map[string]any{
			"token": "secret",
			"user":  map[string]any{"name": "ada", "roles": []any{"admin", "dev"}},
			"n":     float64(7),
		}
		if !reflect.DeepEqual(inf.Auth, want) {
			t.Errorf("server auth = %#v, want %#v", inf.Auth, want)
		}
	})
}

// A struct works as the auth payload too.
func TestAuthStruct(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	type creds struct {
		Token string `json:"token"`
		Extra string `json:"extra,omitempty"`
	}
	s := dial(t, ctx, srv.URL()+"/auth", sio.WithAuth(creds{Token: "secret", Extra: "x"}))
	inf := info(t, ctx, s)
	if want := (map[string]any{"token": "secret", "extra": "x"}); !reflect.DeepEqual(inf.Auth, want) {
		t.Errorf("server auth = %#v, want %#v", inf.Auth, want)
	}
}

func TestAuthRefused(t *testing.T) {
	t.Parallel()
	forTransports(t, func(t *testing.T, tr transportCase) {
		srv := startServer(t) // one per subtest: the connections are counted
		for _, tc := range []struct {
			name string
			opts []sio.Option
		}{
			{"wrong token", []sio.Option{sio.WithAuth(map[string]string{"token": "nope"})}},
			{"no auth", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ctx := testutil.Context(t, testTimeout)
				s, err := sio.Dial(ctx, srv.URL()+"/auth", tr.with(tc.opts...)...)
				if s != nil {
					t.Cleanup(func() { s.Close() })
					t.Fatalf("Dial returned a socket for a refused namespace (err %v)", err)
				}
				var ce *sio.ConnectError
				if !errors.As(err, &ce) {
					t.Fatalf("Dial error = %v (%T), want *sio.ConnectError", err, err)
				}
				if ce.Message != "not authorized" {
					t.Errorf("Message = %q, want %q", ce.Message, "not authorized")
				}
				var data any
				if err := json.Unmarshal(ce.Data, &data); err != nil {
					t.Fatalf("Data %q is not JSON: %v", ce.Data, err)
				}
				if want := (map[string]any{"code": float64(401)}); !reflect.DeepEqual(data, want) {
					t.Errorf("Data = %s, want {\"code\":401}", ce.Data)
				}
			})
		}
		// The refused Dials left no connection open on the server.
		ctx := testutil.Context(t, testTimeout)
		obs := dial(t, ctx, srv.URL())
		expectEngineConnections(t, ctx, obs, 1)
	})
}

// A namespace the server does not have is refused with "Invalid namespace".
func TestUnknownNamespace(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s, err := sio.Dial(ctx, srv.URL()+"/nope", tr.opts...)
		if s != nil {
			s.Close()
		}
		var ce *sio.ConnectError
		if !errors.As(err, &ce) || ce.Message != "Invalid namespace" {
			t.Fatalf("Dial(/nope) = %v, want ConnectError \"Invalid namespace\"", err)
		}
	})
}

// A refusal on a Manager leaves the Manager usable for other namespaces.
func TestAuthRefusedOnManager(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	m := newManager(t, srv.URL(), sio.WithoutReconnect())
	_, err := m.Socket(ctx, "/auth", sio.WithAuth(map[string]string{"token": "bad"}))
	var ce *sio.ConnectError
	if !errors.As(err, &ce) || ce.Message != "not authorized" {
		t.Fatalf("Socket(/auth) error = %v, want ConnectError not authorized", err)
	}
	s := managerSocket(t, ctx, m, "/auth", sio.WithAuth(map[string]string{"token": "secret"}))
	inf := info(t, ctx, s)
	if inf.Auth["token"] != "secret" || inf.Nsp != "/auth" {
		t.Errorf("info = %+v", inf)
	}
}

// A namespace refused on a Manager must not take the Manager's other sockets
// down: the official client sends nothing after a CONNECT_ERROR, and the
// server closes the whole connection on a DISCONNECT for a namespace the
// client never joined ("invalid state").
func TestAuthRefusedKeepsOtherSockets(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		m := newManager(t, srv.URL(), tr.opts...)
		chat := managerSocket(t, ctx, m, "/chat")
		engineID := settle(t, ctx, chat, tr).EngineID

		_, err := m.Socket(ctx, "/auth")
		var ce *sio.ConnectError
		if !errors.As(err, &ce) || ce.Message != "not authorized" {
			t.Fatalf("Socket(/auth) error = %v, want ConnectError not authorized", err)
		}
		// A round trip on /chat: the server has handled whatever the client
		// sent after the refusal by the time it answers.
		fut, err := chat.EmitWithAck(ctx, "info")
		if err != nil {
			t.Fatalf("/chat after the refusal: EmitWithAck: %v", err)
		}
		args, err := fut.Wait(ctx)
		if err != nil {
			t.Fatalf("/chat lost its connection with the refusal of /auth: %v", err)
		}
		var inf serverInfo
		if err := args.Decode(&inf); err != nil {
			t.Fatal(err)
		}
		if inf.EngineID != engineID {
			t.Errorf("the refusal of /auth cost /chat its connection: engine %q, was %q", inf.EngineID, engineID)
		}
		select {
		case ev := <-chat.Events():
			t.Errorf("/chat got %s after the refusal of /auth", testutil.Describe(ev))
		default:
		}
	})
}

func TestQueryAndHeaders(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	forTransports(t, func(t *testing.T, tr transportCase) {
		ctx := testutil.Context(t, testTimeout)
		s := dial(t, ctx, srv.URL()+"/admin?fromurl=yes", tr.with(
			sio.WithQuery(url.Values{"room": {"blue"}, "n": {"7"}, "spaced": {"a b&c=d"}}),
			sio.WithHeader(http.Header{"X-Test-Token": {"abc123"}, "X-Other": {"v"}}),
		)...)
		inf := info(t, ctx, s)
		for k, want := range map[string]string{
			"room":    "blue",
			"n":       "7",
			"spaced":  "a b&c=d",
			"fromurl": "yes",
			"EIO":     "4",
		} {
			if got := inf.Query[k]; got != want {
				t.Errorf("server query[%q] = %#v, want %q (query %v)", k, got, want, inf.Query)
			}
		}
		for k, want := range map[string]string{"x-test-token": "abc123", "x-other": "v"} {
			if got := inf.Headers[k]; got != want {
				t.Errorf("server header %q = %#v, want %q", k, got, want)
			}
		}
		if inf.Nsp != "/admin" {
			t.Errorf("nsp = %q; the URL's query must not leak into the namespace", inf.Nsp)
		}
		// The session keeps working with them once settled.
		settle(t, ctx, s, tr)
		echo(t, ctx, s, fmt.Sprint("after ", tr.final))
	})
}
