package nodeserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/coder/websocket"

	"github.com/sio-go/sio/test/serverproc"
)

// decodeV3Payload splits an Engine.IO v3 polling body, "<length>:<packet>" repeated with no
// separator, where length counts UTF-16 code units.
func decodeV3Payload(body string) ([]string, error) {
	var packets []string
	for rest := body; rest != ""; {
		colon := strings.IndexByte(rest, ':')
		if colon <= 0 {
			return nil, fmt.Errorf("no length prefix at %q", rest)
		}
		n, err := strconv.Atoi(rest[:colon])
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad length %q", rest[:colon])
		}
		rest = rest[colon+1:]
		units, end := 0, 0
		for i, r := range rest {
			if units == n {
				end = i
				break
			}
			units += len(utf16.Encode([]rune{r}))
			end = i + len(string(r))
		}
		if units != n {
			return nil, fmt.Errorf("packet shorter than its length %d: %q", n, rest)
		}
		packets = append(packets, rest[:end])
		rest = rest[end:]
	}
	return packets, nil
}

func TestDecodeV3Payload(t *testing.T) {
	got, err := decodeV3Payload("6:4hello2:4€3:4😀")
	if want := []string{"4hello", "4€", "4😀"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("decodeV3Payload = %q, %v; want %q", got, err, want)
	}
	for _, bad := range []string{"4hello", "7:4hello", ":4", "x:4"} {
		if _, err := decodeV3Payload(bad); err == nil {
			t.Errorf("decodeV3Payload(%q) succeeded", bad)
		}
	}
}

// openPacket decodes the JSON of an Engine.IO open packet "0{...}".
func openPacket(t *testing.T, pkt string) map[string]any {
	t.Helper()
	if !strings.HasPrefix(pkt, "0{") {
		t.Fatalf("%q is not an Engine.IO open packet", pkt)
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(pkt[1:]), &m); err != nil {
		t.Fatalf("open packet %q: %v", pkt, err)
	}
	if sid, _ := m["sid"].(string); sid == "" {
		t.Errorf("open packet %q has no sid", pkt)
	}
	return m
}

// v3OpenPrefix is how every Engine.IO v3 handshake body starts: a decimal length, a colon
// and the open packet.
var v3OpenPrefix = regexp.MustCompile(`^[1-9][0-9]*:0\{"sid":"`)

// checkV3Handshake asserts that body is an Engine.IO v3 polling handshake: "<n>:0{...}"
// with no maxPayload, followed by the implicit CONNECT of "/", "2:40". With connectMayLag
// the "2:40" may be missing: socket.io 3.x (and 4.x) with allowEIO3 connect "/" on their
// own too, but asynchronously, so the "40" can come in the next poll instead; 2.x puts it
// in the handshake body (engine.io's initialPacket). It returns the open packet's sid and
// whether the body held the "40".
func checkV3Handshake(t *testing.T, body string, pingInterval, pingTimeout float64, connectMayLag bool) (string, bool) {
	t.Helper()
	if !v3OpenPrefix.MatchString(body) {
		t.Fatalf("body %q does not begin with <n>:0{\"sid\":", body)
	}
	packets, err := decodeV3Payload(body)
	if err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	connected := len(packets) == 2 && packets[1] == "40"
	if !connected && !(connectMayLag && len(packets) == 1) {
		t.Fatalf("body %q = packets %q, want the open packet and 40", body, packets)
	}
	m := openPacket(t, packets[0])
	if _, ok := m["maxPayload"]; ok {
		t.Errorf("v3 open packet %q has maxPayload", packets[0])
	}
	if up, _ := m["upgrades"].([]any); !reflect.DeepEqual(up, []any{"websocket"}) {
		t.Errorf("upgrades = %v, want [websocket]", m["upgrades"])
	}
	if m["pingInterval"] != pingInterval || m["pingTimeout"] != pingTimeout {
		t.Errorf("pingInterval, pingTimeout = %v, %v; want %v, %v",
			m["pingInterval"], m["pingTimeout"], pingInterval, pingTimeout)
	}
	sid, _ := m["sid"].(string)
	return sid, connected
}

