package python

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sio-go/sio/test/serverproc"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestInstalled(t *testing.T) {
	versions, err := CheckInstalled()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("python-socketio, python-engineio, aiohttp: %s", versions)
	_, err = checkInstalled("/nonexistent/python3")
	if err == nil || !strings.Contains(err.Error(), "test/setup.sh") {
		t.Errorf("checkInstalled(missing interpreter) = %v, want an error naming test/setup.sh", err)
	}
}

func TestStopEndsProcess(t *testing.T) {
	serverproc.CheckStop(t, Start(t).Process)
}

// server.py must exit on its own when its stdin closes, i.e. when the test
// binary dies.
func TestExitsWhenStdinCloses(t *testing.T) {
	serverproc.CheckStdinEOF(t, Start(t).Process)
}

// session is an Engine.IO v4 polling session opened by hand.
type session struct {
	t      *testing.T
	client *http.Client
	url    string // with sid
	open   map[string]any
}

// handshake opens a polling session on srv.
func handshake(t *testing.T, srv *Server) *session {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	s := &session{t: t, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
	base := srv.URL() + "/socket.io/?EIO=4&transport=polling"
	status, body := s.do("GET", base, "")
	if status != http.StatusOK || !strings.HasPrefix(body, "0{") {
		t.Fatalf("handshake: %d %q", status, body)
	}
	if err := json.Unmarshal([]byte(body[1:]), &s.open); err != nil {
		t.Fatalf("handshake %q: %v", body, err)
	}
	sid, _ := s.open["sid"].(string)
	s.url = base + "&sid=" + sid
	return s
}

func (s *session) do(method, url, body string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if method == "POST" {
		req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		s.t.Fatalf("%s: %v", method, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatalf("%s: reading the body: %v", method, err)
	}
	return resp.StatusCode, string(b)
}

// post sends packets in one body and returns the answer's status and body.
func (s *session) post(packets ...string) (int, string) {
	s.t.Helper()
	return s.do("POST", s.url, strings.Join(packets, "\x1e"))
}

// poll returns the packets of one GET.
func (s *session) poll() []string {
	s.t.Helper()
	status, body := s.do("GET", s.url, "")
	if status != http.StatusOK {
		s.t.Fatalf("GET: %d %q", status, body)
	}
	return strings.Split(body, "\x1e")
}

// connect joins the main namespace.
func (s *session) connect() {
	s.t.Helper()
	if status, body := s.post("40"); status != http.StatusOK {
		s.t.Fatalf("POST 40: %d %q", status, body)
	}
	if pkts := s.poll(); len(pkts) != 1 || !strings.HasPrefix(pkts[0], `40{"sid":`) {
		s.t.Fatalf("CONNECT answered with %q", pkts)
	}
}

// recorded asks the server, with ack id, for what "record" has kept.
func (s *session) recorded(id int) []any {
	s.t.Helper()
	if status, body := s.post(fmt.Sprintf(`42%d["recorded"]`, id)); status != http.StatusOK {
		s.t.Fatalf("POST recorded: %d %q", status, body)
	}
	pkts := s.poll()
	prefix := fmt.Sprintf("43%d", id)
	if len(pkts) != 1 || !strings.HasPrefix(pkts[0], prefix) {
		s.t.Fatalf("recorded answered with %q", pkts)
	}
	var args [][]any
	if err := json.Unmarshal([]byte(pkts[0][len(prefix):]), &args); err != nil || len(args) != 1 {
		s.t.Fatalf("recorded ack %q: %v", pkts[0], err)
	}
	return args[0]
}

func records(from, n int) []string {
	pkts := make([]string, n)
	for i := range pkts {
		pkts[i] = fmt.Sprintf(`42["record",%d]`, from+i)
	}
	return pkts
}

// python-socketio's open packet has no maxPayload (as socket.io 3.x), and a
// POST is answered "OK" where the official server says "ok".
func TestHandshakeAndPostAnswer(t *testing.T) {
	srv := Start(t, WithArgs("--ping-interval", "1234", "--ping-timeout", "567"))
	s := handshake(t, srv)
	if _, ok := s.open["maxPayload"]; ok {
		t.Errorf("open packet %v has maxPayload: update README and the client's expectations", s.open)
	}
	if s.open["pingInterval"] != 1234.0 || s.open["pingTimeout"] != 567.0 {
		t.Errorf("open packet %v, want the ping settings", s.open)
	}
	if up, _ := s.open["upgrades"].([]any); len(up) != 1 || up[0] != "websocket" {
		t.Errorf("upgrades = %v, want [websocket]", s.open["upgrades"])
	}
	if status, body := s.post("40"); status != http.StatusOK || body != "OK" {
		t.Errorf("POST: %d %q, want 200 \"OK\"", status, body)
	}
}

// python-engineio decodes at most 16 packets from a POST body: a body of 17
// or more is dropped whole, and answered 200 "OK" all the same (its decoder's
// ValueError falls into the handler's catch-all). A client cannot tell.
func TestPostOver16PacketsDropped(t *testing.T) {
	srv := Start(t)
	s := handshake(t, srv)
	s.connect()
	if status, body := s.post(records(0, 16)...); status != http.StatusOK || body != "OK" {
		t.Fatalf("POST of 16 packets: %d %q", status, body)
	}
	if status, body := s.post(records(16, 17)...); status != http.StatusOK || body != "OK" {
		t.Fatalf("POST of 17 packets: %d %q, want 200 \"OK\"", status, body)
	}
	got := s.recorded(1)
	if len(got) != 16 || got[0] != 0.0 || got[15] != 15.0 {
		t.Fatalf("the server recorded %v, want 0..15 (the POST of 17 dropped whole)", got)
	}
}

// On aiohttp, python-engineio reads a POST body with one read of
// Content-Length bytes, which returns what has arrived so far: a large body
// is read only partly. The packet cut short is dropped (its JSON does not
// parse), the POST is answered 200 "OK", and the session goes on.
func TestLargePostReadPartly(t *testing.T) {
	srv := Start(t, WithArgs("--max-http-buffer-size", "8000000"))
	s := handshake(t, srv)
	s.connect()
	big := fmt.Sprintf(`42["record","%s"]`, strings.Repeat("x", 700_000))
	if status, body := s.post(big); status != http.StatusOK || body != "OK" {
		t.Fatalf("POST of 700 kB: %d %q, want 200 \"OK\"", status, body)
	}
	if status, body := s.post(records(1, 1)...); status != http.StatusOK {
		t.Fatalf("POST after it: %d %q", status, body)
	}
	got := s.recorded(1)
	if len(got) != 1 || got[0] != 1.0 {
		t.Fatalf("the server recorded %d items (%.40v), want only the small one: the 700 kB one cut short and dropped", len(got), got)
	}
}
