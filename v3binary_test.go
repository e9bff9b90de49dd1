package sio_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sio-go/sio"
)

// v3OpenText is an Engine.IO v3 open packet: no maxPayload.
const v3OpenText = `0{"sid":"S1","upgrades":[],"pingInterval":25000,"pingTimeout":20000}`

// v3Binary writes string packets as an Engine.IO v3 body in binary framing,
// as some Go servers answer a client that does not ask for b64=1
// (application/octet-stream): for each, a byte 0 (a string packet), the
// length's decimal digits as bytes, the byte 255, the packet.
func v3Binary(packets ...string) string {
	var sb strings.Builder
	for _, p := range packets {
		sb.WriteByte(0)
		for _, d := range strconv.Itoa(len(p)) {
			sb.WriteByte(byte(d - '0'))
		}
		sb.WriteByte(0xff)
		sb.WriteString(p)
	}
	return sb.String()
}

// A server that ignores EIO=4 and answers the handshake with a binary v3
// body gets the v3 fallback README promises, with no option: the client
// asks again with EIO=3&b64=1, gets the text v3 handshake, and connects.
func TestV3BinaryHandshakeFallsBack(t *testing.T) {
	var binaryAnswers, textAnswers atomic.Int32
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		switch {
		case r.Method == http.MethodPost:
			io.Copy(io.Discard, r.Body)
			io.WriteString(w, "ok")
		case q.Get("sid") != "": // a long poll: nothing to say
			select {
			case <-r.Context().Done():
			case <-done:
			case <-time.After(10 * time.Second):
				io.WriteString(w, "1:6")
			}
		case q.Get("b64") == "1":
			textAnswers.Add(1)
			io.WriteString(w, strconv.Itoa(len(v3OpenText))+":"+v3OpenText+"2:40")
		default:
			binaryAnswers.Add(1)
			w.Header().Set("Content-Type", "application/octet-stream")
			io.WriteString(w, v3Binary(v3OpenText, "40"))
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(done) }) // runs first
	s := dial(t, srv.URL, sio.WithTransports(sio.Polling))
	if v := s.Manager().EngineIO(); v != 3 {
		t.Errorf("EngineIO() = %d, want 3", v)
	}
	if binaryAnswers.Load() != 1 || textAnswers.Load() != 1 {
		t.Errorf("handshakes: %d binary, %d text; want one of each", binaryAnswers.Load(), textAnswers.Load())
	}
}