func TestVersionDir(t *testing.T) {
	for v, rel := range map[string]string{"": "test/node", "4": "test/node", "3": "test/node/legacy/v3", "2": "test/node/legacy/v2"} {
		dir, err := VersionDir(v)
		if err != nil || !strings.HasSuffix(filepath.ToSlash(dir), "/"+rel) {
			t.Errorf("VersionDir(%q) = %q, %v; want .../%s", v, dir, err, rel)
		}
	}
	if d, _ := VersionDir("4"); d != Dir() {
		t.Errorf("VersionDir(4) = %q, Dir() = %q", d, Dir())
	}
	if _, err := VersionDir("1"); err == nil || !strings.Contains(err.Error(), `"1"`) {
		t.Errorf("VersionDir(1) error = %v, want unknown version", err)
	}
}

func TestMissingNodeModulesMessageVersions(t *testing.T) {
	for _, v := range Versions() {
		dir, _ := VersionDir(v)
		rel, _ := versionRel(v)
		if err := checkInstalledAt(dir, rel); err != nil {
			t.Errorf("version %s: checkInstalledAt(%s): %v", v, dir, err)
		}
		err := checkInstalledAt(t.TempDir(), rel)
		if want := "npm ci --prefix " + rel; err == nil || !strings.HasSuffix(err.Error(), want) {
			t.Errorf("version %s: checkInstalledAt(empty dir) = %v, want an error naming %s", v, err, want)
		}
	}
}

func TestVersionsStart(t *testing.T) {
	for _, v := range append(Versions(), "") {
		t.Run("v"+v, func(t *testing.T) {
			t.Parallel()
			s := Start(t, WithVersion(v))
			want := v
			if v == "" {
				want = DefaultVersion
			}
			if s.Version() != want {
				t.Errorf("Version() = %q, want %q", s.Version(), want)
			}
			eio := "4"
			if want == "2" {
				eio = "3"
			}
			resp, body := get(t, s.URL()+"/socket.io/?EIO="+eio+"&transport=polling&b64=1")
			if resp.StatusCode != http.StatusOK || !strings.Contains(body, `0{"sid":"`) {
				t.Fatalf("EIO=%s handshake: status %d, body %q", eio, resp.StatusCode, body)
			}
			if got := resp.Header.Get("Set-Cookie"); got != "sticky=abc; Path=/" {
				t.Errorf("Set-Cookie = %q, want %q", got, "sticky=abc; Path=/")
			}
		})
	}
}

func TestV2PollingHandshakeEIO3(t *testing.T) {
	s := Start(t, WithVersion("2"), WithArgs("--ping-interval", "1234", "--ping-timeout=567"))
	resp, body := get(t, s.URL()+"/socket.io/?EIO=3&transport=polling&b64=1")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %q", resp.StatusCode, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Errorf("Content-Type = %q", ct)
	}
	checkV3Handshake(t, body, 1234, 567, false)
	t.Logf("EIO=3 handshake: %s", body)
}

// A socket.io 2.x server (engine.io 3.6) ignores the EIO query parameter: asked for EIO=4,
// it still speaks Engine.IO v3. Over polling it answers 200 with a length-prefixed v3
// payload, with or without b64=1, e.g. (socket.io 2.5.1, default ping settings)
//
//	97:0{"sid":"7FUCuq6CkXRFNdDGAAAA","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000}2:40
//
// (Content-Type text/plain; charset=UTF-8), not an error. A v4 client must recognise it
// instead of misparsing it: a v4 open packet always begins with "0{", a v3 body with its
// decimal length and ':' (whose first digit can even be a valid v4 packet type, "1" close ..
// "6" noop, so decoding the body as v4 packets goes wrong); there is no maxPayload; the
// CONNECT of "/" ("40") comes unasked; and the server never pings: it waits for the client's
// pings and closes the session ("ping timeout") after pingInterval+pingTimeout without one.
func TestV2AnswersEIO4WithV3Handshake(t *testing.T) {
	s := Start(t, WithVersion("2"), WithArgs("--ping-interval", "1234", "--ping-timeout=567"))
	for _, q := range []string{"EIO=4&transport=polling", "EIO=4&transport=polling&b64=1"} {
		resp, body := get(t, s.URL()+"/socket.io/?"+q)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: status %d, body %q", q, resp.StatusCode, body)
		}
		checkV3Handshake(t, body, 1234, 567, false)
		t.Logf("%s: %s", q, body)
	}
}

