// Package faultproxy is a loopback TCP proxy for reliability tests: it
// forwards every connection it accepts to a target, and on demand delays,
// splits, holds, drops or cuts what passes through.
//
// A test puts the proxy between the client and a real server and points
// the client at Proxy.URL:
//
//	p, err := faultproxy.Start("127.0.0.1:3000")
//	...
//	defer p.Close()
//	s, err := sio.Dial(ctx, p.URL())
//	p.Blackhole(true) // the path goes silent
//	p.Pass()          // and comes back
//
// The modes (Latency, Blackhole, Segment, Stall) apply to the connections
// that are live when they are set and to those accepted later; Pass clears
// them all. Cut acts once, on the connections live at that moment.
//
// Each accepted connection is served by two goroutines, one per direction,
// owned by the Proxy (plus one that accepts); Close ends them all and waits
// for them. All methods may be called concurrently, from any goroutine.
package faultproxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Direction is one way through the proxy.
type Direction int

// The two directions. The client is the side that connected to the proxy;
// the server is the target.
const (
	ToServer Direction = iota + 1 // bytes the client sends
	ToClient                      // bytes the server sends
)

func (d Direction) String() string {
	switch d {
	case ToServer:
		return "to server"
	case ToClient:
		return "to client"
	}
	return fmt.Sprintf("Direction(%d)", int(d))
}

// index returns d's slot in per-direction arrays; it panics on a Direction
// that is neither ToServer nor ToClient.
func (d Direction) index() int {
	if d != ToServer && d != ToClient {
		panic("faultproxy: invalid " + d.String())
	}
	return int(d) - 1
}

const (
	// readSize is the most one read takes from a connection: one chunk.
	readSize = 32 << 10
	// maxHeld bounds what one direction holds (delayed or stalled) before
	// it stops reading its source; the kernel's buffers then push back.
	maxHeld = 8 << 20
	// dialTimeout bounds connecting to the target.
	dialTimeout = 5 * time.Second
)

// Proxy is a running fault proxy. Its zero value is not usable: see Start.
type Proxy struct {
	ln     net.Listener
	target string
	ctx    context.Context // cancelled by Close: aborts a dial in progress
	cancel context.CancelFunc
	wg     sync.WaitGroup // the accept loop and every pump
	once   sync.Once

	mu     sync.Mutex
	closed bool
	mode   mode
	gen    uint64 // incremented by every mode change
	pairs  map[*pair]struct{}

	// writes counts the Write calls made on destination connections, so
	// that the package's tests can see segmentation happen.
	writes atomic.Int64
	// forwarded counts the bytes written to each direction's destination
	// (by Direction.index), for Bytes.
	forwarded [2]atomic.Int64
}

// mode is what the proxy does to the bytes it forwards.
type mode struct {
	latency   time.Duration
	blackhole bool
	segment   bool
	stall     [2]bool // by Direction.index
}

// pair is one proxied connection: the client's, accepted, and the server's,
// dialed. Its two pumps share it; the last one out closes it.
type pair struct {
	client, server *net.TCPConn
	wake           [2]chan struct{} // by Direction.index; see Proxy.change
	done           chan struct{}    // closed once the pair is cut or finished
	once           sync.Once
	running        atomic.Int32
}

// Start listens on 127.0.0.1 with a port of the system's choosing and
// forwards every connection it accepts to target ("127.0.0.1:port"), in
// Pass mode. The target is dialed for each accepted connection; when that
// fails, the accepted connection is closed.
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: %w", err)
	}
	p := &Proxy{ln: ln, target: target, pairs: make(map[*pair]struct{})}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr returns the proxy's address, "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// URL returns "http://" + Addr().
func (p *Proxy) URL() string { return "http://" + p.Addr() }

// Close stops accepting, closes every connection and returns once every
// goroutine of the proxy has returned. It is idempotent and returns nil.
func (p *Proxy) Close() error {
	p.once.Do(func() {
		p.mu.Lock()
		p.closed = true
		pairs := p.takePairs()
		p.mu.Unlock()
		p.cancel()
		p.ln.Close()
		for _, pc := range pairs {
			pc.cut(false)
		}
		p.wg.Wait()
	})
	return nil
}

// Pass returns to plain forwarding: it clears Latency, Blackhole, Segment
// and both Stalls. What a stall held is delivered at once; chunks already
// delayed keep their delivery time.
//
// Bytes dropped by a blackhole are gone: a connection that lost some
// carries on with a gap in its stream, which its peers usually notice as
// garbage or a timeout. Cut such connections if the test needs a clean
// start.
func (p *Proxy) Pass() {
	p.change(func(m *mode) { *m = mode{} })
}

