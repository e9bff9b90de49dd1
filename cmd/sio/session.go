package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/sio-go/sio"
)

// session is one connection with a socket per namespace, as listen,
// connect and emit use it.
type session struct {
	m       *sio.Manager
	sockets []*sio.Socket
	release func() // closes the HTTP client's idle connections
}

// openSession connects to t's server and joins every namespace in nsps. A
// refusal is printed as a connect_error line on out and returned.
func openSession(ctx context.Context, cl *client, t target, nsps []string, out io.Writer) (*session, error) {
	opts, release := cl.options(nil)
	m, err := sio.NewManager(t.url, opts...)
	if err != nil {
		release()
		return nil, usagef("%v", err)
	}
	s := &session{m: m, release: release}
	for _, nsp := range nsps {
		sock, err := m.Socket(ctx, nsp)
		if err != nil {
			var ce *sio.ConnectError
			if errors.As(err, &ce) {
				out.Write(connectErrorLine(time.Now(), nsp, err))
				err = refusal(ce)
			}
			s.close()
			return nil, fmt.Errorf("%s: %w", nsp, err)
		}
		s.sockets = append(s.sockets, sock)
	}
	return s, nil
}

// refusal is a server's refusal with its data, for stderr.
func refusal(ce *sio.ConnectError) error {
	if len(ce.Data) > 0 {
		return fmt.Errorf("%w (data: %s)", ce, compact(ce.Data))
	}
	return ce
}

// close leaves every namespace, closes the connection and waits for the
// library's goroutines.
func (s *session) close() {
	s.m.Close()
	s.release()
}

// nsEvent is an event of the socket at index i.
type nsEvent struct {
	i    int
	ev   sio.Event
	open bool // false: the socket's Events closed
}

// watchOptions say what watch does besides printing.
type watchOptions struct {
	ackArgs []any         // answer every ack request with these (nil: do not)
	count   int           // return after this many events (0: never)
	lines   <-chan string // lines to emit on the first socket ("sio connect")
	linesIn *error        // set when lines closed because of a read error
	stderr  io.Writer     // for errors about lines
	out     io.Writer     // where events are printed
}

// watch prints the session's events and reconnection steps as JSON lines
// until ctx ends, count events came, lines closes (EOF), or every socket
// has ended (its reason is returned, unless the server disconnected it).
func (s *session) watch(ctx context.Context, o watchOptions) error {
	evs := make(chan nsEvent)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(stop)
		wg.Wait()
	}()
	for i, sock := range s.sockets {
		wg.Go(func() {
			for {
				select {
				case ev, ok := <-sock.Events():
					select {
					case evs <- nsEvent{i, ev, ok}:
					case <-stop:
						return
					}
					if !ok {
						return
					}
				case <-stop:
					return
				}
			}
		})
	}
	live, n := len(s.sockets), 0
	mevs := s.m.Events()
	for {
		select {
		case <-ctx.Done():
			return nil
		case mev, ok := <-mevs:
			if !ok {
				mevs = nil
				continue
			}
			if b := managerLine(time.Now(), mev); b != nil {
				o.out.Write(b)
			}
		case text, ok := <-o.lines:
			if !ok {
				if o.linesIn != nil && *o.linesIn != nil {
					return *o.linesIn
				}
				return nil // EOF
			}
			s.emitLine(ctx, o, text)
		case e := <-evs:
			sock := s.sockets[e.i]
			if !e.open {
				if live--; live == 0 {
					if err := sock.Err(); err != nil && !errors.Is(err, sio.ErrServerDisconnect) {
						return err
					}
					return nil
				}
				continue
			}
			o.out.Write(eventLine(time.Now(), sock.Namespace(), e.ev))
			if e.ev.Type != sio.EventMessage {
				continue
			}
			if e.ev.WantsAck() && o.ackArgs != nil {
				if err := e.ev.Ack(ctx, o.ackArgs...); err != nil && ctx.Err() == nil {
					fmt.Fprintf(o.stderr, "sio: ack of %q: %v\n", e.ev.Name, err)
				}
			}
			if n++; o.count > 0 && n >= o.count {
				return nil
			}
		}
	}
}

// emitLine emits what a line typed to "sio connect" says, on the first
// socket; a bad line or a failed emit is reported on stderr.
func (s *session) emitLine(ctx context.Context, o watchOptions, text string) {
	if text == "" {
		return
	}
	name, args, err := parseLine(text)
	if err == nil {
		err = s.sockets[0].Emit(ctx, name, args...)
	}
	if err != nil {
		fmt.Fprintf(o.stderr, "sio: %v\n", err)
	}
}