// readFrames dials url as a WebSocket and returns the first n text frames the server sends.
func readFrames(t *testing.T, url string, n int) []string {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr}})
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	defer c.CloseNow()
	var frames []string
	for len(frames) < n {
		typ, data, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("%s: reading frame %d: %v (got %q)", url, len(frames), err, frames)
		}
		if typ != websocket.MessageText {
			t.Fatalf("%s: frame %d is binary: %x", url, len(frames), data)
		}
		frames = append(frames, string(data))
	}
	return frames
}

// Over WebSocket a 2.x server answers EIO=4 with the same two text frames as EIO=3, e.g.
//
//	0{"sid":"SCjY4Loyv_I2IE4zAAAA","upgrades":[],"pingInterval":25000,"pingTimeout":20000}
//	40
//
// which, unlike the polling body, look like v4 frames. What gives a 2.x server away here is
// the unasked "40" right after the open packet (a v5 server waits for the client's CONNECT)
// and then the silence: no server pings.
func TestV2WebSocketEIO4(t *testing.T) {
	s := Start(t, WithVersion("2"), WithArgs("--ping-interval", "1234", "--ping-timeout=567"))
	for _, eio := range []string{"3", "4"} {
		frames := readFrames(t, "ws://127.0.0.1:"+strconv.Itoa(s.Port())+"/socket.io/?EIO="+eio+"&transport=websocket", 2)
		m := openPacket(t, frames[0])
		if _, ok := m["maxPayload"]; ok {
			t.Errorf("EIO=%s: open packet %q has maxPayload", eio, frames[0])
		}
		if up, _ := m["upgrades"].([]any); len(up) != 0 || m["pingInterval"] != 1234.0 || m["pingTimeout"] != 567.0 {
			t.Errorf("EIO=%s: open packet %q, want no upgrades and the ping settings", eio, frames[0])
		}
		if frames[1] != "40" {
			t.Errorf("EIO=%s: second frame %q, want 40", eio, frames[1])
		}
		t.Logf("EIO=%s over WebSocket: %q", eio, frames)
	}
}

// socket.io 3.1 (engine.io 4.1) answers EIO=4 with an unprefixed v4 open packet. Unlike
// 4.x it has no maxPayload (engine.io added that in 5.x, socket.io 4.1+), so a v4 client
// must treat maxPayload as optional. No "40" follows: the client sends CONNECT itself.
func TestV3HandshakeEIO4(t *testing.T) {
	s := Start(t, WithVersion("3"), WithArgs("--ping-interval", "1234", "--ping-timeout=567", "--max-http-buffer-size", "4096"))
	resp, body := get(t, s.URL()+"/socket.io/?EIO=4&transport=polling")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, body %q", resp.StatusCode, body)
	}
	m := openPacket(t, body)
	if _, ok := m["maxPayload"]; ok {
		t.Errorf("socket.io 3.1 open packet %q has maxPayload: update the comment above", body)
	}
	if up, _ := m["upgrades"].([]any); !reflect.DeepEqual(up, []any{"websocket"}) || m["pingInterval"] != 1234.0 || m["pingTimeout"] != 567.0 {
		t.Errorf("open packet %q, want upgrades [websocket] and the ping settings", body)
	}
	if strings.Contains(body, "\x1e") {
		t.Errorf("body %q holds more than the open packet", body)
	}
	t.Logf("EIO=4 handshake: %s", body)
}

