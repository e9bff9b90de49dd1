package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sio-go/sio/test/nodeserver"
)

// buffer is a bytes.Buffer safe for the concurrent reads of a test.
type buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// result is what one run of the command did.
type result struct {
	code           int
	stdout, stderr string
}

// runSio runs the command in-process with stdin, bounded by 60 s.
func runSio(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if stdin == nil {
		stdin = strings.NewReader("")
	}
	var out, errOut buffer
	code := run(ctx, args, stdin, &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

var timeField = regexp.MustCompile(`"time":"[^"]*"`)

// lines returns out's lines with every time replaced by T, after checking
// that each time is RFC 3339.
func lines(t *testing.T, out string) []string {
	t.Helper()
	var ls []string
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		var v struct{ Time string }
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("not a JSON line: %q: %v", l, err)
		}
		if _, err := time.Parse(time.RFC3339Nano, v.Time); err != nil {
			t.Errorf("time of %q: %v", l, err)
		}
		ls = append(ls, timeField.ReplaceAllString(l, `"time":"T"`))
	}
	return ls
}

func checkLines(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The greeting of test/node/server.js's /greet namespace, as listen prints it.
var greeting = []string{
	`{"time":"T","ns":"/greet","type":"connect"}`,
	`{"time":"T","ns":"/greet","type":"event","event":"welcome","args":["hello",{"n":1,"z":[true,null],"a":"é"}]}`,
	`{"time":"T","ns":"/greet","type":"event","event":"blob","args":[{"$binary":"AAEC/w=="},{"name":"b","data":{"$binary":"Kg=="}}]}`,
	`{"time":"T","ns":"/greet","type":"event","event":"question","args":["ready?"],"ack":true}`,
}

func TestListen(t *testing.T) {
	srv := nodeserver.Start(t)
	for _, tr := range []string{"polling,websocket", "polling", "websocket"} {
		t.Run(tr, func(t *testing.T) {
			r := runSio(t, nil, "listen", srv.URL()+"/greet", "--count", "3", "--transports", tr)
			if r.code != 0 {
				t.Fatalf("status %d, stderr:\n%s", r.code, r.stderr)
			}
			checkLines(t, lines(t, r.stdout), greeting...)
		})
	}
}

func TestListenAck(t *testing.T) {
	srv := nodeserver.Start(t)
	r := runSio(t, nil, "listen", "--ack", `["yes", {"n": 2}]`, srv.URL()+"/greet", "--count=4")
	if r.code != 0 {
		t.Fatalf("status %d, stderr:\n%s", r.code, r.stderr)
	}
	checkLines(t, lines(t, r.stdout), append(greeting,
		`{"time":"T","ns":"/greet","type":"event","event":"answer","args":["yes",{"n":2}]}`)...)
}

func TestListenNamespaces(t *testing.T) {
	srv := nodeserver.Start(t)
	r := runSio(t, nil, "listen", srv.URL(), "--ns", "/chat", "--ns", "greet", "--count", "3")
	if r.code != 0 {
		t.Fatalf("status %d, stderr:\n%s", r.code, r.stderr)
	}
	got := lines(t, r.stdout)
	if !strings.Contains(r.stdout, `"ns":"/chat","type":"connect"`) {
		t.Errorf("no connect for /chat:\n%s", r.stdout)
	}
	var greet []string
	for _, l := range got {
		if strings.Contains(l, `"ns":"/greet"`) {
			greet = append(greet, l)
		}
	}
	checkLines(t, greet, greeting...)
}

func TestEmitAck(t *testing.T) {
	srv := nodeserver.Start(t)
	file := filepath.Join(t.TempDir(), "blob")
	if err := os.WriteFile(file, []byte{0, 1, 'h', 'i'}, 0o600); err != nil {
		t.Fatal(err)
	}
	r := runSio(t, nil, "emit", srv.URL()+"/chat", "ack", "hello", "42", `{"a": [1, "b"]}`, "-1", "null", "@"+file, "--ack")
	if r.code != 0 {
		t.Fatalf("status %d, stderr:\n%s", r.code, r.stderr)
	}
	checkLines(t, lines(t, r.stdout),
		`{"time":"T","ns":"/chat","type":"ack","args":["hello",42,{"a":[1,"b"]},-1,null,{"$binary":"AAFoaQ=="}]}`)

	// Without --ack: the event is written before the connection closes.
	r = runSio(t, nil, "emit", srv.URL(), "count", "x")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("emit without ack: status %d, stdout %q, stderr:\n%s", r.code, r.stdout, r.stderr)
	}
	r = runSio(t, nil, "emit", srv.URL(), "counts", "--ack")
	checkLines(t, lines(t, r.stdout), `{"time":"T","ns":"/","type":"ack","args":[{"connections":3,"count":1,"counted":1}]}`)
}

