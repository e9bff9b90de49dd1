package faultproxy

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// quiet is how long a test waits to conclude that nothing arrives.
const quiet = 200 * time.Millisecond

// echoServer is a TCP echo server on loopback: it writes back what it reads,
// half-closes when the client does, and records how each connection's
// reading ended.
type echoServer struct {
	ln       net.Listener
	wg       sync.WaitGroup
	received atomic.Int64
	ends     chan error // one per connection: nil for EOF, else the read error

	mu    sync.Mutex
	conns []net.Conn
}

func startEcho(t *testing.T) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e := &echoServer{ln: ln, ends: make(chan error, 64)}
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			e.mu.Lock()
			e.conns = append(e.conns, c)
			e.mu.Unlock()
			e.wg.Add(1)
			go e.serve(c.(*net.TCPConn))
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		e.mu.Lock()
		for _, c := range e.conns {
			c.Close()
		}
		e.mu.Unlock()
		e.wg.Wait()
	})
	return e
}

func (e *echoServer) serve(c *net.TCPConn) {
	defer e.wg.Done()
	defer c.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		e.received.Add(int64(n))
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				e.ends <- werr
				return
			}
		}
		if errors.Is(err, io.EOF) {
			c.CloseWrite()
			e.ends <- nil
			return
		}
		if err != nil {
			e.ends <- err
			return
		}
	}
}

// end returns how the next connection's reading ended on the server.
func (e *echoServer) end(t *testing.T) error {
	t.Helper()
	select {
	case err := <-e.ends:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("no connection ended on the echo server")
	}
	return nil
}

// noEnd checks that no connection ends on the server for a while.
func (e *echoServer) noEnd(t *testing.T) {
	t.Helper()
	select {
	case err := <-e.ends:
		t.Fatalf("a connection ended on the echo server (%v), want it held", err)
	case <-time.After(quiet):
	}
}

func startProxy(t *testing.T, target string) *Proxy {
	t.Helper()
	p, err := Start(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// dial connects to the proxy; the connection is closed when the test ends.
func dial(t *testing.T, p *Proxy) *net.TCPConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", p.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.(*net.TCPConn)
}

func write(t *testing.T, c net.Conn, s string) {
	t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		t.Fatalf("write %q: %v", s, err)
	}
}

// read reads exactly n bytes within 5 s.
func read(t *testing.T, c net.Conn, n int) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	buf := make([]byte, n)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatalf("reading %d bytes: %v", n, err)
	}
	return string(buf)
}

// roundTrip writes s and checks that it comes back.
func roundTrip(t *testing.T, c net.Conn, s string) {
	t.Helper()
	write(t, c, s)
	if got := read(t, c, len(s)); got != s {
		t.Fatalf("echo = %q, want %q", got, s)
	}
}

// nothing checks that nothing arrives on c for a while.
func nothing(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(quiet))
	defer c.SetReadDeadline(time.Time{})
	var b [64]byte
	n, err := c.Read(b[:])
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read %q, %v; want nothing", b[:n], err)
	}
}

// readEnd reads c until it ends and returns the error (io.EOF for a close).
func readEnd(t *testing.T, c net.Conn) error {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if err == nil {
		return io.EOF
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatal("the connection did not end")
	}
	return err
}

// eventually polls cond for up to 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not before the deadline", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rand.IntN(256))
	}
	return b
}

// stream sends data through c and checks that the echo is identical,
// reading and writing concurrently.
func stream(t *testing.T, c *net.TCPConn, data []byte) {
	t.Helper()
	werr := make(chan error, 1)
	go func() {
		for rest := data; len(rest) > 0; {
			n := min(len(rest), 1+rand.IntN(20000))
			if _, err := c.Write(rest[:n]); err != nil {
				werr <- err
				return
			}
			rest = rest[n:]
		}
		werr <- nil
	}()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	got := make([]byte, len(data))
	_, rerr := io.ReadFull(c, got)
	if err := <-werr; err != nil {
		t.Fatalf("write: %v", err)
	}
	if rerr != nil {
		t.Fatalf("read: %v", rerr)
	}
	if !bytes.Equal(got, data) {
		i := 0
		for i < len(got) && got[i] == data[i] {
			i++
		}
		t.Fatalf("echo differs from what was sent at byte %d of %d", i, len(data))
	}
}

