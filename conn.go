package sio

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/transport"
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
// (Socket.IO 2.x and 3.x): the default maxHttpBufferSize of their engine.io,
// which applies to a polling body and a WebSocket message alike.
const defaultMaxPayload = 1e6

// closeGrace bounds how long closing waits for queued frames to be written
// and for the server to answer the WebSocket close before the connection is
// cut.
const closeGrace = 2 * time.Second

// outgoing is one item of the writer's queue: a message, or the request to
// close the connection after everything queued before it.
type outgoing struct {
	msg   packet.Message
	close bool
	gate  *gate // the sender's: the writer drops msg once gate is shut
	last  bool  // msg shuts gate: it is written, what follows it is dropped
}

// A gate lets a sender withdraw what it queued and has not been written
// yet: the writer drops every message whose gate is shut. A sender's last
// message shuts its gate as the writer takes it (so everything the sender
// queued before it is written, nothing after it), and written closes once
// that message is written. Shut may also be called by the sender itself,
// when nothing more of its is to be written.
type gate struct {
	shut    atomic.Bool
	written chan struct{} // closed once the last message has been written
	at      time.Time     // when; set before written closes
	closed  bool          // written is closed; the writer's own
}

func newGate() *gate { return &gate{written: make(chan struct{})} }

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
	pong     chan struct{} // a ping is waiting for its pong
	ping     chan struct{} // Engine.IO v3: the heartbeat asks the writer to ping
	pinged   chan struct{} // v4: a ping arrived; v3: a pong arrived

	// The upgrade from polling to WebSocket hands the new transport to the
	// writer, then to the reader, through these; see upgrade.
	readerPaused   chan struct{}
	switchWriter   chan transport.Conn
	writerSwitched chan struct{}
	switchReader   chan transport.Conn

	abortMu sync.Mutex
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

// dialEngine opens an Engine.IO connection: it connects the first transport
// of cfg.transports that the server accepts, reads the open packet and
// starts the connection's goroutines (and the upgrade to WebSocket, when the
// connection starts on polling and both sides allow it).
//
// Unless cfg pins a version, it asks for Engine.IO v4 and falls back to v3
// when the server shows it speaks only that (Socket.IO 2.x): a v3 polling
// body, an open packet without maxPayload, or "Unsupported protocol
// version". A v3/v4 server that allows both keeps speaking v4.
//
// newHandler makes the handler of the connection, before its goroutines
// start.
func dialEngine(ctx context.Context, cfg *config, tcfg *transport.Config, newHandler func(*engineConn) connHandler) (*engineConn, error) {
	for i, t := range cfg.transports {
		tc := *tcfg
		tc.EIO = cfg.eio
		if tc.EIO == 0 {
			tc.EIO = 4
		}
		g := new(errgroup.Group)
		tr, open, err := handshake(ctx, t, &tc, cfg.eio == 0, g)
		if err != nil && cfg.eio == 0 && speaksV3(err) {
			tc.EIO = 3
			g = new(errgroup.Group)
			tr, open, err = handshake(ctx, t, &tc, false, g)
		}
		var he *HandshakeError
		if errors.As(err, &he) && he.Code == transport.CodeTransportUnknown && i+1 < len(cfg.transports) {
			continue // the server does not offer this one: try the next
		}
		if err != nil {
			return nil, err
		}
		var upgradeTo *transport.Config
		if t == Polling && slices.Contains(cfg.transports, WebSocket) && slices.Contains(open.Upgrades, transport.NameWebSocket) {
			upgradeTo = &tc
		}
		cfg.log.handshake(tc.URL, t, tc.EIO, &open)
		return startEngine(g, tr, tc.EIO, open, newHandler, upgradeTo, cfg.log), nil
	}
	return nil, fmt.Errorf("sio: no transport to try")
}

// errOpenV3 reports a WebSocket session where v4 was asked for but the
// server speaks v3: it ignored EIO=4 (Socket.IO 2.x does).
var errOpenV3 = fmt.Errorf("%w: the server speaks Engine.IO v3 (Socket.IO 2.x)", ErrProtocol)

