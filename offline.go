package sio

import (
	"fmt"
	"slices"

	"github.com/sio-go/sio/packet"
)

// offlineQueue holds a socket's emits while it cannot send them (it is
// disconnected, joining, or flushing the queue after a rejoin), in emit
// order, and hands out the sequence numbers that define that order. It is
// the socket's, guarded by Socket.mu.
//
// Its limit applies to new emits only: an emit the socket accepted before
// and that comes back (its connection was lost while it waited for room in
// the send queue or for its acknowledgement) is never refused, so the queue
// exceeds the limit by at most the emits that were in flight.
type offlineQueue struct {
	limit int
	seq   uint64   // the latest sequence number handed out
	items []queued // by seq
}

// queued is an emit waiting in the offline queue.
type queued struct {
	seq uint64
	msg packet.Message // an emit without ack, encoded…
	ae  *ackEmit       // …or an acknowledged one, encoded when sent
}

// next hands out the sequence number of a new emit.
func (q *offlineQueue) next() uint64 {
	q.seq++
	return q.seq
}

// add queues a new emit, unless the queue is at its limit.
func (q *offlineQueue) add(e queued) error {
	if len(q.items) >= q.limit {
		return fmt.Errorf("%w: %d emits wait for the connection", ErrQueueFull, len(q.items))
	}
	q.putBack(e)
	return nil
}

// putBack queues an emit that was accepted before, in its place by seq,
// whatever the limit; one without a sequence number yet gets the next.
func (q *offlineQueue) putBack(e queued) {
	if e.seq == 0 {
		e.seq = q.next()
		if e.ae != nil {
			e.ae.seq = e.seq
		}
	}
	i, _ := slices.BinarySearchFunc(q.items, e.seq, func(x queued, seq uint64) int {
		switch {
		case x.seq < seq:
			return -1
		case x.seq > seq:
			return 1
		}
		return 0
	})
	q.items = slices.Insert(q.items, i, e)
}

// pop takes the oldest emit; ok is false when the queue is empty, which
// also gives its memory back.
func (q *offlineQueue) pop() (e queued, ok bool) {
	if len(q.items) == 0 {
		q.items = nil
		return queued{}, false
	}
	e = q.items[0]
	q.items[0] = queued{}
	q.items = q.items[1:]
	return e, true
}

// take empties the queue and returns what it held.
func (q *offlineQueue) take() []queued {
	items := q.items
	q.items = nil
	return items
}

// len reports the number of emits queued.
func (q *offlineQueue) len() int { return len(q.items) }
