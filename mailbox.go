package sio

import "sync"

// mailboxBuffer is the capacity of each Events channel. It is small because
// every idle socket pays for it (an Event is 120 bytes: 8 of them made the
// channel a 1,152-byte allocation, 4 make it 576); bursts go to the
// mailbox's queue instead, which exists only while it holds something.
const mailboxBuffer = 4

// mailbox delivers one socket's events to its Events channel, in order,
// without ever making the sender wait: the connection's reader hands events
// over and goes back to the wire at once, so heartbeats are answered even
// when nobody reads Events.
//
// An event goes straight into the channel when there is room and nothing is
// queued before it. Otherwise it is queued, and a pump goroutine, which
// exists only while the queue is not empty, moves the queue into the
// channel. The queue is bounded in events and bytes; push reports when the
// bound is reached, and the socket then disconnects (ErrSlowConsumer).
//
// All methods may be called concurrently.
type mailbox struct {
	ch chan Event

	mu       sync.Mutex // after Socket.mu and Manager.mu; takes no other lock
	queue    []Event
	head     int   // queue[head:] is pending
	bytes    int64 // payload bytes pending in queue
	pumping  bool  // a pump goroutine is running
	ending   bool  // the last event was pushed: close ch after it
	closed   bool  // ch is closed
	maxCount int
	maxBytes int64

	// quit, closed by discard, stops the pump at once. It is made with
	// the first pump (most mailboxes never need one) and dropped once
	// closed: no pump starts after discard, which ends the mailbox.
	quit chan struct{}
	pump sync.WaitGroup
}

func newMailbox(maxCount int, maxBytes int64) *mailbox {
	return &mailbox{
		ch:       make(chan Event, mailboxBuffer),
		maxCount: maxCount,
		maxBytes: maxBytes,
	}
}

// push delivers a server event. It reports false, delivering nothing, when
// the queue is full or the mailbox is ending.
func (m *mailbox) push(ev Event) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ending {
		return false
	}
	if m.pending() > 0 || m.pumping {
		// Queued: it is kept for as long as the program takes, so it
		// keeps only what the limit counts (the arguments still point
		// into the frame they came in, which may be far larger: JSON
		// whitespace) and the limit counts all it keeps, name included.
		size := eventSize(ev)
		if m.pending() >= m.maxCount || m.bytes+size > m.maxBytes {
			return false
		}
		ev.Args = ev.Args.compact()
		m.queue = append(m.queue, ev)
		m.bytes += size
		return true
	}
	m.deliver(ev)
	return true
}

// eventSize is what the event queue's byte limit counts of a queued event.
func eventSize(ev Event) int64 { return int64(len(ev.Name)) + ev.Args.size() }

// pushLifecycle delivers a connect, disconnect or connect error event. Such
// events are not bounded by the queue limits: there are few of them and the
// program must see them. With last set, Events is closed after it.
func (m *mailbox) pushLifecycle(ev Event, last bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ending {
		return
	}
	m.deliver(ev)
	if last {
		m.ending = true
		m.closeIfDone()
	}
}

// deliver sends ev into the channel if it can go there now without passing
// a queued event, and queues it otherwise, uncounted (a lifecycle event, or
// a server event that found the queue empty: the queue's first event is not
// bounded, as the channel's buffer is not). m.mu is held.
func (m *mailbox) deliver(ev Event) {
	if !m.pumping && m.pending() == 0 {
		select {
		case m.ch <- ev:
			return
		default:
		}
	}
	m.queue = append(m.queue, ev)
	if ev.Type == EventMessage {
		ev.Args = ev.Args.compact()
		m.queue[len(m.queue)-1] = ev
		m.bytes += eventSize(ev)
	}
	if !m.pumping {
		m.pumping = true
		if m.quit == nil {
			m.quit = make(chan struct{})
		}
		m.pump.Add(1)
		go m.run(m.quit)
	}
}

func (m *mailbox) pending() int { return len(m.queue) - m.head }

// run is the pump: it moves queued events into the channel, blocking on
// the program, and exits when the queue is empty or the mailbox discarded.
func (m *mailbox) run(quit <-chan struct{}) {
	defer m.pump.Done()
	for {
		m.mu.Lock()
		if m.pending() == 0 {
			m.pumping = false
			m.queue, m.head = m.queue[:0], 0
			if cap(m.queue) > 32 {
				m.queue = nil // give a burst's memory back
			}
			m.closeIfDone()
			m.mu.Unlock()
			return
		}
		ev := m.queue[m.head]
		m.queue[m.head] = Event{}
		m.head++
		if ev.Type == EventMessage {
			m.bytes -= eventSize(ev)
		}
		m.mu.Unlock()

		select {
		case m.ch <- ev:
		case <-quit:
			return
		}
	}
}

// closeIfDone closes the channel once the last event is in it. m.mu is held.
func (m *mailbox) closeIfDone() {
	if m.ending && !m.closed && !m.pumping && m.pending() == 0 {
		m.closed = true
		close(m.ch)
	}
}

// isClosed reports whether the channel is closed: delivery is over.
func (m *mailbox) isClosed() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.closed
}

// discard drops every undelivered event, stops the pump and closes the
// channel. Events already in the channel's buffer can still be read. It is
// idempotent and returns once the pump has exited.
func (m *mailbox) discard() {
	m.mu.Lock()
	if !m.ending {
		m.ending = true
	}
	if m.quit != nil {
		close(m.quit)
		m.quit = nil
	}
	m.mu.Unlock()
	m.pump.Wait()

	m.mu.Lock()
	defer m.mu.Unlock()
	m.queue, m.head, m.bytes, m.pumping = nil, 0, 0, false
	if !m.closed {
		m.closed = true
		close(m.ch)
	}
}