// speaksV3 reports whether a failed v4 handshake says the server speaks
// only Engine.IO v3.
func speaksV3(err error) bool {
	var he *HandshakeError
	return errors.Is(err, errOpenV3) || errors.Is(err, transport.ErrEIO3) ||
		errors.As(err, &he) && he.Code == transport.CodeUnsupportedVersion
}

// v3Peek bounds the wait for the unasked CONNECT that tells a Socket.IO 2.x
// server over WebSocket (it sends it right after the open packet).
const v3Peek = 250 * time.Millisecond

// handshake connects one transport for a new session and reads its open
// packet.
// With peek, a WebSocket open packet without maxPayload is checked for a v3
// server (see peekV3), whose read-ahead runs in g: the errgroup of the
// connection to be.
func handshake(ctx context.Context, t Transport, tc *transport.Config, peek bool, g *errgroup.Group) (transport.Conn, packet.Open, error) {
	var tr transport.Conn
	var err error
	switch t {
	case Polling:
		tr, err = transport.DialPolling(ctx, *tc) // tells a v3 body itself
	default:
		tr, err = transport.DialWebSocket(ctx, *tc, "")
	}
	if err != nil {
		return nil, packet.Open{}, err
	}
	open, err := readOpen(ctx, tr)
	if err == nil && t == WebSocket && tc.EIO == 4 && open.MaxPayload == 0 && peek {
		// No maxPayload: Socket.IO 3.x (v4) or 2.x (v3, which ignored
		// EIO=4). Only 2.x sends a CONNECT nobody asked for, at once.
		tr, err = peekV3(ctx, tr, g)
	}
	if err != nil {
		tr.Close()
		return nil, packet.Open{}, fmt.Errorf("sio: handshake over %s: %w", tr.Name(), err)
	}
	return tr, open, nil
}

// peekV3 waits a short while for what follows an open packet without
// maxPayload: a CONNECT means a v3 server (errOpenV3). Otherwise the server
// speaks v4 and tr comes back wrapped in a readAhead that hands the frame,
// or the read still pending, to the connection's reader: the read is never
// cancelled, since cancelling a WebSocket read closes the WebSocket.
func peekV3(ctx context.Context, tr transport.Conn, g *errgroup.Group) (transport.Conn, error) {
	ra := newReadAhead(tr, g)
	timer := time.NewTimer(v3Peek)
	defer timer.Stop()
	select {
	case r := <-ra.res:
		switch {
		case r.err != nil:
			return ra, r.err
		case r.f.Type() == packet.FrameMessage && string(r.f.Payload()) == "0":
			return ra, errOpenV3
		}
		ra.res <- r // for the reader
	case <-timer.C:
	case <-ctx.Done():
		return ra, ctx.Err()
	}
	return ra, nil
}

// readAhead is a transport whose first frame is read by a goroutine of the
// connection's errgroup, started before the connection's reader exists. The
// reader takes that frame first; Close ends the goroutine and waits for it
// (so does the errgroup's Wait).
type readAhead struct {
	transport.Conn
	res  chan readResult // the first read's result, buffered
	done chan struct{}   // closed when the goroutine has returned
	took bool            // the reader has taken the first result
}

type readResult struct {
	f   packet.Frame
	err error
}

func newReadAhead(tr transport.Conn, g *errgroup.Group) *readAhead {
	ra := &readAhead{Conn: tr, res: make(chan readResult, 1), done: make(chan struct{})}
	g.Go(func() error {
		defer close(ra.done)
		f, err := tr.Read(context.Background()) // ended by Close at the latest
		ra.res <- readResult{f, err}
		return nil
	})
	return ra
}

func (ra *readAhead) Read(ctx context.Context) (packet.Frame, error) {
	if ra.took {
		return ra.Conn.Read(ctx)
	}
	select {
	case r := <-ra.res:
		ra.took = true
		return r.f, r.err
	case <-ctx.Done():
		return packet.Frame{}, ctx.Err()
	}
}