func TestPass(t *testing.T) {
	e := startEcho(t)
	p := startProxy(t, e.ln.Addr().String())
	if got, want := p.URL(), "http://"+p.Addr(); got != want {
		t.Errorf("URL() = %q, want %q", got, want)
	}
	c := dial(t, p)
	stream(t, c, randomBytes(1<<20))
	if n := p.Conns(); n != 1 {
		t.Errorf("Conns() = %d, want 1", n)
	}
	// A half close passes through; the echo server closes in turn.
	c.CloseWrite()
	if err := e.end(t); err != nil {
		t.Errorf("server side ended with %v, want EOF", err)
	}
	if err := readEnd(t, c); err != io.EOF {
		t.Errorf("client side ended with %v, want EOF", err)
	}
	eventually(t, "Conns() == 0", func() bool { return p.Conns() == 0 })
}

func TestLatency(t *testing.T) {
	const d = 150 * time.Millisecond
	e := startEcho(t)
	p := startProxy(t, e.ln.Addr().String())
	p.Latency(d)
	c := dial(t, p)
	start := time.Now()
	roundTrip(t, c, "ping")
	if rtt := time.Since(start); rtt < 2*d {
		t.Errorf("round trip took %v with latency %v each way, want at least %v", rtt, d, 2*d)
	}

	// Chunks written while earlier ones are delayed arrive after them, in
	// order, each delayed by d (not d per chunk ahead of it).
	var want bytes.Buffer
	start = time.Now()
	for i := range 10 {
		s := string(rune('a'+i)) + "-"
		want.WriteString(s)
		write(t, c, s)
		time.Sleep(5 * time.Millisecond)
	}
	if got := read(t, c, want.Len()); got != want.String() {
		t.Errorf("read %q, want %q", got, want.String())
	}
	if el := time.Since(start); el < 2*d || el > 2*d+50*10*time.Millisecond+time.Second {
		t.Errorf("10 chunks 5 ms apart came back in %v, want about %v", el, 2*d+50*time.Millisecond)
	}

	p.Latency(0)
	start = time.Now()
	roundTrip(t, c, "fast")
	if rtt := time.Since(start); rtt >= 2*d {
		t.Errorf("round trip took %v with no latency", rtt)
	}

	// A new connection gets the latency too.
	p.Latency(d)
	c2 := dial(t, p)
	start = time.Now()
	roundTrip(t, c2, "new")
	if rtt := time.Since(start); rtt < 2*d {
		t.Errorf("round trip on a new connection took %v, want at least %v", rtt, 2*d)
	}
}

func TestCut(t *testing.T) {
	for _, tc := range []struct {
		name string
		rst  bool
	}{{"fin", false}, {"rst", true}} {
		t.Run(tc.name, func(t *testing.T) {
			e := startEcho(t)
			p := startProxy(t, e.ln.Addr().String())
			c1, c2 := dial(t, p), dial(t, p)
			roundTrip(t, c1, "one")
			roundTrip(t, c2, "two")
			if n := p.Conns(); n != 2 {
				t.Fatalf("Conns() = %d, want 2", n)
			}
			p.Cut(tc.rst)
			if n := p.Conns(); n != 0 {
				t.Errorf("Conns() = %d right after Cut, want 0", n)
			}
			for _, c := range []net.Conn{c1, c2} {
				err := readEnd(t, c)
				if tc.rst && !errors.Is(err, syscall.ECONNRESET) || !tc.rst && err != io.EOF {
					t.Errorf("client read ended with %v, want %s", err, tc.name)
				}
				err = e.end(t)
				if tc.rst && !errors.Is(err, syscall.ECONNRESET) || !tc.rst && err != nil {
					t.Errorf("server read ended with %v, want %s", err, tc.name)
				}
			}
			// New connections are still accepted and forwarded.
			c3 := dial(t, p)
			roundTrip(t, c3, "three")
			if n := p.Conns(); n != 1 {
				t.Errorf("Conns() = %d, want 1", n)
			}
		})
	}
}

