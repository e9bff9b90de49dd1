package sio_test

import (
	"net"
	"net/http"
	"runtime"
	"sync"
	"testing"

	"github.com/sio-go/sio"
	"github.com/sio-go/sio/test/testserver"
)

// Clients can connect from a chosen local address, through WithHTTPClient
// and a dialer with LocalAddr: the route past one address's ~28,000
// ephemeral ports (see README). Every request of both transports, the
// upgrade's WebSocket included, comes from that address.
func TestLocalAddress(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("127.0.0.2 is a loopback address only on Linux")
	}
	for _, tc := range transportCases {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			from := make(map[string]int) // source address -> requests
			srv := startServer(t, testserver.WithRequestHook(func(r *http.Request) {
				host, _, _ := net.SplitHostPort(r.RemoteAddr)
				mu.Lock()
				from[host]++
				mu.Unlock()
			}))
			d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
			hc := &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
			s := dial(t, srv.URL(), tc.opt, sio.WithHTTPClient(hc), sio.WithoutReconnect())
			lastSession(t, srv, tc.final)
			if f, err := s.EmitWithAck(testCtx(t), "ack", 1); err != nil {
				t.Fatal(err)
			} else if _, err := f.Wait(testCtx(t)); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(from) != 1 || from["127.0.0.2"] == 0 {
				t.Fatalf("requests by source address: %v, want all from 127.0.0.2", from)
			}
		})
	}
}