// Close closes the transport and waits for the read ahead to return.
func (ra *readAhead) Close() error {
	err := ra.Conn.Close()
	<-ra.done
	return err
}

// Abort aborts the transport and waits for the read ahead to return.
func (ra *readAhead) Abort() {
	ra.Conn.Abort()
	<-ra.done
}

// readOpen reads and checks the open packet that starts a session.
func readOpen(ctx context.Context, tr transport.Conn) (packet.Open, error) {
	f, err := tr.Read(ctx)
	if err != nil {
		return packet.Open{}, err
	}
	if f.Type() != packet.FrameOpen {
		return packet.Open{}, fmt.Errorf("%w: expected the open packet, got %s", ErrProtocol, f.Type())
	}
	return packet.ParseOpen(f.Payload())
}

// startEngine starts the goroutines of a connection whose handshake is done.
// With upgradeTo set, a fourth goroutine tries the upgrade to WebSocket.
func startEngine(g *errgroup.Group, tr transport.Conn, eio int, open packet.Open, newHandler func(*engineConn) connHandler, upgradeTo *transport.Config, log *logger) *engineConn {
	// The errgroup needs no context of its own: every goroutine's exit
	// goes through fail, which cancels ctx with the first error.
	ctx, cancel := context.WithCancelCause(context.Background())
	c := &engineConn{
		rtr:        tr,
		wtr:        tr,
		open:       open,
		started:    time.Now(),
		maxPayload: cmp.Or(open.MaxPayload, defaultMaxPayload),
		log:        log,
		ctx:        ctx,
		cancel:     cancel,
		g:          g,
		eio:        eio,
		pong:       make(chan struct{}, 1),
		ping:       make(chan struct{}, 1),
		pinged:     make(chan struct{}, 1),
		inUse:      []transport.Conn{tr},
		done:       make(chan struct{}),
	}
	queue, batch := writeQueueLen, maxBatch
	if tr.Name() == transport.NamePolling && upgradeTo == nil {
		queue, batch = pollingWriteQueueLen, pollingWriteQueueLen
	}
	c.out, c.maxBatch = make(chan outgoing, queue), batch
	c.cur.Store(&transportRef{tr})
	c.handler = newHandler(c)
	if upgradeTo == nil {
		c.running.Store(3)
	} else {
		c.readerPaused = make(chan struct{})
		c.switchWriter = make(chan transport.Conn, 1)
		c.writerSwitched = make(chan struct{})
		c.switchReader = make(chan transport.Conn, 1)
		c.running.Store(4)
		c.spawn(func() error { return c.upgrade(upgradeTo) })
	}
	c.spawn(c.readLoop)
	c.spawn(c.writeLoop)
	c.spawn(c.heartbeat)
	return c
}