// A reset from one side reaches the other as a reset.
func TestResetPassesOn(t *testing.T) {
	e := startEcho(t)
	p := startProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, "x")
	c.SetLinger(0)
	c.Close()
	if err := e.end(t); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("server read ended with %v, want a reset", err)
	}
	eventually(t, "Conns() == 0", func() bool { return p.Conns() == 0 })
}

func TestBlackhole(t *testing.T) {
	e := startEcho(t)
	p := startProxy(t, e.ln.Addr().String())
	a := dial(t, p)
	roundTrip(t, a, "before")
	got := e.received.Load()

	p.Blackhole(true)
	write(t, a, "lost")
	nothing(t, a)
	if n := e.received.Load(); n != got {
		t.Errorf("the server received %d bytes during the blackhole", n-got)
	}
	// New connections are accepted, and get nothing either.
	b := dial(t, p)
	write(t, b, "lost too")
	nothing(t, b)
	if n := e.received.Load(); n != got {
		t.Errorf("the server received %d bytes during the blackhole", n-got)
	}
	eventually(t, "Conns() == 2", func() bool { return p.Conns() == 2 })
	// A close is held too.
	c := dial(t, p)
	eventually(t, "Conns() == 3", func() bool { return p.Conns() == 3 })
	c.CloseWrite()
	e.noEnd(t)

	p.Pass()
	// What was read during the blackhole is gone; what comes now passes.
	roundTrip(t, a, "after")
	roundTrip(t, b, "b")
	if err := e.end(t); err != nil {
		t.Errorf("held close reached the server as %v, want EOF", err)
	}
	if err := readEnd(t, c); err != io.EOF {
		t.Errorf("c ended with %v, want EOF", err)
	}
	if n, want := e.received.Load(), got+int64(len("after")+len("b")); n != want {
		t.Errorf("the server received %d bytes in all, want %d", n, want)
	}
}

// Blackhole drops what latency was holding, and the server's bytes too.
func TestBlackholeDropsHeld(t *testing.T) {
	e := startEcho(t)
	p := startProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, "warm")
	p.Stall(ToClient, true)
	write(t, c, "echoed but held")
	eventually(t, "server got it", func() bool { return e.received.Load() == int64(len("warm")+len("echoed but held")) })
	p.Blackhole(true)
	p.Stall(ToClient, false)
	nothing(t, c)
	p.Blackhole(false)
	roundTrip(t, c, "fresh")
}

func TestSegment(t *testing.T) {
	e := startEcho(t)
	p := startProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, "warm")

	p.Segment(true)
	data := randomBytes(4096)
	before := p.writes.Load()
	stream(t, c, data)
	if n := p.writes.Load() - before; n != 2*int64(len(data)) {
		t.Errorf("%d writes for %d bytes each way, want one per byte", n, len(data))
	}

	p.Segment(false)
	before = p.writes.Load()
	write(t, c, string(data))
	if got := read(t, c, len(data)); got != string(data) {
		t.Fatal("echo differs")
	}
	if n := p.writes.Load() - before; n > 64 {
		t.Errorf("%d writes for %d bytes each way without segmentation", n, len(data))
	}

	// Segmentation with latency: order and content are kept.
	p.Segment(true)
	p.Latency(20 * time.Millisecond)
	stream(t, c, randomBytes(8192))
}

