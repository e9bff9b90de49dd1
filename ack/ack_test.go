package ack

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestIDsIncrease(t *testing.T) {
	var tb Table[int]
	for want := uint64(0); want < 5; want++ {
		id, _ := tb.Register()
		if id != want {
			t.Fatalf("id = %d, want %d", id, want)
		}
	}
	if tb.Len() != 5 {
		t.Fatalf("Len = %d, want 5", tb.Len())
	}
}

func TestResolveOnce(t *testing.T) {
	var tb Table[string]
	id, f := tb.Register()
	if _, _, ok := f.Result(); ok {
		t.Fatal("resolved before reply")
	}
	if !tb.Resolve(id, "first") {
		t.Fatal("Resolve of pending id returned false")
	}
	if tb.Resolve(id, "second") {
		t.Fatal("second Resolve of the same id returned true")
	}
	if tb.Fail(id, errors.New("late")) {
		t.Fatal("Fail after Resolve returned true")
	}
	v, err := f.Wait(context.Background())
	if v != "first" || err != nil {
		t.Fatalf("Wait = %q, %v; want first, nil", v, err)
	}
	select {
	case <-f.Done():
	default:
		t.Fatal("Done not closed after resolve")
	}
	if tb.Len() != 0 {
		t.Fatalf("Len = %d after resolve", tb.Len())
	}
}

func TestUnknownIDDropped(t *testing.T) {
	var tb Table[int]
	if tb.Resolve(42, 1) {
		t.Fatal("Resolve of unknown id returned true")
	}
}

func TestCancelledWaitRemovesEntry(t *testing.T) {
	var tb Table[int]
	id, f := tb.Register()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err := f.Wait(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait err = %v, want deadline exceeded", err)
	}
	if tb.Len() != 0 {
		t.Fatalf("entry left after cancelled wait: Len = %d", tb.Len())
	}
	if tb.Resolve(id, 7) {
		t.Fatal("late reply resolved a cancelled future")
	}
	if _, err2 := f.Wait(context.Background()); !errors.Is(err2, context.DeadlineExceeded) {
		t.Fatalf("result changed after resolution: %v", err2)
	}
}

func TestFailAllAndClose(t *testing.T) {
	var tb Table[int]
	errGone := errors.New("gone")
	_, f1 := tb.Register()
	_, f2 := tb.Register()
	tb.FailAll(errGone)
	for _, f := range []*Future[int]{f1, f2} {
		if _, err := f.Wait(context.Background()); !errors.Is(err, errGone) {
			t.Fatalf("err = %v, want %v", err, errGone)
		}
	}
	// FailAll does not close the table.
	id, f3 := tb.Register()
	if !tb.Resolve(id, 3) {
		t.Fatal("table unusable after FailAll")
	}
	if v, _ := f3.Wait(context.Background()); v != 3 {
		t.Fatalf("v = %d", v)
	}
	errClosed := errors.New("closed")
	_, f4 := tb.Register()
	tb.Close(errClosed)
	_, f5 := tb.Register()
	for _, f := range []*Future[int]{f4, f5} {
		if _, err := f.Wait(context.Background()); !errors.Is(err, errClosed) {
			t.Fatalf("err = %v, want %v", err, errClosed)
		}
	}
}

func TestResolved(t *testing.T) {
	f := Resolved(5, nil)
	if v, err, ok := f.Result(); !ok || v != 5 || err != nil {
		t.Fatalf("Result = %v %v %v", v, err, ok)
	}
}

// Replies, failures and cancelled waits racing on the same futures resolve
// each exactly once.
func TestRaceExactlyOnce(t *testing.T) {
	var tb Table[int]
	const n = 2000
	futures := make([]*Future[int], n)
	ids := make([]uint64, n)
	for i := range futures {
		ids[i], futures[i] = tb.Register()
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	count := func(ok bool) {
		if ok {
			mu.Lock()
			wins++
			mu.Unlock()
		}
	}
	for i := range futures {
		wg.Add(3)
		go func() { defer wg.Done(); count(tb.Resolve(ids[i], i)) }()
		go func() { defer wg.Done(); count(tb.Fail(ids[i], errors.New("x"))) }()
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			futures[i].Wait(ctx)
		}()
	}
	wg.Wait()
	if tb.Len() != 0 {
		t.Fatalf("Len = %d", tb.Len())
	}
	if wins > n {
		t.Fatalf("%d resolutions reported for %d futures", wins, n)
	}
	for i, f := range futures {
		v1, e1 := f.Wait(context.Background())
		v2, e2 := f.Wait(context.Background())
		if v1 != v2 || e1 != e2 {
			t.Fatalf("future %d changed: (%v,%v) then (%v,%v)", i, v1, e1, v2, e2)
		}
	}
}

// A detached future can be attached again under a new id; the old id's
// reply is then dropped.
func TestDetachAttach(t *testing.T) {
	var tb Table[string]
	id1, f := tb.Register()
	if got := tb.Detach(id1); got != f {
		t.Fatal("Detach returned another future")
	}
	if tb.Detach(id1) != nil {
		t.Fatal("second Detach found a future")
	}
	id2 := tb.Attach(f)
	if id2 == id1 {
		t.Fatal("Attach reused the id")
	}
	if tb.Resolve(id1, "stale") {
		t.Fatal("reply for the detached id resolved the future")
	}
	if !tb.Resolve(id2, "fresh") {
		t.Fatal("reply for the new id dropped")
	}
	if v, _ := f.Wait(context.Background()); v != "fresh" {
		t.Fatalf("v = %q", v)
	}
	// A future that is not attached resolves only through Wait's context.
	g := NewFuture[string]()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := g.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	// Attaching a resolved future keeps its result.
	id3 := tb.Attach(g)
	if tb.Resolve(id3, "late") {
		t.Fatal("a resolved future resolved again")
	}
}

// A Wait whose context ends while the future is being attached again (a
// resend: Detach, then Attach under a new id) races nothing: the future's
// entry is withdrawn under the table's lock (-race checks it), and no entry
// is left behind.
func TestWaitRacesAttach(t *testing.T) {
	var tb Table[int]
	for range 200 {
		id, f := tb.Register()
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(2)
		go func() { defer wg.Done(); f.Wait(ctx) }()
		go func() {
			defer wg.Done()
			for range 20 {
				if tb.Detach(id) == nil {
					return
				}
				id = tb.Attach(f)
			}
		}()
		cancel()
		wg.Wait()
		tb.Detach(id)
	}
	if tb.Len() != 0 {
		t.Fatalf("Len = %d", tb.Len())
	}
}

// A cancelled Wait tells the table's owner which entry it withdrew, so that
// whatever the owner keeps for that id (a resend's arguments, its timer)
// goes with it.
func TestWithdrawnHook(t *testing.T) {
	var tb Table[int]
	got := make(chan uint64, 1)
	tb.OnWithdraw(func(id uint64) { got <- id })
	tb.Register()
	id, f := tb.Register()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	f.Wait(ctx)
	select {
	case w := <-got:
		if w != id {
			t.Fatalf("withdrawn id %d, want %d", w, id)
		}
	default:
		t.Fatal("a cancelled Wait did not report its withdrawn entry")
	}
	// A future resolved by a reply reports nothing.
	id, f = tb.Register()
	tb.Resolve(id, 1)
	f.Wait(ctx)
	select {
	case w := <-got:
		t.Fatalf("a resolved future reported %d withdrawn", w)
	default:
	}
}
