package ack

import "sync"

// Table is the set of acknowledgements one socket is waiting for. Ids are
// handed out in increasing order starting at 0, as the official clients do.
//
// The zero Table is ready to use. All methods may be called concurrently.
type Table[T any] struct {
	mu      sync.Mutex
	next    uint64
	pending map[uint64]*Future[T]
	closed  error // once set, Register and Attach fail futures at once
	// withdrawn, set once by OnWithdraw before the table is used, is told
	// the id of each entry a cancelled Wait removed.
	withdrawn func(id uint64)
}

// OnWithdraw registers fn to be called with the id of every entry that a
// Wait whose context ended removes, so that the table's owner can drop what
// it keeps for that id (a resend's arguments, a timer). fn runs on the
// goroutine of that Wait, with no lock of the table held. Call OnWithdraw
// before the table is used, at most once.
func (t *Table[T]) OnWithdraw(fn func(id uint64)) { t.withdrawn = fn }

// Register reserves the next id and returns it with the future that its
// reply will resolve. Register the future before the packet is written, so
// that a fast reply cannot arrive for an id the table does not know yet.
// If the table has been closed, the future has already failed with the error
// given to Close.
func (t *Table[T]) Register() (uint64, *Future[T]) {
	f := NewFuture[T]()
	return t.Attach(f), f
}

// Attach registers f under the next id and returns the id. A future may be
// attached again after Detach, under a new id, to send its packet again. A
// future that has already resolved (its waiter gave up) is not registered.
func (t *Table[T]) Attach(f *Future[T]) uint64 {
	t.mu.Lock()
	id := t.next
	t.next++
	closed := t.closed
	if closed == nil && !f.resolved.Load() {
		if t.pending == nil {
			t.pending = make(map[uint64]*Future[T])
		}
		f.table.Store(t)
		f.id = id
		t.pending[id] = f
	}
	t.mu.Unlock()
	if closed != nil {
		var zero T
		f.resolve(zero, closed)
	}
	return id
}

// Detach removes the future waiting for id without resolving it and returns
// it, or nil when no future waits for id. A reply for id is dropped from
// then on.
func (t *Table[T]) Detach(id uint64) *Future[T] {
	t.mu.Lock()
	defer t.mu.Unlock()
	f := t.pending[id]
	delete(t.pending, id)
	return f
}

// withdraw removes f's entry, if it is still registered, and tells the
// table's owner (see OnWithdraw).
func (t *Table[T]) withdraw(f *Future[T]) {
	t.mu.Lock()
	id := f.id
	found := t.pending[id] == f
	if found {
		delete(t.pending, id)
	}
	t.mu.Unlock()
	if found && t.withdrawn != nil {
		t.withdrawn(id)
	}
}

// Resolve delivers the reply for id and reports whether a future was waiting
// for it. A reply for an unknown id (never sent, already answered, or given
// up on) is dropped and Resolve returns false.
func (t *Table[T]) Resolve(id uint64, v T) bool {
	f := t.Detach(id)
	return f != nil && f.resolve(v, nil)
}

// Fail resolves the future registered under id with err, as when its packet
// could not be sent. It reports whether a future was waiting.
func (t *Table[T]) Fail(id uint64, err error) bool {
	f := t.Detach(id)
	var zero T
	return f != nil && f.resolve(zero, err)
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
		f.resolve(zero, err)
	}
}

// Close fails every pending future with err and makes every later Register
// or Attach fail its future with err.
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
