package interop_test

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"testing"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/internal/testutil"
)

func newManager(t *testing.T, rawURL string, opts ...sio.Option) *sio.Manager {
	t.Helper()
	m, err := sio.NewManager(rawURL, append(baseOptions(), opts...)...)
	if err != nil {
		t.Fatalf("NewManager: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func managerSocket(t *testing.T, ctx context.Context, m *sio.Manager, nsp string, opts ...sio.SocketOption) *sio.Socket {
	t.Helper()
	s, err := m.Socket(ctx, nsp, opts...)
	if err != nil {
		t.Fatalf("Socket(%q): %v", nsp, err)
	}
	t.Cleanup(func() { s.Close() })
	expectConnect(t, ctx, s)
	return s
}

// echo checks that s still exchanges events.
func echo(t *testing.T, ctx context.Context, s *sio.Socket, v string) {
	t.Helper()
	if err := s.Emit(ctx, "echo", v); err != nil {
		t.Fatalf("Emit echo on %s: %v", s.Namespace(), err)
	}
	ev := nextMessage(t, ctx, s, "echo")
	var got string
	if err := ev.Args.Decode(&got); err != nil || got != v {
		t.Fatalf("echo on %s = %q, %v; want %q", s.Namespace(), got, err, v)
	}
}

func TestManagerSharesConnection(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	m := newManager(t, srv.URL(), sio.WithQuery(url.Values{"who": {"mgr"}}))
	admin := managerSocket(t, ctx, m, "/admin")
	chat := managerSocket(t, ctx, m, "chat") // the leading slash is optional
	auth := managerSocket(t, ctx, m, "/auth", sio.WithAuth(map[string]string{"token": "secret"}))

	if chat.Namespace() != "/chat" {
		t.Errorf("Namespace() = %q, want /chat", chat.Namespace())
	}
	ia, ic, iu := info(t, ctx, admin), info(t, ctx, chat), info(t, ctx, auth)
	if ia.EngineID == "" || ia.EngineID != ic.EngineID || ia.EngineID != iu.EngineID {
		t.Errorf("engine ids differ: %q %q %q", ia.EngineID, ic.EngineID, iu.EngineID)
	}
	for _, inf := range []serverInfo{ia, ic, iu} {
		if inf.EngineConnections != 1 {
			t.Errorf("%s: engineConnections = %d, want 1", inf.Nsp, inf.EngineConnections)
		}
		if inf.Query["who"] != "mgr" {
			t.Errorf("%s: query = %v", inf.Nsp, inf.Query)
		}
	}
	if ia.ID != admin.ID() || ic.ID != chat.ID() || iu.ID != auth.ID() {
		t.Errorf("ids: server %q %q %q, client %q %q %q", ia.ID, ic.ID, iu.ID, admin.ID(), chat.ID(), auth.ID())
	}
	if ia.Nsp != "/admin" || ic.Nsp != "/chat" || iu.Nsp != "/auth" {
		t.Errorf("nsps = %q %q %q", ia.Nsp, ic.Nsp, iu.Nsp)
	}
	if iu.Auth["token"] != "secret" || ia.Auth["token"] != nil {
		t.Errorf("auth: /auth %v, /admin %v (auth is per socket)", iu.Auth, ia.Auth)
	}
	got := slices.Sorted(slices.Values(ic.NamespacesOnConnection))
	if want := []string{"/admin", "/auth", "/chat"}; !reflect.DeepEqual(got, want) {
		t.Errorf("namespaces on the connection = %q, want %q", got, want)
	}

	// Events go to the socket of their namespace only.
	if err := admin.Emit(ctx, "echo", "to-admin"); err != nil {
		t.Fatal(err)
	}
	echo(t, ctx, chat, "to-chat")
	ev := nextMessage(t, ctx, admin, "echo")
	var s string
	if err := ev.Args.Decode(&s); err != nil || s != "to-admin" {
		t.Errorf("admin echo = %q, %v", s, err)
	}

	// A second socket for a namespace in use is refused.
	if s2, err := m.Socket(ctx, "/chat"); !errors.Is(err, sio.ErrNamespaceInUse) {
		if s2 != nil {
			s2.Close()
		}
		t.Errorf("second Socket(/chat) = %v, want ErrNamespaceInUse", err)
	}
	echo(t, ctx, chat, "still-fine")
}

func TestManagerCloseOneSocket(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	m := newManager(t, srv.URL())
	admin := managerSocket(t, ctx, m, "/admin")
	chat := managerSocket(t, ctx, m, "/chat")
	engineID := info(t, ctx, chat).EngineID
	fut := pending(t, ctx, admin)

	if err := admin.Close(); err != nil {
		t.Fatal(err)
	}
	expectFutureErr(t, ctx, fut, sio.ErrClientDisconnect)
	drainClosed(t, ctx, admin)
	expectDone(t, ctx, admin)
	if !errors.Is(admin.Err(), sio.ErrClientDisconnect) {
		t.Errorf("admin Err() = %v", admin.Err())
	}

	// The other socket and the connection are untouched.
	echo(t, ctx, chat, "after-close")
	if !chat.Connected() || chat.Err() != nil {
		t.Fatalf("chat: connected=%v err=%v", chat.Connected(), chat.Err())
	}
	eventually(t, ctx, "server-side /admin socket gone", func() (bool, string) {
		inf := info(t, ctx, chat)
		if inf.EngineID != engineID || inf.EngineConnections != 1 {
			t.Fatalf("connection changed: engine %q (was %q), %d connections", inf.EngineID, engineID, inf.EngineConnections)
		}
		return reflect.DeepEqual(inf.NamespacesOnConnection, []string{"/chat"}),
			fmt.Sprintf("namespaces %q", inf.NamespacesOnConnection)
	})

	// The namespace can be joined again on the same connection.
	admin2 := managerSocket(t, ctx, m, "/admin")
	i2 := info(t, ctx, admin2)
	if i2.EngineID != engineID {
		t.Errorf("rejoined /admin on engine %q, want %q", i2.EngineID, engineID)
	}
	if i2.ID == admin.ID() {
		t.Errorf("rejoined socket has the old id %q", i2.ID)
	}
	echo(t, ctx, admin2, "rejoined")
}

// A kick on one namespace leaves the Manager's other sockets connected.
func TestManagerKickOneSocket(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	m := newManager(t, srv.URL())
	admin := managerSocket(t, ctx, m, "/admin")
	chat := managerSocket(t, ctx, m, "/chat")
	engineID := info(t, ctx, chat).EngineID
	if err := admin.Emit(ctx, "kick"); err != nil {
		t.Fatal(err)
	}
	expectDisconnect(t, ctx, admin, sio.ErrServerDisconnect)
	echo(t, ctx, chat, "survivor")
	if inf := info(t, ctx, chat); inf.EngineID != engineID || inf.EngineConnections != 1 {
		t.Errorf("after kicking /admin: engine %q (was %q), %d connections", inf.EngineID, engineID, inf.EngineConnections)
	}
}

func TestManagerClose(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	obs := dial(t, ctx, srv.URL())
	m := newManager(t, srv.URL())
	admin := managerSocket(t, ctx, m, "/admin")
	chat := managerSocket(t, ctx, m, "/chat")
	expectEngineConnections(t, ctx, obs, 2)
	fa, fc := pending(t, ctx, admin), pending(t, ctx, chat)

	if err := m.Close(); err != nil {
		t.Fatalf("Manager.Close = %v", err)
	}
	for _, s := range []*sio.Socket{admin, chat} {
		drainClosed(t, ctx, s)
		expectDone(t, ctx, s)
		if !errors.Is(s.Err(), sio.ErrClientDisconnect) {
			t.Errorf("%s: Err() = %v, want ErrClientDisconnect", s.Namespace(), s.Err())
		}
		if err := s.Emit(ctx, "echo"); !errors.Is(err, sio.ErrClosed) {
			t.Errorf("%s: Emit after Manager.Close = %v, want ErrClosed", s.Namespace(), err)
		}
	}
	expectFutureErr(t, ctx, fa, sio.ErrClientDisconnect)
	expectFutureErr(t, ctx, fc, sio.ErrClientDisconnect)
	if err := m.Close(); err != nil {
		t.Errorf("second Manager.Close = %v", err)
	}
	if s, err := m.Socket(ctx, "/admin"); !errors.Is(err, sio.ErrClosed) {
		if s != nil {
			s.Close()
		}
		t.Errorf("Socket after Manager.Close = %v, want ErrClosed", err)
	}
	expectEngineConnections(t, ctx, obs, 1)
}

// Sockets requested at once on a fresh Manager share one connection.
func TestManagerConcurrentSockets(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	m := newManager(t, srv.URL())
	nsps := []string{"/", "/admin", "/chat"}
	socks := make([]*sio.Socket, len(nsps))
	errs := make([]error, len(nsps))
	done := make(chan int)
	for i, nsp := range nsps {
		go func() {
			socks[i], errs[i] = m.Socket(ctx, nsp)
			done <- i
		}()
	}
	for range nsps {
		<-done
	}
	for i, s := range socks {
		if errs[i] != nil {
			t.Fatalf("Socket(%q): %v", nsps[i], errs[i])
		}
		t.Cleanup(func() { s.Close() })
		expectConnect(t, ctx, s)
	}
	engineID := ""
	for i, s := range socks {
		inf := info(t, ctx, s)
		if inf.Nsp != nsps[i] || inf.ID != s.ID() {
			t.Errorf("info = %+v for %s", inf, nsps[i])
		}
		if engineID == "" {
			engineID = inf.EngineID
		} else if inf.EngineID != engineID {
			t.Errorf("%s on engine %q, want %q", nsps[i], inf.EngineID, engineID)
		}
		if inf.EngineConnections != 1 {
			t.Errorf("engineConnections = %d, want 1", inf.EngineConnections)
		}
	}

	// The same namespace asked for twice at once: one socket, one refusal.
	var wins, inUse int
	res := make(chan error, 2)
	for range 2 {
		go func() {
			s, err := m.Socket(ctx, "/auth", sio.WithAuth(map[string]string{"token": "secret"}))
			if err == nil {
				t.Cleanup(func() { s.Close() })
			}
			res <- err
		}()
	}
	for range 2 {
		switch err := <-res; {
		case err == nil:
			wins++
		case errors.Is(err, sio.ErrNamespaceInUse):
			inUse++
		default:
			t.Errorf("Socket(/auth) = %v", err)
		}
	}
	if wins != 1 || inUse != 1 {
		t.Errorf("two concurrent Socket(/auth): %d succeeded, %d ErrNamespaceInUse; want 1 and 1", wins, inUse)
	}
}

// kick-all disconnects every namespace of the connection and closes it; the
// Manager opens a new connection for the next socket.
func TestManagerKickAll(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	m := newManager(t, srv.URL())
	admin := managerSocket(t, ctx, m, "/admin")
	chat := managerSocket(t, ctx, m, "/chat")
	engineID := info(t, ctx, admin).EngineID
	if err := chat.Emit(ctx, "kick-all"); err != nil {
		t.Fatal(err)
	}
	expectDisconnect(t, ctx, chat, sio.ErrServerDisconnect)
	expectDisconnect(t, ctx, admin, sio.ErrServerDisconnect)

	obs := dial(t, ctx, srv.URL())
	expectEngineConnections(t, ctx, obs, 1) // the server has closed the old connection
	again := managerSocket(t, ctx, m, "/admin")
	inf := info(t, ctx, again)
	if inf.EngineID == engineID || inf.EngineID == "" {
		t.Errorf("new socket on engine %q, old was %q", inf.EngineID, engineID)
	}
	echo(t, ctx, again, "new connection")
}

// A Socket call that gives up (its context ends) after its CONNECT went
// out, followed at once by another Socket call for the same namespace (the
// usual retry after a timeout), must give one consistent socket and leave
// the Manager's other sockets alone. The official server accepts the first
// CONNECT anyway; a second CONNECT that reaches it once that socket is
// registered makes it close the whole connection ("invalid state"), and one
// that reaches it before creates a second server-side socket.
func TestManagerSocketRetryAfterCancel(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	ctx := testutil.Context(t, testTimeout)
	m := newManager(t, srv.URL(), sio.WithoutReconnect())
	chat := managerSocket(t, ctx, m, "/chat")
	engineID := info(t, ctx, chat).EngineID

	dead, cancel := context.WithCancel(ctx)
	cancel()
	for try := range 15 {
		// With an ended context, Socket may or may not get its CONNECT
		// out before it gives up (about half the time it does).
		if s, err := m.Socket(dead, "/admin"); err == nil {
			s.Close()
			t.Fatalf("try %d: Socket with an ended context succeeded", try)
		}
		admin, err := m.Socket(ctx, "/admin")
		if err != nil {
			t.Fatalf("try %d: Socket(/admin) right after a cancelled one: %v (/chat: %v)", try, err, chat.Err())
		}
		expectConnect(t, ctx, admin)
		inf, err := tryInfo(ctx, admin)
		if err != nil {
			t.Fatalf("try %d: the shared connection broke when /admin was joined again: %v (/chat: %v)", try, err, chat.Err())
		}
		if inf.ID != admin.ID() {
			t.Errorf("try %d: the server's /admin socket is %q, the client's %q", try, inf.ID, admin.ID())
		}
		if inf.EngineID != engineID {
			t.Fatalf("try %d: the connection changed (engine %q, was %q); /chat: %v", try, inf.EngineID, engineID, chat.Err())
		}
		admin.Close()
		eventually(t, ctx, "only /chat left on the server", func() (bool, string) {
			inf := info(t, ctx, chat)
			return reflect.DeepEqual(inf.NamespacesOnConnection, []string{"/chat"}),
				fmt.Sprintf("namespaces %q", inf.NamespacesOnConnection)
		})
		select {
		case ev := <-chat.Events():
			t.Fatalf("try %d: /chat got %s", try, testutil.Describe(ev))
		default:
		}
		if t.Failed() {
			return
		}
	}
}

// A socket closed and its namespace joined again at once, over and over,
// while another namespace shares the connection: the official server closes
// the whole connection on a CONNECT that it reads in one go with the
// DISCONNECT before it (the old socket is still registered), so the client
// must keep the two apart. The connection survives every round.
func TestManagerRejoinAtOnce(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := testutil.Context(t, testTimeout)
			m := newManager(t, srv.URL(), tc.with(sio.WithoutReconnect())...)
			chat := managerSocket(t, ctx, m, "/chat")
			engineID := info(t, ctx, chat).EngineID
			for round := range 20 {
				admin := managerSocket(t, ctx, m, "/admin")
				if inf := info(t, ctx, admin); inf.EngineID != engineID {
					t.Fatalf("round %d: /admin on engine %q, /chat on %q", round, inf.EngineID, engineID)
				}
				admin.Close()
			}
			if err := chat.Err(); err != nil {
				t.Fatalf("/chat ended: %v", err)
			}
			echo(t, ctx, chat, "still here")
		})
	}
}