func TestEmitRefused(t *testing.T) {
	srv := nodeserver.Start(t)
	r := runSio(t, nil, "emit", srv.URL()+"/auth", "ack", "--auth", `{"token":"wrong"}`)
	if r.code != 1 {
		t.Fatalf("status %d, want 1; stderr:\n%s", r.code, r.stderr)
	}
	checkLines(t, lines(t, r.stdout), `{"time":"T","ns":"/auth","type":"connect_error","message":"not authorized","data":{"code":401}}`)
	if want := `connect refused: not authorized (data: {"code":401})`; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr %q does not say %q", r.stderr, want)
	}

	r = runSio(t, nil, "emit", srv.URL()+"/auth", "ack", "ok", "--auth", `{"token":"secret"}`, "--ack")
	if r.code != 0 {
		t.Fatalf("status %d, stderr:\n%s", r.code, r.stderr)
	}
	checkLines(t, lines(t, r.stdout), `{"time":"T","ns":"/auth","type":"ack","args":["ok"]}`)
}

// TestEmitAckTimeout checks that an acknowledgement that does not come is
// an error (status 1) once --ack-timeout has passed.
func TestEmitAckTimeout(t *testing.T) {
	srv := nodeserver.Start(t)
	r := runSio(t, nil, "emit", srv.URL(), "unheard-of", "--ack", "--ack-timeout", "300ms")
	if r.code != 1 || !strings.Contains(r.stderr, "no acknowledgement in 300ms") || r.stdout != "" {
		t.Errorf("status %d, stdout %q, stderr %q; want 1 and the timeout", r.code, r.stdout, r.stderr)
	}
}

// TestVerbose checks that -v turns on the library's logger, which shows
// neither the auth payload nor a header's value.
func TestVerbose(t *testing.T) {
	srv := nodeserver.Start(t)
	r := runSio(t, nil, "emit", "-v", srv.URL()+"/auth", "ack", "--auth", `{"token":"secret"}`,
		"--header", "Authorization: Bearer hdr-5ec2e7", "--ack")
	if r.code != 0 {
		t.Fatalf("status %d, stderr:\n%s", r.code, r.stderr)
	}
	for _, want := range []string{`msg="sio: handshake"`, `msg="sio: send" packet="40/auth <auth withheld>"`, `msg="sio: recv" packet=43/auth,0[]`} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not contain %q:\n%s", want, r.stderr)
		}
	}
	for _, secret := range []string{"secret", "hdr-5ec2e7"} {
		if strings.Contains(r.stderr, secret) {
			t.Errorf("stderr shows %q:\n%s", secret, r.stderr)
		}
	}
}