// socket.io 3.1 refuses EIO=3 unless --allow-eio3 is given. With it, it speaks Engine.IO v3
// like 2.x and connects "/" on its own too, but asynchronously: the "40" comes in the
// handshake body or in the next poll. The query of a namespace CONNECT "40/auth?token=x,"
// becomes socket.handshake.auth there, so /auth works as for EIO=4.
func TestV3EIO3(t *testing.T) {
	s := Start(t, WithVersion("3"))
	resp, body := get(t, s.URL()+"/socket.io/?EIO=3&transport=polling&b64=1")
	if resp.StatusCode != http.StatusBadRequest || body != `{"code":5,"message":"Unsupported protocol version"}` {
		t.Errorf("EIO=3 without --allow-eio3: status %d, body %q; want 400 code 5", resp.StatusCode, body)
	}

	s = Start(t, WithVersion("3"), WithArgs("--allow-eio3", "--ping-interval", "1234", "--ping-timeout=567"))
	resp, body = get(t, s.URL()+"/socket.io/?EIO=3&transport=polling&b64=1")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("EIO=3 with --allow-eio3: status %d, body %q", resp.StatusCode, body)
	}
	sid, connected := checkV3Handshake(t, body, 1234, 567, true)
	t.Logf("EIO=3 handshake (40 in the body: %v): %s", connected, body)
	if !connected {
		url := s.URL() + "/socket.io/?EIO=3&transport=polling&b64=1&sid=" + sid
		if resp, body = get(t, url); resp.StatusCode != http.StatusOK || body != "2:40" {
			t.Errorf("second poll: status %d, body %q; want 2:40", resp.StatusCode, body)
		}
	}
}

func TestLegacyWebSocketOnlyRefusesPolling(t *testing.T) {
	for v, eio := range map[string]string{"2": "3", "3": "4"} {
		s := Start(t, WithVersion(v), WithArgs("--transports", "websocket"))
		resp, body := get(t, s.URL()+"/socket.io/?EIO="+eio+"&transport=polling")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"code":0`) {
			t.Errorf("v%s: status %d, body %q; want 400 code 0 (Transport unknown)", v, resp.StatusCode, body)
		}
	}
}

// The legacy servers refuse --recovery (socket.io 4.6+) and unknown flags with exit status 2.
func TestLegacyRefusesRecovery(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found: %v", err)
	}
	for _, v := range []string{"2", "3"} {
		dir, _ := VersionDir(v)
		for _, arg := range []string{"--recovery", "--bogus"} {
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
			cmd := exec.CommandContext(ctx, node, filepath.Join(dir, "server.js"), arg)
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			cancel()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 2 {
				t.Errorf("v%s %s: %v, want exit status 2; output %q", v, arg, err, out)
			}
			if strings.Contains(string(out), "LISTENING") {
				t.Errorf("v%s %s: listened anyway: %q", v, arg, out)
			}
		}
	}
}

func TestLegacyStopAndStdin(t *testing.T) {
	for _, v := range []string{"2", "3"} {
		t.Run("v"+v, func(t *testing.T) {
			serverproc.CheckStop(t, Start(t, WithVersion(v)).Process)
			serverproc.CheckStdinEOF(t, Start(t, WithVersion(v)).Process)
		})
	}
}

// The legacy packages must have their own node_modules: a bare require("socket.io") from
// test/node/legacy would find test/node/node_modules (4.x). server.js checks the version.
func TestLegacyPackagesPinned(t *testing.T) {
	for v, prefix := range map[string]string{"2": "2.5.", "3": "3.1."} {
		dir, _ := VersionDir(v)
		raw, err := os.ReadFile(filepath.Join(dir, "node_modules", "socket.io", "package.json"))
		if err != nil {
			t.Fatal(err)
		}
		var pkg struct{ Version string }
		if err := json.Unmarshal(raw, &pkg); err != nil || !strings.HasPrefix(pkg.Version, prefix) {
			t.Errorf("v%s: installed socket.io %q (%v), want %sx", v, pkg.Version, err, prefix)
		}
	}
}
