package sio

import (
	"encoding/json"
	"strconv"
	"testing"
	"time"
)

func msg(i int) Event {
	return Event{Type: EventMessage, Name: "n", Args: Args{elems: []json.RawMessage{json.RawMessage(strconv.Itoa(i))}}}
}

func num(t *testing.T, ev Event) int {
	t.Helper()
	n, err := strconv.Atoi(string(ev.Args.elems[0]))
	if err != nil {
		t.Fatalf("bad event %+v", ev)
	}
	return n
}

// Events pushed while nobody reads are delivered in order once the reader
// comes, beyond the channel's own buffer.
func TestMailboxOrderAcrossQueue(t *testing.T) {
	m := newMailbox(1000, 1<<20)
	defer m.discard()
	const n = 500
	for i := range n {
		if !m.push(msg(i)) {
			t.Fatalf("push %d refused", i)
		}
	}
	for i := range n {
		select {
		case ev := <-m.ch:
			if got := num(t, ev); got != i {
				t.Fatalf("event %d arrived as #%d", got, i)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("event %d never delivered", i)
		}
	}
}

// The queue is bounded in events: push refuses once the bound is reached.
func TestMailboxBoundEvents(t *testing.T) {
	m := newMailbox(10, 1<<20)
	defer m.discard()
	accepted := 0
	for i := range 100 {
		if m.push(msg(i)) {
			accepted++
		}
	}
	// The channel's buffer plus the queue's bound; the pump may hold one
	// more in hand.
	if accepted < 10 || accepted > mailboxBuffer+10+1 {
		t.Fatalf("accepted %d events with a bound of 10 and a buffer of %d", accepted, mailboxBuffer)
	}
}

// The queue is bounded in bytes too.
func TestMailboxBoundBytes(t *testing.T) {
	m := newMailbox(1000, 100)
	defer m.discard()
	big := Event{Type: EventMessage, Args: Args{attachments: [][]byte{make([]byte, 60)}}}
	refused := false
	for range mailboxBuffer + 5 {
		if !m.push(big) {
			refused = true
			break
		}
	}
	if !refused {
		t.Fatal("a queue bounded at 100 bytes took every 60-byte event")
	}
}

// A last lifecycle event is delivered after everything queued, then the
// channel closes; the pump exits on its own.
func TestMailboxLastEventThenClose(t *testing.T) {
	m := newMailbox(1000, 1<<20)
	for i := range 50 {
		m.push(msg(i))
	}
	m.pushLifecycle(Event{Type: EventDisconnect}, true)
	if m.push(msg(99)) {
		t.Fatal("push accepted after the last event")
	}
	var got []Event
	for ev := range m.ch {
		got = append(got, ev)
	}
	if len(got) != 51 || got[50].Type != EventDisconnect {
		t.Fatalf("got %d events, last %v", len(got), got[len(got)-1].Type)
	}
	m.pump.Wait()
}

// discard stops a pump blocked on a reader that never comes and closes the
// channel.
func TestMailboxDiscard(t *testing.T) {
	m := newMailbox(1000, 1<<20)
	for i := range 100 {
		m.push(msg(i))
	}
	m.discard()
	m.discard() // idempotent
	n := 0
	for range m.ch {
		n++
	}
	if n > mailboxBuffer {
		t.Fatalf("read %d events after discard; at most the %d buffered ones may remain", n, mailboxBuffer)
	}
	m.pushLifecycle(Event{Type: EventDisconnect}, true) // no panic after close
}

// discard stops a pump whichever it is: none ever ran, or a second one
// blocked on a reader that went away, after a first one emptied its queue
// (the pumps share the quit channel made with the first).
func TestMailboxDiscardAfterPumps(t *testing.T) {
	idle := newMailbox(1000, 1<<20)
	idle.discard()
	if _, ok := <-idle.ch; ok {
		t.Fatal("a mailbox that never pumped: Events open after discard")
	}

	m := newMailbox(1000, 1<<20)
	for i := range 2 * mailboxBuffer {
		m.push(msg(i))
	}
	for range 2 * mailboxBuffer { // the first pump empties its queue and exits
		<-m.ch
	}
	m.pump.Wait()
	for i := range 2 * mailboxBuffer {
		m.push(msg(i)) // a second pump, blocked once the buffer is full
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		m.discard()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("discard did not stop the second pump")
	}
}