func (c *engineConn) spawn(fn func() error) {
	c.g.Go(func() error {
		// A goroutine that returns nil either saw the connection end
		// (reader, writer, heartbeat) or is done with its job while the
		// connection goes on (upgrade): neither ends the connection.
		err := fn()
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
	})
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

// readLoop is the reader goroutine.
func (c *engineConn) readLoop() error {
	for {
		f, err := c.rtr.Read(context.Background())
		if errors.Is(err, transport.ErrPaused) {
			// Polling paused for the upgrade: wait for the WebSocket.
			close(c.readerPaused)
			select {
			case c.rtr = <-c.switchReader:
				continue
			case <-c.ctx.Done():
				return context.Cause(c.ctx)
			}
		}
		if err != nil {
			return c.readError(err)
		}
		c.log.packets(dirRecv, f)
		switch f.Type() {
		case packet.FramePing:
			select {
			case c.pong <- struct{}{}:
			default: // a pong is already due
			}
			if c.eio != 3 {
				c.heard()
			}
		case packet.FramePong:
			if c.eio == 3 {
				c.heard()
			}
		case packet.FrameMessage:
			if err := c.handler.handleMessage(f); err != nil {
				return fmt.Errorf("%w: %w", ErrParse, err)
			}
		case packet.FrameClose:
			return fmt.Errorf("%w: the server sent close", ErrTransportClose)
		case packet.FrameNoop:
		default:
			return fmt.Errorf("%w: unexpected %s packet", ErrParse, f.Type())
		}
	}
}

// heard tells the heartbeat that the server's side of it arrived.
func (c *engineConn) heard() {
	select {
	case c.pinged <- struct{}{}:
	default:
	}
}

// readError classifies the error that ended the reader.
func (c *engineConn) readError(err error) error {
	if cause := context.Cause(c.ctx); cause != nil {
		return cause // another goroutine ended the connection first
	}
	if c.closing.Load() {
		return errClientClose
	}
	var ce *transport.CloseError
	switch {
	case errors.As(err, &ce), errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		return fmt.Errorf("%w: %w", ErrTransportClose, err)
	case errors.Is(err, packet.ErrBadFrame), errors.Is(err, packet.ErrBadPolling), errors.Is(err, transport.ErrInvalidUTF8):
		return fmt.Errorf("%w: %w", ErrParse, err)
	}
	return fmt.Errorf("%w: %w", ErrTransportError, err)
}

// writeLoop is the writer goroutine: the only one that writes the transport.
func (c *engineConn) writeLoop() error {
	pong := packet.TextFrame(packet.FramePong, "")
	ping := packet.TextFrame(packet.FramePing, "")
	var batch []packet.Frame
	var sent []*gate // shut by the messages in batch
	for {
		if cap(batch) > 2*c.maxBatch {
			batch = nil // a burst of attachments grew it: give it back
		}
		batch, sent = batch[:0], sent[:0]
		var item outgoing
		// Heartbeats go first: a full data queue must not delay them.
		select {
		case <-c.pong:
			batch = append(batch, pong)
		case <-c.ping:
			batch = append(batch, ping)
		default:
			select {
			case <-c.ctx.Done():
				return nil
			case <-c.pong:
				batch = append(batch, pong)
			case <-c.ping:
				batch = append(batch, ping)
			case ws := <-c.switchWriter:
				if err := c.switchTo(ws); err != nil {
					return err
				}
				continue
			case item = <-c.out:
				if item.close {
					return c.closeGracefully(batch)
				}
				batch, sent = appendItem(batch, sent, item)
			}
		}
		// Take whatever else is queued, up to a batch.
	drain:
		for len(batch) < c.maxBatch {
			select {
			case item = <-c.out:
				if item.close {
					return c.closeGracefully(batch)
				}
				batch, sent = appendItem(batch, sent, item)
			default:
				break drain
			}
		}
		c.log.packets(dirSend, batch...)
		if err := c.wtr.Write(context.Background(), batch); err != nil {
			return c.writeError(err)
		}
		now := time.Now()
		for _, g := range sent {
			if !g.closed { // a second last message of a gate: none of ours
				g.at, g.closed = now, true
				close(g.written)
			}
		}
		clear(batch) // drop references to written payloads
	}
}

// appendItem adds the frames of item's message to batch, unless its gate is
// shut, and the gate it shuts, if any, to sent.
func appendItem(batch []packet.Frame, sent []*gate, item outgoing) ([]packet.Frame, []*gate) {
	if g := item.gate; g != nil {
		if g.shut.Load() && !item.last {
			return batch, sent // withdrawn
		}
		if item.last {
			g.shut.Store(true)
			sent = append(sent, g)
		}
	}
	batch = append(batch, item.msg.Head)
	for _, a := range item.msg.Attachments {
		batch = append(batch, packet.Frame{Data: a, Binary: true})
	}
	return batch, sent
}

// closeGracefully writes what is left, then closes the transport the polite
// way, and ends the connection as closed by the client.
func (c *engineConn) closeGracefully(batch []packet.Frame) error {
	if len(batch) > 0 {
		c.log.packets(dirSend, batch...)
		if err := c.wtr.Write(context.Background(), batch); err != nil {
			return c.writeError(err)
		}
	}
	// Close while the context is alive: cancelling it first would make
	// the transport drop the connection instead of closing it cleanly.
	c.closing.Store(true)
	c.wtr.Close()
	return errClientClose
}

// switchTo completes the upgrade on the writer's side: everything queued
// before has gone out on polling; the upgrade packet goes on the WebSocket,
// and so does everything after it.
func (c *engineConn) switchTo(ws transport.Conn) error {
	if err := ws.Write(context.Background(), []packet.Frame{packet.TextFrame(packet.FrameUpgrade, "")}); err != nil {
		ws.Close()
		return c.writeError(err)
	}
	old := c.wtr
	c.wtr = ws
	c.cur.Store(&transportRef{ws})
	old.Abort() // the session lives on over the WebSocket
	c.abortMu.Lock()
	c.inUse = slices.DeleteFunc(c.inUse, func(tr transport.Conn) bool { return tr == old })
	c.abortMu.Unlock()
	close(c.writerSwitched)
	return nil
}

func (c *engineConn) writeError(err error) error {
	if cause := context.Cause(c.ctx); cause != nil {
		return cause
	}
	return fmt.Errorf("%w: %w", ErrTransportError, err)
}

// heartbeat is the heartbeat goroutine.
//
// Engine.IO v4: the server pings; the connection is dead when no ping came
// for pingInterval + pingTimeout. Engine.IO v3: the client pings every
// pingInterval (after the previous pong) and the connection is dead when a
// pong does not come within pingTimeout.
func (c *engineConn) heartbeat() error {
	if c.eio == 3 {
		return c.heartbeatV3()
	}
	limit := c.open.PingInterval + c.open.PingTimeout
	t := time.NewTimer(limit)
	defer t.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return nil
		case <-c.pinged:
			t.Reset(limit)
		case <-t.C:
			return fmt.Errorf("%w: no ping from the server in %v", ErrPingTimeout, limit)
		}
	}
}

