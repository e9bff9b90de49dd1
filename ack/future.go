package ack

import "context"

// Future is the eventual result of an acknowledged emit. It resolves exactly
// once, with a value or an error.
//
// All methods may be called concurrently, from any number of goroutines.
type Future[T any] struct {
	done  chan struct{}
	value T
	err   error

	// table and id let a cancelled Wait withdraw the pending entry, so that
	// a reply that never comes does not keep the future alive.
	table *Table[T]
	id    uint64
}

// Resolved returns a future that is already resolved with v and err.
func Resolved[T any](v T, err error) *Future[T] {
	f := &Future[T]{done: make(chan struct{}), value: v, err: err}
	close(f.done)
	return f
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
		if f.table != nil {
			f.table.resolve(f.id, *new(T), ctx.Err())
		}
		// Another resolution may have won the race; either way the
		// future is resolved now and its result is final.
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
