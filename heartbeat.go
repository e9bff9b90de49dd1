package sio

import (
	"fmt"
	"time"
)

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
		case <-t.C:
			silent := time.Since(c.started) - time.Duration(c.heardAt.Load())
			if silent >= limit {
				return fmt.Errorf("%w: no ping from the server in %v", ErrPingTimeout, limit)
			}
			t.Reset(limit - silent)
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