func (c *engineConn) heartbeatV3() error {
	next := time.NewTimer(c.open.PingInterval)
	defer next.Stop()
	deadline := time.NewTimer(c.open.PingTimeout)
	deadline.Stop()
	defer deadline.Stop()
	for {
		select {
		case <-c.ctx.Done():
			return nil
		case <-next.C:
			select {
			case c.ping <- struct{}{}:
			default:
			}
			deadline.Reset(c.open.PingTimeout)
		case <-c.pinged: // the pong
			deadline.Stop()
			next.Reset(c.open.PingInterval)
		case <-deadline.C:
			return fmt.Errorf("%w: no pong from the server in %v", ErrPingTimeout, c.open.PingTimeout)
		}
	}
}

// send queues a message for the writer. ctx bounds only the wait for room in
// the queue; the write itself belongs to the connection. The message is
// dropped unwritten if g (nil for none) is shut first; with last, it shuts g.
func (c *engineConn) send(ctx context.Context, m packet.Message, g *gate, last bool) error {
	item := outgoing{msg: m, gate: g, last: last}
	if err := c.checkSize(item.msg); err != nil {
		return err
	}
	if c.ended() {
		// Checked first: a select with both cases ready picks one at
		// random, and a message queued on an ended connection is lost.
		return c.endedError()
	}
	select {
	case c.out <- item:
		return nil
	case <-c.ctx.Done():
		return c.endedError()
	case <-ctx.Done():
		return ctx.Err()
	}
}

// trySend is send when the writer's queue has room now; it returns
// ErrDropped otherwise.
func (c *engineConn) trySend(m packet.Message, g *gate, last bool) error {
	item := outgoing{msg: m, gate: g, last: last}
	if err := c.checkSize(item.msg); err != nil {
		return err
	}
	select {
	case c.out <- item:
		return nil
	case <-c.ctx.Done():
		return c.endedError()
	default:
		return ErrDropped
	}
}

