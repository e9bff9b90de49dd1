package interop

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"
	wt "github.com/quic-go/webtransport-go"
	engine "github.com/zishang520/socket.io/servers/engine/v3"
	"github.com/zishang520/socket.io/servers/engine/v3/transports"
	socket "github.com/zishang520/socket.io/servers/socket/v3"
	"github.com/zishang520/socket.io/v3/pkg/types"
)

// goServer is zishang520's Socket.IO server with polling and WebSocket on
// a TCP port and WebTransport on the UDP port of the same number, both on
// 127.0.0.1.
type goServer struct {
	url   string         // http://127.0.0.1:port
	roots *x509.CertPool // trusts the WebTransport certificate
	// joined gets the namespace of every socket the server has
	// registered. zishang520 v3.0.6 sends its CONNECT reply before it
	// registers the socket (Client.doConnect stores it in nsps in a
	// callback that runs after Socket._onconnect wrote the reply), and an
	// event arriving in between closes the connection ("invalid state",
	// client.go). The "connection" listeners run after the registration,
	// so a test waits for joined before it emits: the race is the
	// server's, on every transport.
	joined chan string
}

// awaitJoined waits until the server has registered a socket of nsp.
func (s *goServer) awaitJoined(t *testing.T, nsp string) {
	t.Helper()
	select {
	case got := <-s.joined:
		if got != nsp {
			t.Fatalf("the server registered a socket of %q, want %q", got, nsp)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("the server did not register the socket of %q", nsp)
	}
}

// startGoServer starts the server; withWT false leaves WebTransport out
// (no UDP listener).
func startGoServer(t *testing.T, withWT bool) *goServer {
	t.Helper()
	io := socket.NewServer(nil, nil)
	opts := socket.DefaultServerOptions()
	if withWT {
		opts.SetTransports(types.NewSet[transports.TransportCtor](engine.Polling, engine.WebSocket, engine.WebTransport))
	}
	handler := io.ServeHandler(opts)
	joined := make(chan string, 16)
	for _, nsp := range []string{"/", "/admin"} {
		_ = io.Of(nsp, nil).On("connection", func(args ...any) {
			serve(args[0].(*socket.Socket))
			joined <- nsp
		})
	}

	tcp := httptest.NewServer(handler)
	s := &goServer{url: tcp.URL, joined: joined}
	var wts *wt.Server
	var udp net.PacketConn
	done := make(chan error, 1)
	if withWT {
		certSrv := httptest.NewTLSServer(nil) // a certificate for 127.0.0.1
		cert := certSrv.TLS.Certificates[0]
		s.roots = x509.NewCertPool()
		s.roots.AddCert(certSrv.Certificate())
		certSrv.Close()
		var err error
		udp, err = net.ListenPacket("udp", tcp.Listener.Addr().String())
		if err != nil {
			tcp.Close()
			t.Fatalf("UDP on the TCP port: %v", err)
		}
		wts = &wt.Server{H3: &http3.Server{TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{http3.NextProtoH3}}}}
		wt.ConfigureHTTP3Server(wts.H3)
		eio := handler.(engine.Server)
		wts.H3.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			eio.OnWebTransportSession(types.NewHttpContext(w, r), wts)
		})
		go func() { done <- wts.Serve(udp) }()
	}
	t.Cleanup(func() {
		io.Close(nil)
		if wts != nil {
			_ = wts.Close()
			_ = udp.Close()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Error("the WebTransport server did not stop")
			}
		}
		tcp.Close()
	})
	return s
}

// serve installs the events the tests use on one server socket.
//   - echo(args...): emits "echo" with the same arguments; acks with none.
//   - ack(args...): acknowledges with the same arguments.
//   - ask(n): emits "question"(n) asking for an ack, then "answer"(reply...).
//   - transport(): acknowledges with the transport's name.
func serve(c *socket.Socket) {
	split := func(args []any) ([]any, socket.Ack) {
		if n := len(args); n > 0 {
			if ack, ok := args[n-1].(socket.Ack); ok {
				return args[:n-1], ack
			}
		}
		return args, nil
	}
	_ = c.On("echo", func(raw ...any) {
		args, ack := split(raw)
		_ = c.Emit("echo", args...)
		if ack != nil {
			ack(nil, nil)
		}
	})
	_ = c.On("ack", func(raw ...any) {
		if args, ack := split(raw); ack != nil {
			ack(args, nil)
		}
	})
	_ = c.On("ask", func(raw ...any) {
		args, _ := split(raw)
		c.EmitWithAck("question", args...)(func(reply []any, err error) {
			if err == nil {
				_ = c.Emit("answer", reply...)
			}
		})
	})
	_ = c.On("transport", func(raw ...any) {
		if _, ack := split(raw); ack != nil {
			ack([]any{c.Conn().Transport().Name()}, nil)
		}
	})
}
