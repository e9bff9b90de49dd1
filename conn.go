package sio

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/transport"
	"golang.org/x/sync/errgroup"
)

// Sizes of the writer's queue. Every connection pays for it while idle, so
// it is small; producers that find the queue full wait (bounded by their
// context), which is the backpressure the stream needs. A connection that
// stays on long-polling gets a longer one: each POST then carries what
// queued up while the previous one was in flight, and the queue's length is
// what bounds a POST's batch.
const (
	writeQueueLen        = 8
	pollingWriteQueueLen = 512
	maxBatch             = 64 // frames the writer takes from the queue per write
)

// defaultMaxPayload is the limit assumed for a server that announces none
// (Socket.IO 2.x and 3.x, python-socketio) when WithServerMaxPayload does
// not state it: the default maxHttpBufferSize of their engine.io, which
// applies to a polling body and a WebSocket message alike.
const defaultMaxPayload = 1e6

// closeGrace bounds how long closing waits for queued frames to be written
// and for the server to answer the WebSocket close before the connection is
// cut.
const closeGrace = 2 * time.Second

// engineConn is one Engine.IO connection: the handshake's result and the
// three goroutines that serve it until it ends.
//
//   - The reader is the only goroutine that reads the transport. It answers
//     pings (through the writer), hands messages to the handler without
//     ever waiting on the program, and ends on any read or parse error.
//   - The writer is the only goroutine that writes the transport. It drains
//     the queue in batches, sending pongs first.
//   - The heartbeat ends the connection when no ping came within
//     pingInterval + pingTimeout.
//
// They run under one errgroup, created for this connection and never reused:
// when one fails, the group's context is cancelled, the transport is
// aborted, and the others return. The first error is the connection's error.
// The last goroutine out reports the end to the handler.
//
// Transport reads and writes get no context to watch (with one, the
// WebSocket library registers with it and unregisters on every frame):
// aborting the transports is what ends a call in flight.
//
// Methods may be called from any goroutine.
type engineConn struct {
	rtr        transport.Conn               // the transport the reader reads; the reader's own
	wtr        transport.Conn               // the transport the writer writes; the writer's own
	cur        atomic.Pointer[transportRef] // wtr, for other goroutines
	open       packet.Open
	started    time.Time // when the handshake completed
	maxPayload int64     // bound on one outgoing frame, 0 when none
	handler    connHandler
	log        *logger // nil: silent

	ctx    context.Context // cancelled, with the error as cause, when the connection fails
	cancel context.CancelCauseFunc
	g      *errgroup.Group // the handshake's read-ahead joins it too

	eio      int // the Engine.IO version spoken: 4, or 3 for Socket.IO 2.x servers
	out      chan outgoing
	maxBatch int           // frames the writer takes from out per write
	due      atomic.Uint32 // heartbeat frames for the writer to send first: duePong, duePing
	w        writer        // the writer goroutine's own
	// wroteFirst: the connection's first batch is written. The writer's
	// own (writers take over one from another, never at once).
	wroteFirst bool
	pinged     chan struct{} // Engine.IO v3: a pong arrived; nil over v4
	// Engine.IO v4: when the last ping arrived, as the time since started.
	// The heartbeat reads it when its timer fires, so that a ping costs
	// the reader one store and the heartbeat no wake-up.
	heardAt atomic.Int64
	// beat is the v4 heartbeat's timer, set for when the server's ping
	// would be late; fail fires it to end the heartbeat. nil over v3.
	beat *time.Timer

	// upg is the upgrade from polling to WebSocket while it may still
	// happen, nil once it is over (or when there is none): an upgraded
	// connection keeps none of it. See upgrading.
	upg atomic.Pointer[upgrading]

	abortMu sync.Mutex       // a leaf lock
	inUse   []transport.Conn // the transports fail aborts: the first, and an upgrade's once handed over

	closing atomic.Bool // the writer is closing the transport on purpose
	running atomic.Int32
	errOnce sync.Once
	err     error         // the connection's error, set before done closes
	done    chan struct{} // closed once every goroutine has returned and connEnded has run
}

// transportRef holds a transport for atomic.Pointer.
type transportRef struct{ transport.Conn }

// connHandler receives what an engineConn's reader reads: the layer above
// (sioConn). Its methods are called on the reader goroutine
// (handleMessage) or the last goroutine out (connEnded) and must never wait
// on the program.
type connHandler interface {
	// handleMessage takes one message frame. An error ends the connection
	// with ErrParse.
	handleMessage(f packet.Frame) error
	// connEnded is called once, when the connection has ended; err matches
	// one of the disconnect reasons.
	connEnded(err error)
}

// errClientClose ends a connection that this program closed on purpose.
var errClientClose = fmt.Errorf("%w: connection closed by client", ErrClientDisconnect)

