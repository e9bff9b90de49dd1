package sio

import (
	"errors"
	"strings"
	"testing"

	"github.com/sio-go/sio/packet"
)

// TestNilLogger checks that the silent logger allocates nothing.
func TestNilLogger(t *testing.T) {
	var l *logger
	f := packet.TextFrame(packet.FrameMessage, `2["hello"]`)
	batch := []packet.Frame{f, f}
	open := &packet.Open{SID: "s"}
	err := errors.New("x")
	n := testing.AllocsPerRun(100, func() {
		l.packets(dirRecv, f)
		l.packets(dirSend, batch...)
		l.handshake(nil, Polling, 4, open)
		l.upgraded("s")
		l.connEnded("s", err)
		l.socketEvent("/", Event{Type: EventDisconnect, Err: err})
		l.managerEvent(ManagerEvent{Type: ReconnectAttempt, Err: err})
	})
	if n != 0 {
		t.Errorf("%v allocations per run, want 0", n)
	}
}

// TestPacketText checks what a Debug record shows of a packet: a CONNECT
// the client sends never shows its auth, in either protocol version.
func TestPacketText(t *testing.T) {
	long := "4" + `2["x","` + strings.Repeat("y", 300) + `"]`
	for _, tc := range []struct {
		dir  string
		data string
		want string
	}{
		{dirSend, "40", "40"},
		{dirSend, "40/admin,", "40/admin,"},
		{dirSend, `40{"token":"s3"}`, "40 <auth withheld>"},
		{dirSend, `40/admin,{"token":"s3"}`, "40/admin <auth withheld>"},
		{dirSend, `40/admin?token=s3,`, "40/admin <auth withheld>"},
		{dirSend, `40/admin?token=s3`, "40/admin <auth withheld>"},
		{dirSend, `40{"pid":"p","offset":"o","token":"s3"}`, "40 <auth withheld>"},
		{dirSend, `40/` + strings.Repeat("n", 300) + `,{"token":"s3"}`, ""},
		{dirRecv, `40{"sid":"abc"}`, `40{"sid":"abc"}`},
		{dirSend, `42["hi"]`, `42["hi"]`},
		{dirSend, "3", "3"},
		{dirRecv, long, long[:logPacketMax] + "…(" + "310 bytes)"},
	} {
		got := packetText(tc.dir, packet.Frame{Data: []byte(tc.data)})
		if strings.Contains(got, "s3") || tc.want != "" && got != tc.want {
			t.Errorf("%s %q: %q, want %q", tc.dir, tc.data, got, tc.want)
		}
	}
	if got := packetText(dirSend, packet.Frame{Data: []byte{1, 2}, Binary: true}); got != "<binary 2 bytes>" {
		t.Errorf("binary: %q", got)
	}
}

// TestWithoutQueries checks that the query of a URL in an error's message
// (net/http quotes the request's URL) is withheld from the records.
func TestWithoutQueries(t *testing.T) {
	for in, want := range map[string]string{
		`transport: polling GET: Get "http://h:1/socket.io/?EIO=4&token=s3&transport=polling": dial tcp: refused`: `transport: polling GET: Get "http://h:1/socket.io/?…": dial tcp: refused`,
		`a wss://h/x?token=s3 b https://h/y c`: `a wss://h/x?… b https://h/y c`,
		`ends with http://h/?token=s3`:         `ends with http://h/?…`,
		`no url here ?token=s3`:                `no url here ?token=s3`,
		`://?x`:                                `://?…`,
		``:                                     ``,
	} {
		if got := withoutQueries(in); got != want {
			t.Errorf("withoutQueries(%q) = %q, want %q", in, got, want)
		}
	}
}
