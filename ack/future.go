package ack

import (
	"context"
	"sync/atomic"
)

// Future is the eventual result of an acknowledged emit. It resolves exactly
// once, with a value or an error.
//
// All methods may be called concurrently, from any number of goroutines.
type Future[T any] struct {
	done     chan struct{}
	resolved atomic.Bool // set by the one resolution that wins
	value    T
	err      error

	// table lets a cancelled Wait withdraw the pending entry, so that a
	// reply that never comes does not keep the future alive. It is set by
	// Attach and read by Wait, which may run at the same time (a resend
	// attaches the future again while the program waits on it): hence the
	// atomic. id is guarded by the table's mutex.
	table atomic.Pointer[Table[T]]
	id    uint64
}

// NewFuture returns an unresolved future that no table knows yet; see
// Table.Attach.
func NewFuture[T any]() *Future[T] {
	return &Future[T]{done: make(chan struct{})}
}

// Resolved returns a future that is already resolved with v and err.
func Resolved[T any](v T, err error) *Future[T] {
	f := NewFuture[T]()
	f.resolve(v, err)
	return f
}

// resolve sets the result, unless the future has one already, and reports
// whether it did.
func (f *Future[T]) resolve(v T, err error) bool {
	if !f.resolved.CompareAndSwap(false, true) {
		return false
	}
	f.value, f.err = v, err
	close(f.done)
	return true
}

// Done returns a channel that is closed once the future has resolved, for use
// in a select statement. After it is closed, Wait returns at once.
func (f *Future[T]) Done() <-chan struct{} { return f.done }

// Wait blocks until the future resolves or ctx ends, and returns its value or
// error. When ctx ends first, the future resolves with ctx's error and its
// entry is removed from the pending table: a reply that arrives later is
// dropped. Every later Wait returns the same result.
func (f *Future[T]) Wait(ctx context.Context) (T, error) {
	select {
	case <-f.done:
		return f.value, f.err
	default:
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		var zero T
		f.resolve(zero, ctx.Err()) // may lose to a reply: either result is final
		if t := f.table.Load(); t != nil {
			t.withdraw(f)
		}
		<-f.done
	}
	return f.value, f.err
}

// Result returns the future's value and error and true once it has resolved,
// and false before that. It never blocks.
func (f *Future[T]) Result() (T, error, bool) {
	select {
	case <-f.done:
		return f.value, f.err, true
	default:
		var zero T
		return zero, nil, false
	}
}
