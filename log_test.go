package sio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/test/testserver"
)

// recorder is a slog.Handler that keeps every record as text.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Level.String() + " " + rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	r.mu.Lock()
	r.lines = append(r.lines, b.String())
	r.mu.Unlock()
	return nil
}

func (r *recorder) all() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}

// TestLogger checks the records of a connect, an emit, a drop and a
// reconnection, and that neither the auth payload nor a header value
// appears in any of them, over both transports.
func TestLogger(t *testing.T) {
	const secret, headerValue = "tok-3f9a1c", "hdr-77be21"
	for _, tc := range []struct {
		name string
		ts   []sio.Transport
		want []string
	}{
		{"polling+upgrade", []sio.Transport{sio.Polling, sio.WebSocket}, []string{"transport=polling", "sio: upgraded"}},
		{"websocket", []sio.Transport{sio.WebSocket}, []string{"transport=websocket"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startServer(t, testserver.WithAuth(func(_ string, auth json.RawMessage) error {
				if !bytes.Contains(auth, []byte(secret)) {
					return errors.New("not authorized")
				}
				return nil
			}))
			rec := &recorder{}
			s := dial(t, srv.URL()+"/admin",
				sio.WithLogger(slog.New(rec)),
				sio.WithTransports(tc.ts...),
				sio.WithAuth(map[string]string{"token": secret}),
				sio.WithHeader(http.Header{"X-Secret": {headerValue}}),
				sio.WithReconnect(sio.Backoff{Min: 20 * time.Millisecond, Max: 40 * time.Millisecond}))
			ctx := testCtx(t)
			if len(tc.ts) == 2 {
				for deadline := time.Now().Add(10 * time.Second); s.Manager().Transport() != sio.WebSocket; time.Sleep(5 * time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatal("no upgrade in 10 s")
					}
				}
			}
			f, err := s.EmitWithAck(ctx, "ack", "hello-log")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.Wait(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.Emit(ctx, "close-transport"); err != nil { // the server drops the connection
				t.Fatal(err)
			}
			if ev := next(t, s); ev.Type != sio.EventDisconnect {
				t.Fatalf("event = %v, want disconnect", ev.Type)
			}
			if ev := next(t, s); ev.Type != sio.EventConnect {
				t.Fatalf("event = %v, want connect", ev.Type)
			}
			s.Close()

			logs := rec.all()
			for _, want := range append([]string{
				"INFO sio: handshake",
				"INFO sio: connected ns=/admin",
				`DEBUG sio: send packet=42/admin,0["ack","hello-log"]`,
				`DEBUG sio: recv packet=43/admin,0["hello-log"]`,
				"DEBUG sio: send packet=40/admin <auth withheld>",
				"INFO sio: disconnected ns=/admin reason=sio: transport close",
				"INFO sio: connection closed",
				"INFO sio: reconnect_attempt attempt=1 delay=",
				"INFO sio: reconnect attempt=1",
			}, tc.want...) {
				if !strings.Contains(logs, want) {
					t.Errorf("no record contains %q", want)
				}
			}
			for _, leak := range []string{secret, headerValue} {
				if strings.Contains(logs, leak) {
					t.Errorf("the records contain %q:\n%s", leak, logs)
				}
			}
			if t.Failed() {
				t.Logf("records:\n%s", logs)
			}
		})
	}
}

// TestLoggerCutsPackets checks that a large packet is logged cut short, with
// its size.
func TestLoggerCutsPackets(t *testing.T) {
	srv := startServer(t)
	rec := &recorder{}
	s := dial(t, srv.URL(), sio.WithLogger(slog.New(rec)), sio.WithTransports(sio.WebSocket))
	ctx := testCtx(t)
	f, err := s.EmitWithAck(ctx, "ack", strings.Repeat("y", 5000), []byte{1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	s.Close()
	logs := rec.all()
	for _, line := range strings.Split(logs, "\n") {
		if len(line) > 400 {
			t.Errorf("record of %d bytes: %.100s…", len(line), line)
		}
	}
	for _, want := range []string{"bytes)", "<binary 3 bytes>"} {
		if !strings.Contains(logs, want) {
			t.Errorf("no record contains %q:\n%s", want, logs)
		}
	}
}

// TestLoggerLevel checks that an Info logger gets the lifecycle and no
// packets.
func TestLoggerLevel(t *testing.T) {
	srv := startServer(t)
	var buf syncBuffer
	s := dial(t, srv.URL(), sio.WithLogger(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))))
	s.Close()
	logs := buf.String()
	if !strings.Contains(logs, "sio: handshake") || strings.Contains(logs, "sio: send") {
		t.Errorf("Info logger wrote:\n%s", logs)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestLoggerServerGone checks the records of reconnection attempts that
// fail, and that the query, which the errors of net/http quote, is withheld.
func TestLoggerServerGone(t *testing.T) {
	const secret = "q-91d0c4"
	srv, err := testserver.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	rec := &recorder{}
	s := dial(t, srv.URL()+"/admin?token="+secret,
		sio.WithLogger(slog.New(rec)),
		sio.WithQuery(url.Values{"key": {secret}}),
		sio.WithTransports(sio.Polling),
		sio.WithReconnect(sio.Backoff{Min: 10 * time.Millisecond, Max: 20 * time.Millisecond}))
	srv.Close()
	for deadline := time.Now().Add(10 * time.Second); ; {
		select {
		case ev := <-s.Manager().Events():
			if ev.Type != sio.ReconnectError {
				continue
			}
		case <-time.After(time.Until(deadline)):
			t.Fatalf("no failed reconnection attempt in 10 s; records:\n%s", rec.all())
		}
		break
	}
	s.Close()
	logs := rec.all()
	if !strings.Contains(logs, "INFO sio: reconnect_error attempt=") || !strings.Contains(logs, "?…") {
		t.Errorf("no record of the failed attempt:\n%s", logs)
	}
	if strings.Contains(logs, secret) {
		t.Errorf("the records contain the query's %q:\n%s", secret, logs)
	}
}
