package sio

import (
	"context"
	"time"

	"github.com/sio-go/sio/packet"
)

// rejoinGap is how long after its DISCONNECT for a namespace went out a
// connection waits before it sends a CONNECT for the same namespace (see
// awaitLeft).
const rejoinGap = 20 * time.Millisecond

// sendLeave queues m, the DISCONNECT of namespace nsp, as the last message
// of gate g, and remembers it for awaitLeft. With wait it waits for room in
// the queue, as long as ctx allows; without, it gives up at once when the
// queue is full.
func (c *engineConn) sendLeave(ctx context.Context, nsp string, m packet.Message, g *gate, wait bool) {
	if g == nil {
		g = newGate()
	}
	var err error
	if wait {
		err = c.send(ctx, m, g, true)
	} else {
		err = c.trySend(m, g, true)
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

// awaitLeft holds a CONNECT for namespace nsp until the server has surely
// removed the socket that this connection's last DISCONNECT for nsp left:
// the official server closes the whole connection ("invalid state") on a
// CONNECT for a namespace whose socket it still has, and it removes one only
// once it has handled every packet it read together with the DISCONNECT.
// So the CONNECT waits for the DISCONNECT to be written (over polling, for
// the server's answer to its POST), then until rejoinGap has passed since,
// so that the two do not reach the server in one read. ctx bounds the wait.
// The wait is the caller's: no timer outlives it.
func (c *engineConn) awaitLeft(ctx context.Context, nsp string) error {
	c.leftMu.Lock()
	g := c.left[nsp]
	c.leftMu.Unlock()
	if g == nil {
		return nil
	}
	select {
	case <-g.written:
	case <-c.ctx.Done():
		return c.endedError()
	case <-ctx.Done():
		return ctx.Err()
	}
	if d := rejoinGap - time.Since(g.at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-c.ctx.Done():
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
