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
	// An idle heartbeat waits on its timer alone (fail fires it), not in
	// a select: the smaller stack that leaves it counts for every
	// goroutine (see "Goroutine stacks" in doc.go). It stops the timer
	// where it returns, not in a deferred call, which would take frame
	// space too.
	//
	// Each time the timer finds the connection alive (about once a ping
	// interval), the heartbeat hands over to a fresh goroutine, as the
	// writer does after a pong: a goroutine keeps the stack it started
	// with, and one started while clients were still polling may have
	// started at 4 KiB. Its successor starts at the size of the moment.
	t := c.beat
	<-t.C
	if c.ended() {
		return nil
	}
	if err := c.checkHeard(t); err != nil {
		return err
	}
	if c.ended() { // fail fired the timer before checkHeard reset it
		t.Stop()
		return nil
	}
	c.running.Add(1)
	c.spawn((*engineConn).heartbeat)
	return nil
}

// checkHeard ends the connection when no ping came for pingInterval +
// pingTimeout, and sets t for when that would be otherwise.
func (c *engineConn) checkHeard(t *time.Timer) error {
	limit := c.open.PingInterval + c.open.PingTimeout
	silent := time.Since(c.started) - time.Duration(c.heardAt.Load())
	if silent >= limit {
		return fmt.Errorf("%w: no ping from the server in %v", ErrPingTimeout, limit)
	}
	t.Reset(limit - silent)
	return nil
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
			c.queueHeartbeat(duePing)
			deadline.Reset(c.open.PingTimeout)
		case <-c.pinged: // the pong
			deadline.Stop()
			next.Reset(c.open.PingInterval)
		case <-deadline.C:
			return fmt.Errorf("%w: no pong from the server in %v", ErrPingTimeout, c.open.PingTimeout)
		}
	}
}
