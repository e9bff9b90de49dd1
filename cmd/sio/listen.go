package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"time"
)

// watchFlags are the flags listen and connect share.
type watchFlags struct {
	conn connFlags
	ack  string
}

func (w *watchFlags) register(fs *flag.FlagSet) {
	w.conn.register(fs)
	fs.StringVar(&w.ack, "ack", "", "answer every ack request with these arguments (a `JSON` array, or one value)")
}

// open checks the flags and the URL in pos, then connects and joins nsps
// (the URL's namespace when there are none). It returns the session and
// the arguments of --ack.
func (w *watchFlags) open(ctx context.Context, e *env, pos, nsps []string) (*session, []any, error) {
	t, err := oneURL(pos)
	if err != nil {
		return nil, nil, err
	}
	var ackArgs []any
	if w.ack != "" {
		if ackArgs, err = parseAckArgs(w.ack); err != nil {
			return nil, nil, err
		}
	}
	cl, err := w.conn.build(e.stderr)
	if err != nil {
		return nil, nil, err
	}
	if len(nsps) == 0 {
		nsps = []string{t.nsp}
	}
	s, err := openSession(ctx, cl, t, nsps, e.stdout)
	return s, ackArgs, err
}

// cmdListen is "sio listen URL": every event as a JSON line on stdout.
func cmdListen(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	var wf watchFlags
	wf.register(fs)
	count := fs.Int("count", 0, "exit after `N` events (0: run until interrupted)")
	var nsps []string
	fs.Func("ns", "join this `namespace` too, over the same connection (repeatable; replaces the URL's path)", func(s string) error {
		if s == "" || s[0] != '/' {
			s = "/" + s
		}
		nsps = append(nsps, s)
		return nil
	})
	pos, err := parseArgs(fs, args, e.stdout, "sio listen URL [flags]")
	if err != nil {
		return err
	}
	if *count < 0 {
		return usagef("--count: want N >= 0, got %d", *count)
	}
	s, ackArgs, err := wf.open(ctx, e, pos, nsps)
	if err != nil {
		return err
	}
	defer s.close()
	return s.watch(ctx, watchOptions{ackArgs: ackArgs, count: *count, out: e.stdout, stderr: e.stderr})
}

// cmdConnect is "sio connect URL": stdin lines are emitted, events printed.
func cmdConnect(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("connect", flag.ContinueOnError)
	var wf watchFlags
	wf.register(fs)
	pos, err := parseArgs(fs, args, e.stdout, "sio connect URL [flags]\n\nEach stdin line is emitted: EVENT ARG... (JSON values, words, @FILE) or [\"event\", ...].")
	if err != nil {
		return err
	}
	s, ackArgs, err := wf.open(ctx, e, pos, nil)
	if err != nil {
		return err
	}
	defer s.close()

	// The reader of stdin stops at EOF, at a read error, or when the
	// session ends (cancel). It cannot be interrupted in a read: when the
	// session ends first, it is left blocked on stdin, and ends with the
	// process.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	lines := make(chan string)
	var readErr error
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(e.stdin)
		sc.Buffer(make([]byte, 64<<10), maxFileArg)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
		readErr = sc.Err() // read after lines closes
	}()
	return s.watch(ctx, watchOptions{ackArgs: ackArgs, lines: lines, linesIn: &readErr, out: e.stdout, stderr: e.stderr})
}

// oneURL checks that the positional arguments are exactly a URL.
func oneURL(pos []string) (target, error) {
	switch len(pos) {
	case 0:
		return target{}, usagef("no URL")
	case 1:
		return parseTarget(pos[0])
	}
	return target{}, usagef("unexpected arguments after the URL: %q", pos[1:])
}

// cmdEmit is "sio emit URL EVENT [ARG...]".
func cmdEmit(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("emit", flag.ContinueOnError)
	var cf connFlags
	cf.register(fs)
	wantAck := fs.Bool("ack", false, "ask for an acknowledgement and print it as a JSON line")
	ackTimeout := fs.Duration("ack-timeout", 10*time.Second, "how long to wait for the acknowledgement")
	linger := fs.Duration("linger", 500*time.Millisecond, "without --ack, how long to stay connected after the emit")
	pos, err := parseArgs(fs, args, e.stdout, "sio emit URL EVENT [ARG...] [flags]\n\nEach ARG is a JSON value, a word (sent as a string) or @FILE (the file's bytes, as binary).")
	if err != nil {
		return err
	}
	if len(pos) < 2 {
		return usagef("want URL and EVENT")
	}
	t, err := parseTarget(pos[0])
	if err != nil {
		return err
	}
	event := pos[1]
	if reservedEvent(event) {
		return usagef("%q is a reserved event name", event)
	}
	emitArgs, err := parseArgList(pos[2:])
	if err != nil {
		return usagef("%v", err)
	}
	if *ackTimeout <= 0 {
		return usagef("--ack-timeout: want a positive duration, got %v", *ackTimeout)
	}
	if *linger < 0 {
		return usagef("--linger: want a duration >= 0, got %v", *linger)
	}
	cl, err := cf.build(e.stderr)
	if err != nil {
		return err
	}
	s, err := openSession(ctx, cl, t, []string{t.nsp}, e.stdout)
	if err != nil {
		return err
	}
	defer s.close()
	sock := s.sockets[0]
	if !*wantAck {
		if err := sock.Emit(ctx, event, emitArgs...); err != nil {
			return err
		}
		// Close would write the DISCONNECT right behind the event, and the
		// official server drops an event that it reads together with the
		// DISCONNECT of its socket (it dispatches events on the next tick,
		// when the socket has gone). Stay a moment, so that the two arrive
		// apart: longer than an upgrade probe holds the writer, which the
		// server ends by answering the pending poll within its 100 ms
		// upgrade check (the event waits that long on the default
		// transports).
		t := time.NewTimer(*linger)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
		}
		return nil
	}
	wctx, cancel := context.WithTimeout(ctx, *ackTimeout)
	defer cancel()
	f, err := sock.EmitWithAck(wctx, event, emitArgs...)
	if err != nil {
		return err
	}
	reply, err := f.Wait(wctx)
	if err != nil {
		if wctx.Err() != nil && ctx.Err() == nil {
			return fmt.Errorf("no acknowledgement in %v", *ackTimeout)
		}
		return err
	}
	_, err = e.stdout.Write(ackLine(time.Now(), sock.Namespace(), reply))
	return err
}
