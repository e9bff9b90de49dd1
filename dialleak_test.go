package sio_test

import (
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/test/testserver"
)

// openFDs counts this process's open file descriptors; -1 where
// /proc/self/fd does not exist.
func openFDs() int {
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(fds)
}

// Whatever makes a Dial fail (the handshake refused with HTTP 404, a TLS
// error, a server that never answers, a cancelled context), and when the
// upgrade's probe is refused (400 "Session ID unknown", as for a session
// that just ended), every transport the client opened is closed and every
// goroutine it started has returned: after 20 of each, goleak finds nothing
// new and /proc/self/fd holds no more descriptors than before, with the
// servers still up and the program's HTTP client still open.
func TestFailedDialsLeakNothing(t *testing.T) {
	notFound := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(notFound.Close)
	tlsSrv := httptest.NewUnstartedServer(http.NotFoundHandler())
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0)
	tlsSrv.StartTLS()
	t.Cleanup(tlsSrv.Close)
	stop := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-stop:
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(stop) }) // runs first
	// The probe's WebSocket request is refused; the session stays on polling.
	noUpgrade := startServer(t, testserver.WithIntercept(func(ctx context.Context, w http.ResponseWriter, r *http.Request) bool {
		if q := r.URL.Query(); q.Get("transport") == "websocket" && q.Get("sid") != "" {
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"code":1,"message":"Session ID unknown"}`)
			return true
		}
		return false
	}))

	long := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), 10*time.Second)
	}
	for _, tc := range []struct {
		name string
		url  string
		ctx  func() (context.Context, context.CancelFunc)
		// dialed says whether Dial succeeds (the probe refused); the
		// socket is then closed at once.
		dialed bool
	}{
		{"refused 404", notFound.URL, long, false},
		{"TLS error", tlsSrv.URL, long, false},
		{"timeout", hang.URL, func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}, false},
		{"cancelled", hang.URL, func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(10*time.Millisecond, cancel)
			return ctx, cancel
		}, false},
		{"probe refused", noUpgrade.URL(), long, true},
	} {
		for _, transports := range [][]sio.Transport{{sio.Polling, sio.WebSocket}, {sio.WebSocket}} {
			if tc.dialed && len(transports) == 1 {
				continue // no upgrade over WebSocket alone
			}
			name := tc.name + " " + transports[0].String()
			t.Run(name, func(t *testing.T) {
				tr := &http.Transport{}
				defer tr.CloseIdleConnections()
				client := &http.Client{Transport: tr}
				ignore := goleak.IgnoreCurrent()
				before := openFDs()
				for range 20 {
					ctx, cancel := tc.ctx()
					s, err := sio.Dial(ctx, tc.url, sio.WithHTTPClient(client), sio.WithTransports(transports...), sio.WithoutReconnect())
					if tc.dialed {
						if err != nil {
							cancel()
							t.Fatalf("Dial: %v", err)
						}
						for ev := range s.Events() {
							if ev.Type == sio.EventConnect {
								break
							}
						}
						s.Close()
					} else if err == nil {
						s.Close()
						cancel()
						t.Fatal("Dial succeeded")
					}
					cancel()
				}
				// The polling requests used the program's client: its pool
				// keeps a connection or two for reuse, as after any request.
				if n := openFDs(); before >= 0 && n > before+4 {
					t.Errorf("20 dials left %d descriptors open, want at most the pool's", n-before)
				}
				tr.CloseIdleConnections()
				deadline := time.Now().Add(5 * time.Second)
				n := openFDs()
				for n > before && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
					n = openFDs()
				}
				if n > before {
					t.Errorf("20 dials left %d more descriptors open", n-before)
				}
				if err := goleak.Find(ignore); err != nil {
					t.Errorf("20 dials left goroutines behind: %v", err)
				}
			})
		}
	}
}
