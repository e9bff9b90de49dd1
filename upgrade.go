package sio

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/sio-go/sio/packet"
	"github.com/sio-go/sio/transport"
)

// upgrading is an upgrade from polling to WebSocket while it may still
// happen. The upgrade goroutine holds the writer during the probe (an
// opHold in its queue), then hands the new transport (nil when the probe
// failed) to the writer, then to the reader, through these channels.
// Whoever ends the upgrade clears engineConn.upg (the upgrade goroutine
// when it gives up before the probe, the writer when the probe failed, the
// reader when it takes the WebSocket), so that an upgraded connection keeps
// none of it.
type upgrading struct {
	writerHeld     chan struct{} // closed by the writer once it holds
	readerPaused   chan struct{}
	switchWriter   chan transport.Conn
	writerSwitched chan struct{}
	switchReader   chan transport.Conn

	// ctx bounds the upgrade. It is not derived from the connection's
	// context, whose list of children would outlive it: fail cancels it.
	ctx    context.Context
	cancel context.CancelFunc
}

func newUpgrading() *upgrading {
	u := &upgrading{
		writerHeld:     make(chan struct{}),
		readerPaused:   make(chan struct{}),
		switchWriter:   make(chan transport.Conn, 1),
		writerSwitched: make(chan struct{}),
		switchReader:   make(chan transport.Conn, 1),
	}
	u.ctx, u.cancel = context.WithTimeout(context.Background(), upgradeTimeout)
	return u
}

// holdForProbe is the writer's side of an upgrade probe. Like the official
// client, it sends nothing over polling while the probe runs (some servers
// refuse polling POSTs then): what is queued meanwhile, pongs included,
// waits in the queue, in order, until the upgrade goroutine tells the
// probe's outcome, then goes over the WebSocket (switchTo) or, when the
// probe failed, over polling as before.
func (c *engineConn) holdForProbe() error {
	u := c.upg.Load() // set: the upgrade holds the writer
	close(u.writerHeld)
	select {
	case ws := <-u.switchWriter:
		if ws == nil {
			c.upg.Store(nil) // stay on polling, for good
			return nil
		}
		return c.switchTo(u, ws)
	case <-c.ctx.Done():
		return nil
	}
}

// switchTo completes the upgrade on the writer's side: everything queued
// before has gone out on polling; the upgrade packet goes on the WebSocket,
// and so does everything after it.
func (c *engineConn) switchTo(u *upgrading, ws transport.Conn) error {
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
	close(u.writerSwitched)
	return nil
}

// upgradeTimeout bounds the upgrade from polling to WebSocket: the probe,
// and the wait for the pending poll to return once polling is paused.
const upgradeTimeout = 10 * time.Second

// upgrade is the fourth goroutine of a connection that starts on polling.
// It opens a WebSocket to the same session, holds the writer (nothing goes
// over polling from then on) and probes the WebSocket (2probe, 3probe); when
// the probe fails the writer goes on over polling and the goroutine returns
// nil. When it succeeds, polling is paused, the poll in flight returns (the
// server answers it with a noop), the writer sends the upgrade packet on the
// WebSocket and moves to it, and the reader follows (on a fresh goroutine,
// so that the stack polling grew is freed): nothing queued is lost or
// reordered.
func (c *engineConn) upgrade(u *upgrading, cfg *transport.Config) error {
	ctx := u.ctx
	defer u.cancel()
	held := false
	defer func() {
		if !held { // given up before the probe
			c.upg.Store(nil)
		}
	}()
	ws, err := transport.DialWebSocket(ctx, *cfg, c.open.SID)
	if err != nil {
		return nil
	}
	// The writer takes the hold after what was queued before it: no POST
	// is in flight from then until it learns the outcome.
	select {
	case c.out <- outgoing{op: opHold}:
		held = true
	case <-ctx.Done():
		ws.Close()
		return nil
	}
	switched := false
	defer func() {
		if !switched {
			u.switchWriter <- nil // buffered: the writer goes on over polling
		}
	}()
	select {
	case <-u.writerHeld:
	case <-ctx.Done():
		ws.Close()
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
	case <-u.readerPaused:
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
	u.switchWriter <- ws // buffered; the writer owns ws from here
	switched = true
	select {
	case <-u.writerSwitched:
		u.switchReader <- ws // buffered; the reader waits for it
		c.log.upgraded(c.open.SID)
	case <-c.ctx.Done():
	}
	return nil
}

// dropUpgrade closes a WebSocket that an upgrade had handed over when the
// connection ended before the writer or the reader took it.
func (c *engineConn) dropUpgrade() {
	u := c.upg.Load()
	if u == nil {
		return
	}
	for _, ch := range []chan transport.Conn{u.switchWriter, u.switchReader} {
		select {
		case ws := <-ch:
			if ws != nil { // nil: a failed probe's outcome, not taken
				ws.Close()
			}
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