// Latency delays every chunk read from either side by d before it is
// written to the other, keeping the order of the bytes (a chunk is never
// delivered before the one read ahead of it). Zero turns the delay off for
// chunks read from then on.
func (p *Proxy) Latency(d time.Duration) {
	p.change(func(m *mode) { m.latency = max(d, 0) })
}

// Cut closes every live connection now, both its sides: with rst, each
// side gets a TCP reset (SO_LINGER 0), otherwise a normal close (FIN).
// Whatever the proxy held for those connections is dropped. The proxy goes
// on accepting new connections, in the current mode. A connection accepted
// while Cut runs may escape it.
func (p *Proxy) Cut(rst bool) {
	p.mu.Lock()
	pairs := p.takePairs()
	p.mu.Unlock()
	for _, pc := range pairs {
		pc.cut(rst)
	}
}

// Blackhole with on makes the proxy deliver nothing, in both directions, on
// live and new connections (which it still accepts, and still connects to
// the target): what it reads is dropped, and so is what it held. A close
// or reset from one side is held, not passed on, until the blackhole ends.
// Off (or Pass) resumes forwarding of what is read from then on.
func (p *Proxy) Blackhole(on bool) {
	p.change(func(m *mode) { m.blackhole = on })
}

// Segment with on forwards every chunk one byte per write (TCP_NODELAY is
// set on both sides of every connection, so that each byte goes out as its
// own segment), to exercise the peers' handling of partial reads.
func (p *Proxy) Segment(on bool) {
	p.change(func(m *mode) { m.segment = on })
}

// Stall with on stops forwarding in direction dir: the proxy keeps reading
// and holds the bytes (up to 8 MiB, then it stops reading), and a close
// from the source is held behind them. Off (or Pass) delivers what was
// held, in order, then resumes.
func (p *Proxy) Stall(dir Direction, on bool) {
	i := dir.index()
	p.change(func(m *mode) { m.stall[i] = on })
}

// Bytes returns the number of bytes forwarded in direction dir so far,
// over every connection: what the wire carried, framing included.
func (p *Proxy) Bytes(dir Direction) int64 { return p.forwarded[dir.index()].Load() }

// Conns returns the number of live connections: accepted, connected to
// the target, and not yet closed on both sides or cut.
func (p *Proxy) Conns() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.pairs)
}

// takePairs empties the set of live pairs and returns them. p.mu is held.
func (p *Proxy) takePairs() []*pair {
	pairs := make([]*pair, 0, len(p.pairs))
	for pc := range p.pairs {
		pairs = append(pairs, pc)
		delete(p.pairs, pc)
	}
	return pairs
}

// change applies a mode change and wakes every pump so that it takes the
// new mode into account now, even while it waits for bytes: a pump sets
// its read deadline under p.mu after checking p.gen, so either it sees the
// change, or the deadline set here interrupts its read; a pump that waits
// without reading finds a token in its wake channel.
func (p *Proxy) change(f func(*mode)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	f(&p.mode)
	p.gen++
	now := time.Now()
	for pc := range p.pairs {
		pc.client.SetReadDeadline(now)
		pc.server.SetReadDeadline(now)
		for _, w := range pc.wake {
			select {
			case w <- struct{}{}:
			default:
			}
		}
	}
}

// accept is the accept loop.
func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || p.ctx.Err() != nil {
				return
			}
			// Out of file descriptors, or the like: try again shortly.
			select {
			case <-time.After(10 * time.Millisecond):
				continue
			case <-p.ctx.Done():
				return
			}
		}
		p.open(c.(*net.TCPConn))
	}
}

// open connects an accepted connection to the target and starts its pumps.
func (p *Proxy) open(client *net.TCPConn) {
	ctx, cancel := context.WithTimeout(p.ctx, dialTimeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	server := c.(*net.TCPConn)
	client.SetNoDelay(true)
	server.SetNoDelay(true)
	pc := &pair{
		client: client,
		server: server,
		wake:   [2]chan struct{}{make(chan struct{}, 1), make(chan struct{}, 1)},
		done:   make(chan struct{}),
	}
	pc.running.Store(2)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		pc.cut(false)
		return
	}
	p.pairs[pc] = struct{}{}
	p.wg.Add(2)
	go p.pump(pc, ToServer)
	go p.pump(pc, ToClient)
}

// cut closes both sides of the pair, with resets when rst, and stops its
// pumps. It is idempotent.
func (pc *pair) cut(rst bool) {
	pc.once.Do(func() {
		close(pc.done)
		if rst {
			pc.client.SetLinger(0)
			pc.server.SetLinger(0)
		}
		pc.client.Close()
		pc.server.Close()
	})
}