// checkSize refuses a message with a frame over the server's maxPayload as
// the current transport encodes it (polling sends binary as base64), which
// the server would answer by dropping the connection.
func (c *engineConn) checkSize(m packet.Message) error {
	if c.maxPayload <= 0 {
		return nil
	}
	tr := c.cur.Load()
	if n := int64(tr.FrameSize(m.Head)); n > c.maxPayload {
		return fmt.Errorf("%w: a %d-byte message over %s, over the server's maxPayload of %d", ErrPayloadTooLarge, n, tr.Name(), c.maxPayload)
	}
	for _, a := range m.Attachments {
		if n := int64(tr.FrameSize(packet.Frame{Data: a, Binary: true})); n > c.maxPayload {
			return fmt.Errorf("%w: a %d-byte attachment over %s, over the server's maxPayload of %d", ErrPayloadTooLarge, n, tr.Name(), c.maxPayload)
		}
	}
	return nil
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
	select {
	case <-c.ctx.Done():
		return true
	default:
		return false
	}
}

// shutdown asks the writer to close the connection after what is queued,
// without waiting for it. With the queue full it cuts the connection.
func (c *engineConn) shutdown() {
	select {
	case c.out <- outgoing{close: true}:
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
	case c.out <- outgoing{close: true}:
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

// upgradeTimeout bounds the upgrade from polling to WebSocket: the probe,
// and the wait for the pending poll to return once polling is paused.
const upgradeTimeout = 10 * time.Second

// upgrade is the fourth goroutine of a connection that starts on polling.
// It probes a WebSocket to the same session (2probe, 3probe); when the probe
// fails the connection stays on polling and the goroutine returns nil. When
// it succeeds, polling is paused, the poll in flight returns (the server
// answers it with a noop), the writer sends the upgrade packet on the
// WebSocket and moves to it, and the reader follows: nothing queued is lost
// or reordered.
func (c *engineConn) upgrade(cfg *transport.Config) error {
	ctx, cancel := context.WithTimeout(c.ctx, upgradeTimeout)
	defer cancel()
	ws, err := transport.DialWebSocket(ctx, *cfg, c.open.SID)
	if err != nil {
		return nil
	}
	if !probe(ctx, ws) {
		ws.Close()
		return nil
	}
	pauser, ok := c.rtr.(transport.Pauser)
	if !ok {
		ws.Close()
		return nil
	}
	pauser.Pause()
	select {
	case <-c.readerPaused:
	case <-ctx.Done():
		ws.Close()
		if c.ctx.Err() != nil {
			return nil // the connection is ending anyway
		}
		return fmt.Errorf("%w: upgrade: the pending poll did not return in %v", ErrTransportError, upgradeTimeout)
	}
	if !c.adopt(ws) {
		ws.Abort()
		return nil // the connection is ending anyway
	}
	c.switchWriter <- ws // buffered; the writer owns ws from here
	select {
	case <-c.writerSwitched:
		c.switchReader <- ws // buffered; the reader waits for it
		c.log.upgraded(c.open.SID)
	case <-c.ctx.Done():
	}
	return nil
}

// dropUpgrade closes a WebSocket that an upgrade had handed over when the
// connection ended before the writer or the reader took it.
func (c *engineConn) dropUpgrade() {
	for _, ch := range []chan transport.Conn{c.switchWriter, c.switchReader} {
		select {
		case ws := <-ch:
			ws.Close()
		default:
		}
	}
}

// probe checks that a WebSocket to the session carries packets.
func probe(ctx context.Context, ws transport.Conn) bool {
	if ws.Write(ctx, []packet.Frame{packet.TextFrame(packet.FramePing, "probe")}) != nil {
		return false
	}
	f, err := ws.Read(ctx)
	return err == nil && f.Type() == packet.FramePong && string(f.Payload()) == "probe"
}
