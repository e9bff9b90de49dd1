package sio

import (
	"context"
	"sync"
	"time"

	"github.com/sio-go/sio/packet"
)

// sioConn is the Socket.IO side of one Engine.IO connection: it decodes the
// messages the connection's reader hands it and routes each packet to the
// socket of its namespace, remembers the namespaces being left (see
// awaitLeft) and the 2.x server's own join of the main namespace, and sends
// the Socket.IO packets of the sockets on it. The engineConn under it knows
// frames and sessions only. The Manager and its sockets reach the
// connection through sioConn's methods.
//
// Methods may be called from any goroutine; handleMessage and connEnded are
// called by the connection's goroutines only.
type sioConn struct {
	eng   *engineConn
	m     *Manager
	codec packet.Codec
	dec   packet.Decoder // the reader's own

	// rootMu orders the reader's look-up of the socket for "/" with the
	// setting of rootJoined, against sendConnect's check of it: see
	// handleMessage. Lock order: rootMu before Manager.mu.
	rootMu sync.Mutex
	// rootJoined records that a Socket.IO 2.x server joined the main
	// namespace by itself (it sends 40 after the handshake).
	rootJoined bool

	leftMu sync.Mutex       // a leaf lock
	left   map[string]*gate // the gate of the last DISCONNECT sent for a namespace
}

// dialSIO opens a connection for m, with a fresh Socket.IO decoder. cfg is
// m's config, or a copy with the transports in another order (see
// Manager.dial).
func dialSIO(ctx context.Context, m *Manager, cfg *config) (*sioConn, error) {
	c := &sioConn{m: m, codec: m.codec, dec: m.codec.NewDecoder(m.cfg.maxAttachments)}
	if _, err := dialEngine(ctx, cfg, &m.tcfg, func(e *engineConn) connHandler {
		c.eng = e // before the connection's goroutines start
		return c
	}); err != nil {
		return nil, err
	}
	return c, nil
}

// handleMessage decodes a Socket.IO packet and hands it to its socket. It
// runs on the connection's reader goroutine and never blocks.
func (c *sioConn) handleMessage(f packet.Frame) error {
	p, ok, err := c.dec.Decode(f)
	if err != nil || !ok {
		return err
	}
	var s *Socket
	if c.eng.eio == 3 && p.Type == packet.Connect && p.Namespace == "/" {
		// A Socket.IO 2.x server joins the main namespace by itself, as
		// soon as the connection opens: remember it for the socket of "/",
		// which may not be joining on c yet (it may not exist, or wait to
		// be rejoined after a reconnection) and then finds the flag in
		// sendConnect. The look-up and the flag go together under rootMu:
		// sendConnect, which checks the flag under rootMu too, either
		// finds it set or is found joining.
		c.rootMu.Lock()
		s = c.m.socketFor(p.Namespace)
		c.rootJoined = true
		c.rootMu.Unlock()
		if s == nil {
			return nil
		}
	} else if s = c.m.socketFor(p.Namespace); s == nil {
		if p.Type == packet.Connect {
			// A join this client gave up on (its context ended) was
			// accepted after all: leave, now that leaving is valid.
			c.sendDisconnect(context.Background(), p.Namespace, nil, false)
		}
		return nil // a namespace this client left or never joined
	}
	return s.handle(c, p)
}

// connEnded is called once, when the connection has ended.
func (c *sioConn) connEnded(err error) { c.m.connEnded(c, err) }

// rootJoinedByServer reports whether a Socket.IO 2.x server already joined
// the main namespace on c by itself.
func (c *sioConn) rootJoinedByServer() bool {
	c.rootMu.Lock()
	defer c.rootMu.Unlock()
	return c.rootJoined
}

// send queues a Socket.IO message (see engineConn.send).
func (c *sioConn) send(ctx context.Context, m packet.Message, g *gate, last bool) error {
	return c.eng.send(ctx, m, g, last)
}