// startEngine starts the goroutines of a connection whose handshake is done.
// With upgradeTo set, a fourth goroutine tries the upgrade to WebSocket.
// stated is the server's limit on a message as WithServerMaxPayload states
// it, used when open has none (0: defaultMaxPayload).
func startEngine(g *errgroup.Group, tr transport.Conn, eio int, open packet.Open, stated int64, newHandler func(*engineConn) connHandler, upgradeTo *transport.Config, log *logger) *engineConn {
	// The errgroup needs no context of its own: every goroutine's exit
	// goes through fail, which cancels ctx with the first error.
	ctx, cancel := context.WithCancelCause(context.Background())
	c := &engineConn{
		rtr:        tr,
		wtr:        tr,
		open:       open,
		started:    time.Now(),
		maxPayload: cmp.Or(open.MaxPayload, max(stated, 0), defaultMaxPayload),
		log:        log,
		ctx:        ctx,
		cancel:     cancel,
		g:          g,
		eio:        eio,
		inUse:      []transport.Conn{tr},
		done:       make(chan struct{}),
	}
	queue, batch := writeQueueLen, maxBatch
	if tr.Name() == transport.NamePolling && upgradeTo == nil {
		queue, batch = pollingWriteQueueLen, pollingWriteQueueLen
	}
	c.out, c.maxBatch = make(chan outgoing, queue), batch
	if eio == 3 {
		c.pinged = make(chan struct{}, 1)
	} else {
		c.beat = time.NewTimer(open.PingInterval + open.PingTimeout)
	}
	// The dial has decided the upgrade: the rest of the connection's life
	// needs no list of upgrades.
	c.open.Upgrades = nil
	c.cur.Store(&transportRef{tr})
	c.handler = newHandler(c)
	if upgradeTo == nil {
		c.running.Store(3)
	} else {
		u := newUpgrading()
		c.upg.Store(u)
		c.running.Store(4)
		c.spawn(func(c *engineConn) error { return c.upgrade(u, upgradeTo) })
	}
	c.spawn((*engineConn).readLoop)
	c.spawn((*engineConn).writeLoop)
	c.spawn((*engineConn).heartbeat)
	return c
}

// spawn starts fn on a goroutine of the connection's errgroup. fn is a
// method expression (or takes c as one), and the goroutine's bottom frame
// only calls it and exited: an idle goroutine's stack holds that frame,
// and every goroutine's starting size depends on it (see "Goroutine
// stacks" in doc.go).
func (c *engineConn) spawn(fn func(*engineConn) error) {
	c.g.Go(func() error { return c.exited(fn(c)) })
}

// exited is the end of one of the connection's goroutines, which returned
// err. A goroutine that returns nil either saw the connection end (reader,
// writer, heartbeat) or is done with its job while the connection goes on
// (upgrade): neither ends the connection. The last one out reports the end.
func (c *engineConn) exited(err error) error {
	if err != nil {
		c.fail(err)
	}
	if c.running.Add(-1) == 0 {
		c.fail(ErrTransportClose) // a no-op: some goroutine failed first
		c.rtr.Close()
		c.wtr.Close()
		c.dropUpgrade()
		c.log.connEnded(c.open.SID, c.err)
		c.handler.connEnded(c.err)
		close(c.done)
	}
	return err
}

// fail records the connection's first error and stops every goroutine.
func (c *engineConn) fail(err error) {
	c.errOnce.Do(func() {
		c.err = err
		c.cancel(err)
		c.abortMu.Lock()
		defer c.abortMu.Unlock()
		for _, tr := range c.inUse {
			tr.Abort() // ends a read or write in flight
		}
		if u := c.upg.Load(); u != nil {
			u.cancel() // ends the upgrade's dial or probe
		}
		if c.beat != nil {
			c.beat.Reset(0) // ends the heartbeat
		}
		c.wake() // ends the writer
	})
}

// adopt adds tr to the transports that fail aborts, and reports false,
// adding nothing, when the connection has failed already.
func (c *engineConn) adopt(tr transport.Conn) bool {
	c.abortMu.Lock()
	defer c.abortMu.Unlock()
	if c.ctx.Err() != nil { // fail cancels before it takes abortMu
		return false
	}
	c.inUse = append(c.inUse, tr)
	return true
}

// healthy reports whether the connection has lasted one ping interval (the
// server's, from the open packet): long enough for a heartbeat to show it
// works. Reconnection's backoff starts again only after a healthy one.
func (c *engineConn) healthy() bool {
	return time.Since(c.started) >= c.open.PingInterval
}

// endedError is what a call on an ended connection returns.
func (c *engineConn) endedError() error {
	return fmt.Errorf("%w: %w", ErrClosed, context.Cause(c.ctx))
}

// ended reports whether the connection has ended.
func (c *engineConn) ended() bool {
	// Err, not a select on Done: Done makes a channel that an idle
	// connection, which nothing else asks for it, would keep.
	return c.ctx.Err() != nil
}

// shutdown asks the writer to close the connection after what is queued,
// without waiting for it. With the queue full it cuts the connection.
func (c *engineConn) shutdown() {
	select {
	case c.out <- outgoing{op: opClose}:
	default:
		c.fail(errClientClose)
	}
}

// close ends the connection from this side: it writes what is queued, closes
// the transport and waits for every goroutine. It is idempotent and bounded
// by closeGrace (twice: to enqueue, and to finish) however the server
// behaves.
func (c *engineConn) close() {
	t := time.NewTimer(closeGrace)
	defer t.Stop()
	select {
	case c.out <- outgoing{op: opClose}:
		select {
		case <-c.done:
		case <-t.C:
		}
	case <-c.ctx.Done():
	case <-t.C:
	}
	c.fail(errClientClose)
	c.g.Wait()
}
