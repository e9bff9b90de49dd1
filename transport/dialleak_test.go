package transport

import (
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// openFDs counts the file descriptors this process has open, or returns -1
// where /proc/self/fd does not exist.
func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return -1
	}
	return len(fds)
}

// failedDial is one way for a dial to fail.
type failedDial struct {
	name string
	url  string
	// client is the user's HTTP client; it stays open throughout, as a
	// program's would.
	client *http.Client
	// ctx returns the context of one dial and its cancel.
	ctx func() (context.Context, context.CancelFunc)
}

// failedDials starts the servers of every kind of failed dial: refused with
// 404 (a wrong path) or 400 (a probe for a session that just ended), the TLS
// handshake failing (an untrusted certificate), a server that never answers
// (the dial times out, or is cancelled half-way), and a closed port. The
// servers keep their connections alive, as real ones do, until the test
// ends.
func failedDials(t *testing.T) []failedDial {
	refuse := func(status int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	tlsSrv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tlsSrv.Config.ErrorLog = log.New(io.Discard, "", 0) // "TLS handshake error" each time
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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := "http://" + ln.Addr().String()
	ln.Close()

	client := func() *http.Client {
		tr := &http.Transport{}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr}
	}
	long := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), testTimeout)
	}
	return []failedDial{
		{"refused 404", refuse(404, "Not Found\n"), client(), long},
		{"refused 400", refuse(400, `{"code":1,"message":"Session ID unknown"}`), client(), long},
		{"TLS error", tlsSrv.URL, client(), long},
		{"timeout", hang.URL, client(), func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 20*time.Millisecond)
		}},
		{"cancelled", hang.URL, client(), func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(10*time.Millisecond, cancel)
			return ctx, cancel
		}},
		{"connection refused", closedPort, client(), long},
	}
}

// TestFailedDialsLeakNothing: whatever makes a dial fail, every connection
// it made is closed and every goroutine it started has returned, with the
// servers still up and the user's client still open. A refused WebSocket
// handshake used to leave its connection open in the transport cloned for
// the dial, kept alive with two net/http goroutines, for good.
func TestFailedDialsLeakNothing(t *testing.T) {
	const dials = 20
	for _, fd := range failedDials(t) {
		t.Run(fd.name, func(t *testing.T) {
			u, err := url.Parse(fd.url + "/engine.io/")
			if err != nil {
				t.Fatal(err)
			}
			cfg := Config{URL: u, HTTPClient: fd.client}
			for _, tr := range []struct {
				name string
				dial func(ctx context.Context) (Conn, error)
			}{
				{"websocket", func(ctx context.Context) (Conn, error) { return DialWebSocket(ctx, cfg, "") }},
				{"websocket sid", func(ctx context.Context) (Conn, error) { return DialWebSocket(ctx, cfg, testSID) }},
				{"polling", func(ctx context.Context) (Conn, error) { return DialPolling(ctx, cfg) }},
			} {
				ignore := goleak.IgnoreCurrent()
				before := openFDs(t)
				for range dials {
					ctx, cancel := fd.ctx()
					c, err := tr.dial(ctx)
					cancel()
					if err == nil {
						c.Close()
						t.Fatalf("%s: dial succeeded", tr.name)
					}
				}
				if tr.name == "polling" {
					// DialPolling makes its requests with the user's
					// client: a refused handshake leaves its connection
					// in that client's pool, for reuse, as any request
					// would. The pool bounds them (at most 2 per host).
					if n := openFDs(t); before >= 0 && n > before+4 {
						t.Errorf("%s: %d dials left %d descriptors open, want at most the pool's", tr.name, dials, n-before)
					}
					fd.client.CloseIdleConnections()
				}
				// The server side of a closed connection ends a moment later.
				deadline := time.Now().Add(testTimeout)
				n := openFDs(t)
				for n > before && time.Now().Before(deadline) {
					time.Sleep(10 * time.Millisecond)
					runtime.GC()
					n = openFDs(t)
				}
				if n > before {
					t.Errorf("%s: %d failed dials left %d more descriptors open", tr.name, dials, n-before)
				}
				if err := goleak.Find(ignore); err != nil {
					t.Errorf("%s: %d failed dials left goroutines behind: %v", tr.name, dials, err)
				}
			}
		})
	}
}