// trySend queues a message if there is room now (see engineConn.trySend).
func (c *sioConn) trySend(m packet.Message, g *gate, last bool) error {
	return c.eng.trySend(m, g, last)
}

// sendDisconnect sends DISCONNECT for namespace nsp as the last message of
// gate g (nil for none), and remembers it for awaitLeft. With wait it waits
// up to closeGrace for room in the send queue; without, it gives up at once,
// as the connection's reader must (the packet is a courtesy). ctx bounds the
// wait too.
func (c *sioConn) sendDisconnect(ctx context.Context, nsp string, g *gate, wait bool) {
	msg, err := c.codec.Encode(packet.Header{Type: packet.Disconnect, Namespace: nsp}, "", nil)
	if err != nil {
		return
	}
	if g == nil {
		g = newGate()
	}
	if wait {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, closeGrace)
		defer cancel()
		err = c.send(ctx, msg, g, true)
	} else {
		err = c.trySend(msg, g, true)
	}
	if err != nil {
		return
	}
	c.leftMu.Lock()
	defer c.leftMu.Unlock()
	if c.left == nil {
		c.left = make(map[string]*gate)
	}
	c.left[nsp] = g
}

// rejoinGap is how long after its DISCONNECT for a namespace went out a
// connection waits before it sends a CONNECT for the same namespace (see
// awaitLeft).
const rejoinGap = 20 * time.Millisecond

// awaitLeft holds a CONNECT for namespace nsp until the server has surely
// removed the socket that this connection's last DISCONNECT for nsp left:
// the official server closes the whole connection ("invalid state") on a
// CONNECT for a namespace whose socket it still has, and it removes one only
// once it has handled every packet it read together with the DISCONNECT.
// So the CONNECT waits for the DISCONNECT to be written (over polling, for
// the server's answer to its POST), then until rejoinGap has passed since,
// so that the two do not reach the server in one read. ctx bounds the wait.
// The wait is the caller's: no timer outlives it.
func (c *sioConn) awaitLeft(ctx context.Context, nsp string) error {
	c.leftMu.Lock()
	g := c.left[nsp]
	c.leftMu.Unlock()
	if g == nil {
		return nil
	}
	select {
	case <-g.written:
	case <-c.eng.ctx.Done():
		return c.endedError()
	case <-ctx.Done():
		return ctx.Err()
	}
	if d := rejoinGap - time.Since(g.at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.eng.ctx.Done():
			return c.endedError()
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	c.leftMu.Lock()
	if c.left[nsp] == g {
		delete(c.left, nsp)
	}
	c.leftMu.Unlock()
	return nil
}

// The connection's state, for the Manager and the sockets.

// eio returns the Engine.IO version spoken: 4, or 3 (Socket.IO 2.x).
func (c *sioConn) eio() int { return c.eng.eio }

// sid returns the Engine.IO session id.
func (c *sioConn) sid() string { return c.eng.open.SID }

// transportName returns the wire name of the transport the connection is
// on now.
func (c *sioConn) transportName() string { return c.eng.cur.Load().Name() }

// ended reports whether the connection has ended.
func (c *sioConn) ended() bool { return c.eng.ended() }

// endedError is what a call on an ended connection returns.
func (c *sioConn) endedError() error { return c.eng.endedError() }

// lost returns a channel closed when the connection fails (before
// connEnded has run).
func (c *sioConn) lost() <-chan struct{} { return c.eng.ctx.Done() }

// cause returns why the connection ended, nil while it has not.
func (c *sioConn) cause() error { return context.Cause(c.eng.ctx) }

// done returns a channel closed once the connection's goroutines have
// returned and connEnded has run.
func (c *sioConn) done() <-chan struct{} { return c.eng.done }

// healthy reports whether the connection lasted one ping interval.
func (c *sioConn) healthy() bool { return c.eng.healthy() }

// shutdown asks the connection to close after what is queued, without
// waiting.
func (c *sioConn) shutdown() { c.eng.shutdown() }

// close closes the connection and waits for its goroutines.
func (c *sioConn) close() { c.eng.close() }