func TestStall(t *testing.T) {
	e := startEcho(t)
	p := startProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	roundTrip(t, c, "warm")

	// Toward the client: the server gets the bytes and echoes them; the
	// proxy holds the echo until the stall ends.
	p.Stall(ToClient, true)
	write(t, c, "abc")
	eventually(t, "server got abc", func() bool { return e.received.Load() == 7 })
	nothing(t, c)
	write(t, c, "def")
	eventually(t, "server got def", func() bool { return e.received.Load() == 10 })
	nothing(t, c)
	p.Stall(ToClient, false)
	if got := read(t, c, 6); got != "abcdef" {
		t.Errorf("after the stall: %q, want abcdef", got)
	}

	// Toward the server.
	p.Stall(ToServer, true)
	write(t, c, "xyz")
	nothing(t, c)
	if n := e.received.Load(); n != 10 {
		t.Errorf("the server received %d bytes, want 10: the stall let some through", n)
	}
	p.Pass()
	if got := read(t, c, 3); got != "xyz" {
		t.Errorf("after the stall: %q, want xyz", got)
	}

	// A close is held behind the stalled bytes.
	p.Stall(ToServer, true)
	write(t, c, "last")
	c.CloseWrite()
	e.noEnd(t)
	p.Stall(ToServer, false)
	if err := e.end(t); err != nil {
		t.Errorf("the close reached the server as %v, want EOF", err)
	}
	if got := read(t, c, 4); got != "last" {
		t.Errorf("read %q, want last", got)
	}
	if err := readEnd(t, c); err != io.EOF {
		t.Errorf("client ended with %v, want EOF", err)
	}
}

// Modes change while bytes flow, and nothing is lost, duplicated or
// reordered (Blackhole aside, which drops by design).
func TestModesWhileLive(t *testing.T) {
	e := startEcho(t)
	p := startProxy(t, e.ln.Addr().String())
	c := dial(t, p)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(time.Duration(1+rand.IntN(5)) * time.Millisecond):
			}
			switch i % 6 {
			case 0:
				p.Latency(time.Duration(rand.IntN(5)) * time.Millisecond)
			case 1:
				p.Stall(ToServer, rand.IntN(2) == 0)
			case 2:
				p.Stall(ToClient, rand.IntN(2) == 0)
			case 3:
				p.Segment(rand.IntN(4) == 0)
			case 4:
				p.Segment(false)
			case 5:
				p.Pass()
			}
		}
	}()
	stream(t, c, randomBytes(512<<10))
	close(stop)
	wg.Wait()
}

func TestClose(t *testing.T) {
	e := startEcho(t)
	p, err := Start(e.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	var cs []*net.TCPConn
	for range 3 {
		c := dial(t, p)
		roundTrip(t, c, "hi")
		cs = append(cs, c)
	}
	p.Stall(ToClient, true) // a pump waiting with held bytes
	write(t, cs[0], "held")
	// Wait until the proxy has read it: closing a socket with unread bytes
	// sends a reset, not a FIN.
	eventually(t, "server got it", func() bool { return e.received.Load() == 3*2+4 })
	p.Close()
	p.Close()
	if n := p.Conns(); n != 0 {
		t.Errorf("Conns() = %d after Close", n)
	}
	for _, c := range cs {
		if err := readEnd(t, c); err != io.EOF {
			t.Errorf("client ended with %v, want EOF", err)
		}
	}
	if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		c.Close()
		t.Error("dial after Close succeeded")
	}
}

// A target that refuses the connection: the accepted one is closed.
func TestTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := startProxy(t, addr)
	c := dial(t, p)
	if err := readEnd(t, c); err != io.EOF {
		t.Errorf("read ended with %v, want EOF", err)
	}
	if n := p.Conns(); n != 0 {
		t.Errorf("Conns() = %d", n)
	}
}

func TestDirection(t *testing.T) {
	if ToServer.String() != "to server" || ToClient.String() != "to client" || Direction(7).String() != "Direction(7)" {
		t.Error("Direction.String")
	}
	defer func() {
		if recover() == nil {
			t.Error("Stall(Direction(0), true) did not panic")
		}
	}()
	p := &Proxy{pairs: map[*pair]struct{}{}}
	p.Stall(Direction(0), true)
}
