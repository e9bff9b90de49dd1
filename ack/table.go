package ack

import (
	"sync"
)

// Table is the set of acknowledgements one socket is waiting for. Ids are
// handed out in increasing order starting at 0, as the official clients do.
//
// The zero Table is ready to use. All methods may be called concurrently.
type Table[T any] struct {
	mu      sync.Mutex
	next    uint64
	pending map[uint64]*Future[T]
	closed  error // once set, Register returns futures that have already failed
}

// Register reserves the next id and returns it with the future that its
// reply will resolve. Register the future before the packet is written, so
// that a fast reply cannot arrive for an id the table does not know yet.
// If the table has been closed, the future is already resolved with the
// error Close was given.
func (t *Table[T]) Register() (uint64, *Future[T]) {
	t.mu.Lock()
	defer t.mu.Unlock()
	id := t.next
	t.next++
	f := &Future[T]{done: make(chan struct{}), table: t, id: id}
	if t.closed != nil {
		f.err = t.closed
		close(f.done)
		return id, f
	}
	if t.pending == nil {
		t.pending = make(map[uint64]*Future[T])
	}
	t.pending[id] = f
	return id, f
}

// Resolve delivers the reply for id and reports whether a future was waiting
// for it. A reply for an unknown id (never sent, already answered, or given
// up on) is dropped and Resolve returns false.
func (t *Table[T]) Resolve(id uint64, v T) bool {
	return t.resolve(id, v, nil)
}

// Fail resolves the future registered under id with err, as when its packet
// could not be sent. It reports whether a future was waiting.
func (t *Table[T]) Fail(id uint64, err error) bool {
	var zero T
	return t.resolve(id, zero, err)
}

func (t *Table[T]) resolve(id uint64, v T, err error) bool {
	t.mu.Lock()
	f, ok := t.pending[id]
	if ok {
		delete(t.pending, id)
	}
	t.mu.Unlock()
	if !ok {
		return false
	}
	f.value, f.err = v, err
	close(f.done)
	return true
}

// FailAll resolves every pending future with err, as when the connection
// ends. Futures registered afterwards wait as usual.
func (t *Table[T]) FailAll(err error) {
	t.mu.Lock()
	pending := t.pending
	t.pending = nil
	t.mu.Unlock()
	var zero T
	for _, f := range pending {
		f.value, f.err = zero, err
		close(f.done)
	}
}

// Close fails every pending future with err and makes every later Register
// return a future that has already failed with err.
func (t *Table[T]) Close(err error) {
	t.mu.Lock()
	if t.closed == nil {
		t.closed = err
	}
	t.mu.Unlock()
	t.FailAll(err)
}

// Len returns the number of pending acknowledgements.
func (t *Table[T]) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending)
}
