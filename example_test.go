package sio_test

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/cookiejar"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/test/testserver"
)

// exampleServer starts the repository's test server for the examples; a real
// program dials its own server's URL.
func exampleServer() (url string, stop func()) {
	srv, err := testserver.Start()
	if err != nil {
		log.Fatal(err)
	}
	return srv.URL(), func() { srv.Close() }
}

// A select loop that reads events and sends one event with an
// acknowledgement.
func Example() {
	url, stop := exampleServer()
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	s, err := sio.Dial(ctx, url+"/chat")
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	f, err := s.EmitWithAck(ctx, "chat", "hello")
	if err != nil {
		log.Fatal(err)
	}
	ackDone := f.Done() // set to nil once seen: a nil channel is never ready
	for echoed := false; !echoed || ackDone != nil; {
		select {
		case ev := <-s.Events():
			switch ev.Type {
			case sio.EventConnect:
				fmt.Println("connected to", s.Namespace())
			case sio.EventMessage:
				var text string
				if err := ev.Args.Decode(&text); err == nil {
					fmt.Printf("%s: %s\n", ev.Name, text)
					echoed = true
				}
			}
		case <-ackDone:
			ackDone = nil
		case <-ctx.Done():
			log.Fatal(ctx.Err())
		}
	}
	reply, err := f.Wait(ctx) // resolved: returns at once
	fmt.Println("acknowledged:", reply, err)
	// Output:
	// connected to /chat
	// chat: hello
	// acknowledged: ["ok"] <nil>
}

// Binary data: []byte values travel as attachments, anywhere in an
// argument, and decode back into []byte.
func ExampleArgs_Decode() {
	url, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	s, err := sio.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	type upload struct {
		Name string `json:"name"`
		Data []byte `json:"data"`
	}
	f, err := s.EmitWithAck(ctx, "ack", upload{Name: "a.bin", Data: []byte{1, 2, 3}}, 7)
	if err != nil {
		log.Fatal(err)
	}
	reply, err := f.Wait(ctx)
	if err != nil {
		log.Fatal(err)
	}
	var u upload
	var n int
	if err := reply.Decode(&u, &n); err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.Name, u.Data, n)
	// Output: a.bin [1 2 3] 7
}

// Answering a server's acknowledgement request.
func ExampleEvent_Ack() {
	url, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	s, err := sio.Dial(ctx, url)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	s.Emit(ctx, "ask", 20) // the test server asks back with "question"
	for ev := range s.Events() {
		if ev.Type != sio.EventMessage {
			continue
		}
		switch ev.Name {
		case "question":
			var n int
			ev.Args.Decode(&n)
			ev.Ack(ctx, n+1)
		case "answer":
			fmt.Println("the server got", ev.Args)
			return
		}
	}
	// Output: the server got [21]
}

// Several namespaces over one connection.
func ExampleManager() {
	url, stop := exampleServer()
	defer stop()
	ctx := context.Background()
	m, err := sio.NewManager(url)
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	admin, err := m.Socket(ctx, "/admin")
	if err != nil {
		log.Fatal(err)
	}
	chat, err := m.Socket(ctx, "/chat")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(admin.Namespace(), chat.Namespace())
	// Output: /admin /chat
}

// A namespace that refuses the socket.
func ExampleConnectError() {
	srv, err := testserver.Start(testserver.WithAuth(func(nsp string, auth json.RawMessage) error {
		return errors.New("not authorized")
	}))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	_, err = sio.Dial(context.Background(), srv.URL(), sio.WithAuth(map[string]string{"token": "expired"}))
	var ce *sio.ConnectError
	if errors.As(err, &ce) {
		fmt.Println("refused:", ce.Message)
	}
	// Output: refused: not authorized
}

// TLS with a private certificate authority: pass an http.Client that trusts
// it. Its cookie jar, if it has one, keeps sticky-session cookies across
// polling requests and the WebSocket upgrade.
func ExampleWithHTTPClient() {
	srv, err := testserver.StartTLS() // a self-signed server
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: srv.CertPool()}}}
	hc.Jar, _ = cookiejar.New(nil)
	s, err := sio.Dial(context.Background(), srv.URL(), sio.WithHTTPClient(hc))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	fmt.Println("connected over", srv.URL()[:5])
	// Output: connected over https
}

// Reconnection is observable on the Manager's Events channel.
func ExampleManager_Events() {
	url, stop := exampleServer()
	defer stop()
	m, err := sio.NewManager(url, sio.WithReconnect(sio.Backoff{Min: 50 * time.Millisecond, Max: time.Second}))
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	s, err := m.Socket(context.Background(), "/")
	if err != nil {
		log.Fatal(err)
	}
	s.Emit(context.Background(), "close-transport") // the test server drops the connection
	for ev := range m.Events() {
		fmt.Println(ev.Type)
		if ev.Type == sio.Reconnected {
			break
		}
	}
	// Output:
	// reconnect_attempt
	// reconnect
}

// A python-socketio server started with max_http_buffer_size=8_000_000
// announces no limit in its handshake: stating it lets Emit send messages
// over the 1e6 bytes assumed otherwise. (Not run: it needs such a server.)
func ExampleWithServerMaxPayload() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := sio.Dial(ctx, "http://localhost:5000/",
		sio.WithTransports(sio.WebSocket), // python-socketio reads large POSTs only partly
		sio.WithServerMaxPayload(8_000_000))
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	if err := s.Emit(ctx, "upload", make([]byte, 2<<20)); err != nil {
		log.Fatal(err)
	}
}
