package testserver_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"time"

	"github.com/coder/websocket"
	"github.com/sio-go/sio/test/testserver"
)

// A raw WebSocket client talks to the default behaviour.
func Example() {
	srv, err := testserver.Start()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, srv.URL()+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ws.CloseNow()

	read := func() string {
		_, b, err := ws.Read(ctx)
		if err != nil {
			log.Fatal(err)
		}
		return string(b)
	}
	write := func(s string) {
		if err := ws.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
			log.Fatal(err)
		}
	}

	fmt.Println(read()[:8]) // the open packet
	write("40")
	fmt.Println(read()[:9]) // the CONNECT reply
	write(`42["echo","hello"]`)
	fmt.Println(read())
	// Output:
	// 0{"sid":
	// 40{"sid":
	// 42["echo","hello"]
}

// A script answers the CONNECT, then drops the connection.
func ExampleScript() {
	srv, err := testserver.Start(testserver.WithHandler(testserver.Script(
		testserver.SendOpen(testserver.Open{SID: "s1"}),
		testserver.Expect("40"),
		testserver.Send(`40{"sid":"abc"}`),
		testserver.Cut(),
	)))
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	fmt.Println(srv.URL()[:17])
	// Output: http://127.0.0.1:
}

// A TLS server with a self-signed certificate, reached over HTTP
// long-polling with the client that trusts it.
func ExampleStartTLS() {
	srv, err := testserver.StartTLS()
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	resp, err := srv.Client().Get(srv.URL() + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.URL()[:8])
	fmt.Println(string(body[:8])) // the open packet
	fmt.Println(srv.Sessions()[0].Transport)
	// Output:
	// https://
	// 0{"sid":
	// polling
}
