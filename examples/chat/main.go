// Command chat joins a Socket.IO chat, sends a few messages with
// acknowledgements and prints what happens, from one select loop.
//
// With no -url it starts the repository's test server on loopback and talks
// to that, so it runs anywhere:
//
//	go run ./examples/chat
//	go run ./examples/chat -url http://localhost:3000/chat -n 5
//
// Against another server, the server should broadcast "chat" events to the
// namespace and acknowledge them.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/ack"
	"github.com/sio-go/sio/test/testserver"
)

func main() {
	url := flag.String("url", "", "server URL with the namespace as its path (default: start a local test server)")
	user := flag.String("user", "gopher", "name to chat as")
	n := flag.Int("n", 3, "messages to send")
	flag.Parse()
	log.SetFlags(0)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *url, *user, *n); err != nil {
		log.Fatal(err)
	}
}

type message struct {
	User string `json:"user"`
	Text string `json:"text"`
}

func run(ctx context.Context, url, user string, n int) error {
	if url == "" {
		srv, err := testserver.Start()
		if err != nil {
			return err
		}
		defer srv.Close()
		url = srv.URL() + "/chat"
		fmt.Println("started a test server at", srv.URL())
	}

	s, err := sio.Dial(ctx, url, sio.WithAuth(map[string]string{"user": user}))
	if err != nil {
		return err
	}
	defer s.Close()
	fmt.Printf("joined %s as socket %s\n", s.Namespace(), s.ID())

	// Send every message, keeping the acknowledgements' futures in order.
	var acks []*ack.Future[sio.Args]
	for i := 1; i <= n; i++ {
		f, err := s.EmitWithAck(ctx, "chat", message{User: user, Text: fmt.Sprintf("hello #%d", i)})
		if err != nil {
			return err
		}
		acks = append(acks, f)
	}

	// One loop serves events and acknowledgements until every message has
	// come back and been acknowledged, or time runs out.
	timeout := time.After(5 * time.Second)
	echoed, acked := 0, 0
	for echoed < n || acked < n {
		var ackDone <-chan struct{} // nil, never ready, once all are in
		if acked < n {
			ackDone = acks[acked].Done()
		}
		select {
		case ev, ok := <-s.Events():
			if !ok {
				return fmt.Errorf("socket closed: %w", s.Err())
			}
			switch ev.Type {
			case sio.EventConnect:
				fmt.Println("connected")
			case sio.EventMessage:
				var m message
				if ev.Name != "chat" || ev.Args.Decode(&m) != nil {
					fmt.Printf("event %q %v\n", ev.Name, ev.Args)
					continue
				}
				fmt.Printf("%s: %s\n", m.User, m.Text)
				echoed++
			case sio.EventDisconnect, sio.EventConnectError:
				return ev.Err
			}
		case <-ackDone:
			reply, err := acks[acked].Wait(ctx)
			acked++
			if err != nil {
				return fmt.Errorf("message #%d: %w", acked, err)
			}
			fmt.Printf("message #%d acknowledged: %v\n", acked, reply)
		case <-timeout:
			return fmt.Errorf("gave up waiting: %d of %d messages echoed, %d acknowledged", echoed, n, acked)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
