package nodeserver

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sio-go/sio/test/serverproc"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// get fetches url with a client whose connections are closed afterwards (for goleak).
func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: reading body: %v", url, err)
	}
	return resp, string(body)
}

func TestHandshake(t *testing.T) {
	s := Start(t)
	if want := "http://127.0.0.1:" + strconv.Itoa(s.Port()); s.URL() != want {
		t.Fatalf("URL() = %q, want %q", s.URL(), want)
	}
	resp, body := get(t, s.URL()+"/socket.io/?EIO=4&transport=polling")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %q", resp.StatusCode, body)
	}
	if !strings.HasPrefix(body, "0{") || !strings.Contains(body, `"sid"`) {
		t.Fatalf("body %q is not an Engine.IO open packet", body)
	}
	if !strings.Contains(body, `"upgrades":["websocket"]`) {
		t.Errorf("body %q does not offer the websocket upgrade", body)
	}
	if got := resp.Header.Get("Set-Cookie"); got != "sticky=abc; Path=/" {
		t.Errorf("Set-Cookie = %q, want %q", got, "sticky=abc; Path=/")
	}
}

func TestArgsReachServer(t *testing.T) {
	s := Start(t, WithArgs("--ping-interval", "1234", "--ping-timeout=567", "--max-http-buffer-size", "4096"))
	_, body := get(t, s.URL()+"/socket.io/?EIO=4&transport=polling")
	for _, want := range []string{`"pingInterval":1234`, `"pingTimeout":567`, `"maxPayload":4096`} {
		if !strings.Contains(body, want) {
			t.Errorf("handshake %q lacks %s", body, want)
		}
	}
}

func TestWebSocketOnlyRefusesPolling(t *testing.T) {
	s := Start(t, WithArgs("--transports", "websocket"))
	resp, body := get(t, s.URL()+"/socket.io/?EIO=4&transport=polling")
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d, want 400; body %q", resp.StatusCode, body)
	}
	if !strings.Contains(body, `"code":0`) {
		t.Errorf("body %q, want code 0 (Transport unknown)", body)
	}
}

func TestStopEndsProcess(t *testing.T) {
	serverproc.CheckStop(t, Start(t).Process)
}

// server.js must exit on its own when its stdin closes, i.e. when the test binary dies.
func TestExitsWhenStdinCloses(t *testing.T) {
	serverproc.CheckStdinEOF(t, Start(t).Process)
}

func TestMissingNodeModulesMessage(t *testing.T) {
	if err := checkInstalled(Dir()); err != nil {
		t.Fatalf("checkInstalled(%s): %v", Dir(), err)
	}
	err := checkInstalled(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "npm ci --prefix test/node") {
		t.Fatalf("checkInstalled(empty dir) = %v, want an error naming npm ci --prefix test/node", err)
	}
}