// pump forwards one direction of a pair until it ends; the last of the two
// pumps out closes the pair.
func (p *Proxy) pump(pc *pair, dir Direction) {
	defer p.wg.Done()
	src, dst := pc.client, pc.server
	if dir == ToClient {
		src, dst = pc.server, pc.client
	}
	p.forward(pc, dir, src, dst)
	if pc.running.Add(-1) == 0 {
		pc.cut(false)
		p.mu.Lock()
		delete(p.pairs, pc)
		p.mu.Unlock()
	}
}

// chunk is one read, waiting to be written.
type chunk struct {
	data []byte
	due  time.Time
}

// ending is how the source of a direction ended.
type ending int

const (
	notEnded ending = iota
	endFIN          // EOF: passed on as a half close (FIN)
	endReset        // a read error such as ECONNRESET: passed on as a reset
)

// forward reads src and writes dst, applying the proxy's mode, until the
// source's end has been passed on, a write fails, or the pair is cut.
func (p *Proxy) forward(pc *pair, dir Direction, src, dst *net.TCPConn) {
	i := dir.index()
	buf := make([]byte, readSize)
	var (
		held  []chunk   // read, not yet written, in order
		size  int       // bytes in held
		last  time.Time // due time of the newest chunk: none may overtake it
		ended = notEnded
	)
	for {
		p.mu.Lock()
		m, gen := p.mode, p.gen
		p.mu.Unlock()
		hold := m.blackhole || m.stall[i]
		if m.blackhole {
			clear(held)
			held, size = held[:0], 0
		}
		if !hold {
			now := time.Now()
			for len(held) > 0 && !held[0].due.After(now) {
				if err := p.write(dst, i, held[0].data, m.segment); err != nil {
					broken(src, dst)
					return
				}
				size -= len(held[0].data)
				held[0] = chunk{}
				held = held[1:]
			}
			if len(held) == 0 && ended != notEnded {
				passEnd(ended, src, dst)
				return
			}
		}
		var next time.Time // when the first held chunk is due, if it may go
		if !hold && len(held) > 0 {
			next = held[0].due
		}
		if ended != notEnded || size >= maxHeld {
			// Nothing to read: wait for a chunk to be due, for a mode
			// change, or for the end.
			if !pc.wait(i, next) {
				return
			}
			continue
		}
		p.mu.Lock()
		if p.gen != gen {
			p.mu.Unlock()
			continue // the mode changed meanwhile: look again
		}
		src.SetReadDeadline(next) // zero: no deadline
		p.mu.Unlock()

		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			m = p.mode // the mode at the time of the read
			p.mu.Unlock()
			if !m.blackhole {
				now := time.Now()
				due := now.Add(m.latency)
				if due.Before(last) {
					due = last
				}
				last = due
				if len(held) == 0 && !m.stall[i] && !due.After(now) {
					if err := p.write(dst, i, buf[:n], m.segment); err != nil {
						broken(src, dst)
						return
					}
				} else {
					held = append(held, chunk{data: append([]byte(nil), buf[:n]...), due: due})
					size += n
				}
			}
		}
		switch {
		case err == nil, errors.Is(err, os.ErrDeadlineExceeded):
			// Read on, or woken up to deliver or to see a new mode.
		case errors.Is(err, io.EOF):
			ended = endFIN
		case errors.Is(err, net.ErrClosed):
			return // cut, closed, or given up by the other direction
		default:
			ended = endReset
		}
	}
}

// wait waits until next (when not zero), a mode change or the end of the
// pair, and reports false on the end.
func (pc *pair) wait(i int, next time.Time) bool {
	var due <-chan time.Time
	if !next.IsZero() {
		t := time.NewTimer(time.Until(next))
		defer t.Stop()
		due = t.C
	}
	select {
	case <-pc.wake[i]:
	case <-due:
	case <-pc.done:
		return false
	}
	return true
}

// write writes b to dst, one byte per call when segment, and counts the
// bytes written in direction i.
func (p *Proxy) write(dst *net.TCPConn, i int, b []byte, segment bool) error {
	p.forwarded[i].Add(int64(len(b)))
	if !segment {
		p.writes.Add(1)
		_, err := dst.Write(b)
		return err
	}
	for j := range b {
		p.writes.Add(1)
		if _, err := dst.Write(b[j : j+1]); err != nil {
			return err
		}
	}
	return nil
}

// passEnd passes the end of src on to dst, after everything src sent: a
// half close for an EOF, a reset for a read error.
func passEnd(e ending, src, dst *net.TCPConn) {
	if e == endFIN {
		dst.CloseWrite()
		return
	}
	dst.SetLinger(0)
	dst.Close()
	src.Close()
}

// broken handles a write that failed: dst is gone, so src, whose bytes
// can no longer go anywhere, is reset.
func broken(src, dst *net.TCPConn) {
	src.SetLinger(0)
	src.Close()
	dst.Close()
}
