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

// leaving is a DISCONNECT on its way to the server.
type leaving struct {
	gone chan struct{} // closed rejoinGap after the DISCONNECT was written
}

// written records that the writer wrote the DISCONNECT.
func (l *leaving) written() {
	time.AfterFunc(rejoinGap, func() { close(l.gone) })
}

// sendLeave queues m, the DISCONNECT of namespace nsp, and remembers it for
// awaitLeft. With wait it waits for room in the queue, as long as ctx
// allows; without, it gives up at once when the queue is full.
func (c *engineConn) sendLeave(ctx context.Context, nsp string, m packet.Message, wait bool) {
	l := &leaving{gone: make(chan struct{})}
	var err error
	if wait {
		err = c.enqueue(ctx, outgoing{msg: m, sent: l})
	} else {
		err = c.tryEnqueue(outgoing{msg: m, sent: l})
	}
	if err != nil {
		return
	}
	c.leftMu.Lock()
	defer c.leftMu.Unlock()
	if c.left == nil {
		c.left = make(map[string]*leaving)
	}
	c.left[nsp] = l
}

// awaitLeft holds a CONNECT for namespace nsp until the server has surely
// removed the socket that this connection's last DISCONNECT for nsp left:
// the official server closes the whole connection ("invalid state") on a
// CONNECT for a namespace whose socket it still has, and it removes one only
// once it has handled every packet it read together with the DISCONNECT.
// So the CONNECT waits for the DISCONNECT to be written (over polling, for
// the server's answer to its POST), then until rejoinGap has passed since,
// so that the two do not reach the server in one read. ctx bounds the wait.
func (c *engineConn) awaitLeft(ctx context.Context, nsp string) error {
	c.leftMu.Lock()
	l := c.left[nsp]
	c.leftMu.Unlock()
	if l == nil {
		return nil
	}
	select {
	case <-l.gone:
	case <-c.ctx.Done():
		return c.endedError()
	case <-ctx.Done():
		return ctx.Err()
	}
	c.leftMu.Lock()
	if c.left[nsp] == l {
		delete(c.left, nsp)
	}
	c.leftMu.Unlock()
	return nil
}
