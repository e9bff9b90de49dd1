package sio

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/sio-go/sio/transport"
)

// ManagerEventType says what a ManagerEvent reports.
type ManagerEventType int

// The kinds of ManagerEvent, after the official client's reconnect_attempt,
// reconnect_error, reconnect and reconnect_failed.
const (
	// ReconnectAttempt: the Manager waits Delay, then makes attempt Attempt
	// (from 1). Err is why the previous connection or attempt failed.
	ReconnectAttempt ManagerEventType = iota + 1
	// ReconnectError: attempt Attempt failed with Err.
	ReconnectError
	// Reconnected: attempt Attempt connected; the sockets are joining again.
	Reconnected
	// ReconnectFailed: the Manager gave up after Attempt attempts (Backoff.Attempts);
	// its sockets end with ErrReconnectFailed.
	ReconnectFailed
)

func (t ManagerEventType) String() string {
	switch t {
	case ReconnectAttempt:
		return "reconnect_attempt"
	case ReconnectError:
		return "reconnect_error"
	case Reconnected:
		return "reconnect"
	case ReconnectFailed:
		return "reconnect_failed"
	}
	return fmt.Sprintf("ManagerEventType(%d)", int(t))
}

// ManagerEvent reports a step of reconnection.
type ManagerEvent struct {
	Type    ManagerEventType
	Attempt int           // the attempt, from 1
	Delay   time.Duration // for ReconnectAttempt: the wait before it
	Err     error
}

// connEnded is called once when a connection ends. With reconnection on,
// its sockets wait to be joined again and the reconnection goroutine starts;
// otherwise they end with err.
func (m *Manager) connEnded(c *sioConn, err error) {
	m.priorWebSocket.Store(c.transportName() == transport.NameWebSocket)
	m.mu.Lock()
	var on []*Socket
	for _, s := range m.sockets {
		if s.onConn(c) {
			on = append(on, s)
		}
	}
	if c == m.conn && c.healthy() {
		m.attempts = 0
	}
	retry := m.cfg.reconnect != nil && !m.isClosed && c == m.conn && len(m.sockets) > 0
	start := retry && !m.reconnecting
	if start {
		m.reconnecting = true
		m.loops.Add(1)
	}
	m.mu.Unlock()
	for _, s := range on {
		if retry {
			s.connLost(c, err)
		} else {
			s.end(err, true)
		}
	}
	if start {
		go m.reconnect(err)
	}
}

// reconnect is the reconnection goroutine. It waits, per the backoff
// policy, and dials until a connection is made (or the Manager closes, or
// the policy gives up); then it joins every waiting socket again and sends
// what they queued. It exists only while the Manager is reconnecting.
func (m *Manager) reconnect(cause error) {
	defer m.loops.Done()
	b := *m.cfg.reconnect
	m.mu.Lock()
	attempt := m.attempts
	m.mu.Unlock()
	for ; ; attempt++ {
		if b.Attempts > 0 && attempt >= b.Attempts {
			m.giveUp(attempt, cause)
			return
		}
		d := b.delay(attempt, rand.Float64(), rand.IntN(2) == 0)
		m.notify(ManagerEvent{Type: ReconnectAttempt, Attempt: attempt + 1, Delay: d, Err: cause})
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-m.ctx.Done():
			t.Stop()
			m.stopReconnecting()
			return
		}
		ctx, cancel := m.connectContext(m.ctx)
		conn, err := m.dial(ctx)
		cancel()
		if err != nil {
			if m.ctx.Err() != nil {
				m.stopReconnecting()
				return
			}
			cause = err
			m.notify(ManagerEvent{Type: ReconnectError, Attempt: attempt + 1, Err: err})
			continue
		}
		m.notify(ManagerEvent{Type: Reconnected, Attempt: attempt + 1})
		m.mu.Lock()
		m.attempts = attempt + 1 // until conn has proved healthy
		m.mu.Unlock()
		if err := m.rejoin(conn); err == nil {
			return
		} else {
			cause = err
		}
		// conn was lost: once its connEnded has run, every socket that
		// was on it waits again, for the next rejoin to take.
		<-conn.done()
		if conn.healthy() {
			attempt = -1 // it worked for a while: a new outage starts the policy again
		}
	}
}

// rejoin installs a new connection and joins every waiting socket on it,
// sending their offline queues. It returns nil once reconnection is over,
// and the error that ended conn if conn was lost meanwhile (the caller
// goes on reconnecting).
func (m *Manager) rejoin(conn *sioConn) error {
	m.mu.Lock()
	if m.isClosed {
		m.mu.Unlock()
		conn.close()
		m.stopReconnecting()
		return nil
	}
	m.conn = conn
	waiting := slices.Clone(m.sockets)
	m.mu.Unlock()

	// Every socket joins at once, each on a goroutine of this one's: one
	// CONNECT the server does not answer must not hold up the others.
	var wg sync.WaitGroup
	for _, s := range waiting {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m.rejoinSocket(conn, s)
		}()
	}
	wg.Wait()

	m.mu.Lock()
	defer m.mu.Unlock()
	if conn.ended() && !m.isClosed {
		return conn.cause() // lost again: connEnded left it to us
	}
	m.reconnecting = false
	return nil
}

// rejoinSocket joins s again on conn, if it waits for that, bounded by the
// connect timeout. A join not answered in time ends the socket with
// ErrReconnectFailed (see giveUpRejoin).
func (m *Manager) rejoinSocket(conn *sioConn, s *Socket) {
	ctx, cancel := m.connectContext(m.ctx)
	defer cancel()
	sent, err := s.rejoin(ctx, conn)
	if err == nil || ctx.Err() == nil || m.ctx.Err() != nil || conn.ended() {
		return // joined, refused, ended, or the next connection rejoins it
	}
	err = fmt.Errorf("%w: %s: not joined within %v: %w", ErrReconnectFailed, s.Namespace(), m.cfg.connectTimeout, ctx.Err())
	if sent {
		s.giveUpRejoin(conn, err)
	} else {
		s.end(err, true) // its CONNECT never went out
	}
}

// giveUp ends every socket after the last allowed attempt.
func (m *Manager) giveUp(attempts int, cause error) {
	m.notify(ManagerEvent{Type: ReconnectFailed, Attempt: attempts, Err: cause})
	m.mu.Lock()
	sockets := slices.Clone(m.sockets)
	m.reconnecting = false
	m.attempts = 0
	m.mu.Unlock()
	err := fmt.Errorf("%w after %d attempts: %w", ErrReconnectFailed, attempts, cause)
	for _, s := range sockets {
		s.end(err, true)
	}
}

func (m *Manager) stopReconnecting() {
	m.mu.Lock()
	m.reconnecting = false
	m.mu.Unlock()
}

// errManagerClosed fails what the Manager's own goroutines were sending
// when it was closed.
var errManagerClosed = fmt.Errorf("%w: the Manager was closed", ErrClientDisconnect)

// closedErr turns the cancellation of the Manager's context, with which its
// goroutines send (the offline queue's flush, resends), into the reason the
// program sees: the Manager was closed.
func (m *Manager) closedErr(err error) error {
	if errors.Is(err, context.Canceled) && m.ctx.Err() != nil {
		return errManagerClosed
	}
	return err
}

// notify delivers a ManagerEvent if there is room: these events inform,
// and a program that does not read them must not stall reconnection.
func (m *Manager) notify(ev ManagerEvent) {
	m.cfg.log.managerEvent(ev)
	select {
	case m.eventsChan() <- ev:
	default:
	}
}