// TestBadUsage checks that bad input gets status 2 and a message naming
// the problem, before any connection is tried.
func TestBadUsage(t *testing.T) {
	const u = "http://127.0.0.1:1"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "usage: sio"},
		{[]string{"frob"}, `unknown command "frob"`},
		{[]string{"listen"}, "no URL"},
		{[]string{"listen", u, "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"listen", u, "--count"}, "flag needs an argument: -count"},
		{[]string{"listen", u, "--count", "x"}, `invalid value "x" for flag -count`},
		{[]string{"listen", u, "extra"}, "unexpected arguments after the URL"},
		{[]string{"listen", "ftp://h"}, "scheme must be http, https, ws or wss"},
		{[]string{"listen", "http://"}, "no host"},
		{[]string{"listen", u, "--ack", "{bad"}, "--ack: not valid JSON"},
		{[]string{"listen", u, "--transports", "carrier-pigeon"}, `unknown transport "carrier-pigeon"`},
		{[]string{"listen", u, "--auth", "[1]"}, "--auth: want a JSON object"},
		{[]string{"listen", u, "--auth", "{bad"}, "--auth: want a JSON object"},
		{[]string{"listen", u, "--query", "novalue"}, "--query: want k=v"},
		{[]string{"listen", u, "--header", "NoColon"}, "--header: want 'Name: value'"},
		{[]string{"listen", u, "--eio", "5"}, "--eio: want 3 or 4"},
		{[]string{"listen", u, "--cacert", "/nonexistent/ca.pem"}, "--cacert: open /nonexistent/ca.pem"},
		{[]string{"listen", u, "--timeout", "-1s"}, "--timeout: want a positive duration"},
		{[]string{"emit", u}, "want URL and EVENT"},
		{[]string{"emit", u, "ev", "{bad"}, `argument "{bad" is not valid JSON`},
		{[]string{"emit", u, "ev", `"unterminated`}, "is not valid JSON"},
		{[]string{"emit", u, "ev", "[1,"}, "is not valid JSON"},
		{[]string{"emit", u, "ev", "@/nonexistent/file"}, "@/nonexistent/file: open /nonexistent/file"},
		{[]string{"emit", u, "ev", "@"}, "@: no file name"},
		{[]string{"emit", u, "disconnect"}, `"disconnect" is a reserved event name`},
		{[]string{"emit", u, "ev", "--ack-timeout", "0s"}, "--ack-timeout: want a positive duration"},
		{[]string{"connect", u, u}, "unexpected arguments after the URL"},
		{[]string{"bench", u, "--clients", "0"}, "--clients: want 1 to 1000000"},
		{[]string{"bench", u, "--duration", "0s"}, "--duration: want a positive duration"},
		{[]string{"bench", u, "--ramp", "1h"}, "--ramp: want 0 to --duration"},
		{[]string{"bench", u, "--rate", "-1"}, "--rate: want 0 to 1e6"},
		{[]string{"bench", u, "--rate", "NaN"}, "--rate: want 0 to 1e6"},
		{[]string{"bench", u, "--size", "3", "--payload", "1"}, "--size and --payload: choose one"},
		{[]string{"bench", u, "--payload", "{bad"}, "--payload: not valid JSON"},
		{[]string{"bench", u, "--local-addrs", "127.0.0.1,nope"}, `--local-addrs: "nope" is not an IP address`},
		{[]string{"bench", u, "--event", "connect"}, `--event: "connect" is a reserved event name`},
	} {
		r := runSio(t, nil, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("sio %q: status %d, stderr %q; want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

// TestHelp checks that -h lists a command's flags and exits 0.
func TestHelp(t *testing.T) {
	r := runSio(t, nil, "bench", "-h")
	if r.code != 0 || !strings.Contains(r.stdout, "usage: sio bench URL") || !strings.Contains(r.stdout, "-clients") {
		t.Errorf("status %d, stdout:\n%s", r.code, r.stdout)
	}
}

// TestUnreachable checks that a server that is not there is an error
// (status 1), reported once the connect timeout has passed.
func TestUnreachable(t *testing.T) {
	r := runSio(t, nil, "emit", "http://127.0.0.1:1", "ev", "--timeout", "2s", "--no-reconnect")
	if r.code != 1 || r.stderr == "" {
		t.Errorf("status %d, stderr %q; want 1 and the reason", r.code, r.stderr)
	}
}

// TestListenServerGone checks the lines of a reconnection that fails (the
// server has stopped), and that ending the context (Ctrl-C) ends listen
// with status 0.
func TestListenServerGone(t *testing.T) {
	srv := nodeserver.Start(t)
	var out, errOut buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"listen", srv.URL() + "/chat"}, strings.NewReader(""), &out, &errOut)
	}()
	waitFor := func(what string) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !strings.Contains(out.String(), what); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %s after 20 s, stdout:\n%s\nstderr:\n%s", what, out.String(), errOut.String())
			}
		}
	}
	waitFor(`"type":"connect"`)
	srv.Stop()
	waitFor(`"type":"reconnect","step":"error","attempt":1,"reason":`)
	cancel() // Ctrl-C
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("status %d, stderr:\n%s", code, errOut.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("listen did not end with its context")
	}
	for _, want := range []string{`"type":"disconnect","reason":"transport `, `"type":"reconnect","step":"attempt","attempt":1,"delay":`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("stdout does not contain %s:\n%s", want, out.String())
		}
	}
}

// TestOlderServers checks emit, with and without auth, against socket.io
// 3.1 and 2.5 (Engine.IO v3, found by itself or pinned with --eio 3).
func TestOlderServers(t *testing.T) {
	for _, tc := range []struct {
		version string
		flags   []string
	}{
		{"3", nil},
		{"2", nil},
		{"2", []string{"--eio", "3"}},
	} {
		t.Run(tc.version+strings.Join(tc.flags, ""), func(t *testing.T) {
			srv := nodeserver.Start(t, nodeserver.WithVersion(tc.version))
			r := runSio(t, nil, append([]string{"emit", srv.URL() + "/admin", "ack", "hi", `{"n":1}`, "--ack"}, tc.flags...)...)
			if r.code != 0 {
				t.Fatalf("status %d, stderr:\n%s", r.code, r.stderr)
			}
			checkLines(t, lines(t, r.stdout), `{"time":"T","ns":"/admin","type":"ack","args":["hi",{"n":1}]}`)

			// Auth (a 2.x server reads it from the namespace's query):
			// accepted, and not in the debug log.
			r = runSio(t, nil, append([]string{"emit", srv.URL() + "/auth", "ack", "ok", "--ack", "-v", "--auth", `{"token":"secret"}`}, tc.flags...)...)
			if r.code != 0 {
				t.Fatalf("status %d, stderr:\n%s", r.code, r.stderr)
			}
			checkLines(t, lines(t, r.stdout), `{"time":"T","ns":"/auth","type":"ack","args":["ok"]}`)
			if !strings.Contains(r.stderr, "40/auth <auth withheld>") || strings.Contains(r.stderr, "secret") {
				t.Errorf("debug log:\n%s", r.stderr)
			}
		})
	}
}
