package testserver

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
)

func TestConnectNamespaces(t *testing.T) {
	srv := start(t)
	c, _ := connect(t, srv)
	root := c.connectNS("/")
	admin := c.connectNS("/admin")
	if root == admin {
		t.Fatalf("same sid %q for / and /admin", root)
	}
	c.send(`40/auth,{"token":"123"}`)
	c.expectMatch(`^40/auth,\{"sid":"[A-Za-z0-9_-]{20}"\}$`)

	// Leave /admin, then join it again.
	c.send("41/admin,")
	if again := c.connectNS("/admin"); again == admin {
		t.Fatal("rejoining /admin reused the sid")
	}
	c.send(`42/admin,["echo","still here"]`)
	c.expect(`42/admin,["echo","still here"]`)
}

func TestEcho(t *testing.T) {
	srv := start(t)
	c, _ := connect(t, srv)
	c.connectNS("/")
	c.connectNS("/admin")

	c.send(`42["echo",1,{"a":[2,"x"]},null]`)
	c.expect(`42["echo",1,{"a":[2,"x"]},null]`)

	c.send(`42/admin,["echo","in admin"]`)
	c.expect(`42/admin,["echo","in admin"]`)

	// One attachment.
	c.send(`451-["echo","hi",{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte{1, 2, 3})
	c.expect(`451-["echo","hi",{"_placeholder":true,"num":0}]`)
	c.expectBinary([]byte{1, 2, 3})

	// Two attachments, nested, in a namespace, with pongs in between.
	c.send(`452-/admin,["echo",{"files":[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]}]`)
	c.send("3")
	c.sendBinary([]byte("first"))
	c.sendBinary([]byte{})
	c.expect(`452-/admin,["echo",{"files":[{"_placeholder":true,"num":1},{"_placeholder":true,"num":0}]}]`)
	c.expectBinary([]byte("first"))
	c.expectBinary([]byte{})

	// Echo with an ack id: echoed, then acknowledged with no arguments.
	c.send(`427["echo","x"]`)
	c.expect(`42["echo","x"]`)
	c.expect(`437[]`)

	// Numeric event names are legal; anything unknown with an ack id gets [].
	c.send(`4212[42,"x"]`)
	c.expect(`4312[]`)
	c.send(`42/admin,3["whatever"]`)
	c.expect(`43/admin,3[]`)
	c.send(`42["whatever"]`) // no ack id: no answer
	c.send(`42["echo","after"]`)
	c.expect(`42["echo","after"]`)
}

func TestAck(t *testing.T) {
	srv := start(t)
	c, _ := connect(t, srv)
	c.connectNS("/")
	c.connectNS("/admin")

	c.send(`4212["ack","a",2,{"b":null}]`)
	c.expect(`4312["a",2,{"b":null}]`)

	c.send(`42/admin,0["ack"]`)
	c.expect(`43/admin,0[]`)

	c.send(`451-/admin,7["ack",{"_placeholder":true,"num":0},"text"]`)
	c.sendBinary([]byte{0xff, 0})
	c.expect(`461-/admin,7[{"_placeholder":true,"num":0},"text"]`)
	c.expectBinary([]byte{0xff, 0})

	c.send(`42["ack","no id"]`) // nothing to answer
	c.send(`42["echo","next"]`)
	c.expect(`42["echo","next"]`)
}

func TestAskAnswer(t *testing.T) {
	srv := start(t)
	c, _ := connect(t, srv)
	c.connectNS("/")
	c.connectNS("/admin")

	c.send(`42["ask",5]`)
	c.expect(`420["question",5]`)
	c.send(`430[10,"ten"]`)
	c.expect(`42["answer",10,"ten"]`)

	// Ids increase per namespace.
	c.send(`42["ask",6]`)
	c.expect(`421["question",6]`)
	c.send(`42/admin,["ask",7]`)
	c.expect(`42/admin,0["question",7]`)

	// An unknown or already answered id is dropped.
	c.send(`430["again"]`)
	c.send(`4399["unknown"]`)
	c.send(`43/admin,1["unknown"]`)

	// A binary answer.
	c.send(`461-1[{"_placeholder":true,"num":0}]`)
	c.sendBinary([]byte("six"))
	c.expect(`451-["answer",{"_placeholder":true,"num":0}]`)
	c.expectBinary([]byte("six"))

	c.send(`43/admin,0[]`)
	c.expect(`42/admin,["answer"]`)
}

func TestStream(t *testing.T) {
	srv := start(t)
	c, _ := connect(t, srv)
	c.connectNS("/admin")
	c.send(`42/admin,["stream",3]`)
	c.expect(`42/admin,["tick",0]`)
	c.expect(`42/admin,["tick",1]`)
	c.expect(`42/admin,["tick",2]`)
	c.expect(`42/admin,["stream-done",3]`)

	c.send(`42/admin,4["stream",0]`)
	c.expect(`42/admin,["stream-done",0]`)
	c.expect(`43/admin,4[]`)
}

func TestChatBroadcast(t *testing.T) {
	srv := start(t)
	alice, _ := connect(t, srv)
	bob, _ := connect(t, srv)
	carol, _ := connect(t, srv)
	alice.connectNS("/chat")
	bob.connectNS("/chat")
	carol.connectNS("/")

	alice.send(`42/chat,3["chat","hello",{"from":"alice"}]`)
	alice.expect(`42/chat,["chat","hello",{"from":"alice"}]`)
	alice.expect(`43/chat,3["ok"]`)
	bob.expect(`42/chat,["chat","hello",{"from":"alice"}]`)

	bob.send(`451-/chat,["chat",{"_placeholder":true,"num":0}]`)
	bob.sendBinary([]byte("img"))
	for _, c := range []*rawClient{alice, bob} {
		c.expect(`451-/chat,["chat",{"_placeholder":true,"num":0}]`)
		c.expectBinary([]byte("img"))
	}

	// carol is not in /chat: the next thing she gets is her own echo.
	carol.send(`42["echo","only me"]`)
	carol.expect(`42["echo","only me"]`)

	// A socket that left no longer receives the broadcast.
	bob.send("41/chat,")
	alice.send(`42/chat,["chat","bye"]`)
	alice.expect(`42/chat,["chat","bye"]`)
	bob.send(`42["echo"]`) // bob never joined "/": invalid state
	bob.expectClose(websocket.StatusProtocolError)
}

func TestKick(t *testing.T) {
	srv := start(t)
	c, _ := connect(t, srv)
	c.connectNS("/")
	c.connectNS("/admin")
	c.send(`42/admin,5["kick"]`)
	c.expect(`43/admin,5[]`)
	c.expect(`41/admin,`)
	c.send(`42["kick"]`)
	c.expect(`41`)
	c.connectNS("/") // may join again
	c.send(`42/admin,["echo"]`)
	c.expectClose(websocket.StatusProtocolError)
	if err := srv.Close(); !errors.Is(srv.Err(), ErrProtocol) || err != nil {
		t.Fatalf("Close: %v, Err: %v", err, srv.Err())
	}
}

func TestCloseTransport(t *testing.T) {
	srv := start(t)
	c, _ := connect(t, srv)
	c.connectNS("/")
	c.send(`42["close-transport"]`)
	c.expectClose(websocket.StatusNormalClosure)
	srv.Close()
	if err := srv.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
}

func TestClientClosePacket(t *testing.T) {
	srv := start(t)
	c, _ := connect(t, srv)
	c.send("1")
	c.expectClose(websocket.StatusNormalClosure)
}

func TestAuth(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := start(t, WithAuth(func(nsp string, auth json.RawMessage) error {
		mu.Lock()
		seen = append(seen, nsp+" "+string(auth))
		mu.Unlock()
		switch nsp {
		case "/admin":
			var a struct{ Token string }
			_ = json.Unmarshal(auth, &a)
			if a.Token != "123" {
				return &RefuseError{Message: "Not authorized", Data: map[string]any{"code": 401}}
			}
		case "/closed":
			return errors.New("nope")
		case "/":
			if auth != nil {
				return errors.New("unexpected auth")
			}
		}
		return nil
	}))
	c, _ := connect(t, srv)
	c.send(`40/admin,{"token":"bad"}`)
	c.expect(`44/admin,{"message":"Not authorized","data":{"code":401}}`)
	c.send(`40/closed,`)
	c.expect(`44/closed,{"message":"nope"}`)
	c.send(`40{"x":1}`)
	c.expect(`44{"message":"unexpected auth"}`)

	// The connection stays usable; a refused namespace is not joined.
	c.send(`40/admin,{"token":"123"}`)
	c.expectMatch(`^40/admin,\{"sid":"[A-Za-z0-9_-]{20}"\}$`)
	c.connectNS("/")
	c.send(`42["echo","ok"]`)
	c.expect(`42["echo","ok"]`)

	mu.Lock()
	defer mu.Unlock()
	want := []string{`/admin {"token":"bad"}`, "/closed ", `/ {"x":1}`, `/admin {"token":"123"}`, "/ "}
	if strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Fatalf("auth saw %q, want %q", seen, want)
	}
}

func TestHeartbeat(t *testing.T) {
	t.Run("pong keeps the connection", func(t *testing.T) {
		srv := start(t, WithPingInterval(30*time.Millisecond), WithPingTimeout(3*time.Second))
		c, o := connect(t, srv)
		if o.PingInterval != 30 || o.PingTimeout != 3000 {
			t.Fatalf("open packet %+v", o)
		}
		for range 5 {
			c.expect("2")
			c.send("3")
		}
	})
	t.Run("no pong closes", func(t *testing.T) {
		srv := start(t, WithPingInterval(30*time.Millisecond), WithPingTimeout(200*time.Millisecond))
		begin := time.Now() // the first ping is sent after this
		c, _ := connect(t, srv)
		c.expect("2")
		if reason := c.expectClose(websocket.StatusNormalClosure); reason != "ping timeout" {
			t.Fatalf("close reason %q", reason)
		}
		if d := time.Since(begin); d < 200*time.Millisecond {
			t.Fatalf("closed after %v, before the ping timeout", d)
		}
		srv.Close()
		if !errors.Is(srv.Err(), ErrPingTimeout) {
			t.Fatalf("Err() = %v", srv.Err())
		}
	})
	t.Run("client ping is a protocol error", func(t *testing.T) {
		srv := start(t)
		c, _ := connect(t, srv)
		c.send("2")
		c.expectClose(websocket.StatusProtocolError)
	})
}

func TestMaxPayload(t *testing.T) {
	srv := start(t, WithMaxPayload(100))
	c, _ := connect(t, srv)
	c.connectNS("/")
	c.send(`42["echo","` + strings.Repeat("a", 80) + `"]`) // 94 bytes
	c.expect(`42["echo","` + strings.Repeat("a", 80) + `"]`)
	c.send(`42["echo","` + strings.Repeat("a", 100) + `"]`)
	c.expectClose(websocket.StatusMessageTooBig)

	// Far over the limit: refused by the WebSocket read limit, same status.
	c2, _ := connect(t, srv)
	c2.send(strings.Repeat("4", 200_000))
	c2.expectClose(websocket.StatusMessageTooBig)

	// A binary attachment counts too.
	c3, _ := connect(t, srv)
	c3.connectNS("/")
	c3.send(`451-["echo",{"_placeholder":true,"num":0}]`)
	c3.sendBinary(make([]byte, 101))
	c3.expectClose(websocket.StatusMessageTooBig)

	srv.Close()
	if !errors.Is(srv.Err(), ErrMessageTooBig) {
		t.Fatalf("Err() = %v", srv.Err())
	}
}

func TestMalformed(t *testing.T) {
	tests := []struct {
		name    string
		prelude []string // sent first, with their replies read
		replies int
		text    []string
		binary  bool // then an unexpected binary frame
	}{
		{name: "empty frame", text: []string{""}},
		{name: "unknown engine.io type", text: []string{"9"}},
		{name: "empty message", text: []string{"4"}},
		{name: "unknown socket.io type", text: []string{"47"}},
		{name: "event without data", prelude: []string{"40"}, replies: 1, text: []string{"42"}},
		{name: "event with empty array", prelude: []string{"40"}, replies: 1, text: []string{"42[]"}},
		{name: "event not an array", prelude: []string{"40"}, replies: 1, text: []string{`42{"a":1}`}},
		{name: "event name object", prelude: []string{"40"}, replies: 1, text: []string{`42[{"a":1}]`}},
		{name: "reserved event", prelude: []string{"40"}, replies: 1, text: []string{`42["disconnect"]`}},
		{name: "bad json", prelude: []string{"40"}, replies: 1, text: []string{`42["echo"`}},
		{name: "trailing garbage", prelude: []string{"40"}, replies: 1, text: []string{`42["echo"]x`}},
		{name: "event before connect", text: []string{`42["echo"]`}},
		{name: "event in other namespace", prelude: []string{"40"}, replies: 1, text: []string{`42/admin,["echo"]`}},
		{name: "second connect", prelude: []string{"40"}, replies: 1, text: []string{"40"}},
		{name: "connect with array", text: []string{"40[1]"}},
		{name: "disconnect with data", prelude: []string{"40"}, replies: 1, text: []string{`41{"a":1}`}},
		{name: "disconnect not joined", text: []string{"41/nope,"}},
		{name: "client connect_error", prelude: []string{"40"}, replies: 1, text: []string{`44{"message":"x"}`}},
		{name: "ack not an array", prelude: []string{"40"}, replies: 1, text: []string{`431{"a":1}`}},
		{name: "attachments without dash", prelude: []string{"40"}, replies: 1, text: []string{`451["echo"]`}},
		{name: "too many attachments", prelude: []string{"40"}, replies: 1, text: []string{`4511-["echo"]`}},
		{name: "huge attachment count", prelude: []string{"40"}, replies: 1, text: []string{`4599999999999-["echo"]`}},
		{name: "placeholder out of range", prelude: []string{"40"}, replies: 1, text: []string{`451-["echo",{"_placeholder":true,"num":1}]`}},
		{name: "text during reassembly", prelude: []string{"40"}, replies: 1, text: []string{`451-["echo",{"_placeholder":true,"num":0}]`, `42["echo"]`}},
		{name: "huge ack id", prelude: []string{"40"}, replies: 1, text: []string{`4299999999999999999999["echo"]`}},
		{name: "unexpected binary", prelude: []string{"40"}, replies: 1, binary: true},
	}
	srv := start(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := connect(t, srv)
			for _, p := range tt.prelude {
				c.send(p)
			}
			for range tt.replies {
				c.read()
			}
			for _, s := range tt.text {
				c.send(s)
			}
			if tt.binary {
				c.sendBinary([]byte{1})
			}
			c.expectClose(websocket.StatusProtocolError)
		})
	}
	srv.Close()
	if n := strings.Count(srv.Err().Error(), ErrProtocol.Error()); n != len(tests) {
		t.Fatalf("%d protocol errors recorded, want %d:\n%v", n, len(tests), srv.Err())
	}
}

func TestIgnoredEngineIOPackets(t *testing.T) {
	srv := start(t)
	c, _ := connect(t, srv)
	for _, s := range []string{"6", "5", "3", "3probe", "0"} {
		c.send(s)
	}
	c.connectNS("/")
	c.send(`42["echo"]`)
	c.expect(`42["echo"]`)
}
