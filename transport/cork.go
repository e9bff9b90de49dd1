package transport

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// corkMax bounds what a corked connection holds before writing anyway.
const corkMax = 64 << 10

// corkConn is the TCP connection under a WebSocket. While corked, writes are
// gathered and go to the network together when it is uncorked: a batch of
// WebSocket messages then costs one system call instead of one each (the
// WebSocket library flushes every message). Writes outside a batch (the
// library's own control frames) go straight through. The buffer exists only
// while corked, sized for the batch: an idle connection holds none,
// whatever it once sent.
//
// All methods may be called concurrently.
type corkConn struct {
	net.Conn
	mu     sync.Mutex
	corked bool
	buf    []byte
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.corked && len(c.buf)+len(p) <= corkMax {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	if err := c.flushLocked(); err != nil {
		return 0, err
	}
	return c.Conn.Write(p)
}

// cork starts gathering writes, for a batch of about size bytes.
func (c *corkConn) cork(size int) {
	c.mu.Lock()
	c.corked = true
	c.buf = make([]byte, 0, min(size, corkMax))
	c.mu.Unlock()
}

// uncork writes what was gathered.
func (c *corkConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked = false
	err := c.flushLocked()
	c.buf = nil
	return err
}

func (c *corkConn) flushLocked() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.Conn.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}

// corkingClient returns the client of one WebSocket dial, like hc but
// whose connections are corkConns, the function that closes its idle
// connections when the dial returns (see ownClient), and a function that
// returns the corkConn of the connection it dialed. It returns hc
// unchanged, a closeIdle that does nothing and a nil function when hc's
// transport is not an *http.Transport (it cannot be wrapped).
func corkingClient(hc *http.Client) (client *http.Client, closeIdle func(), corked func() *corkConn) {
	client, t, closeIdle := ownClient(hc)
	if t == nil {
		return client, closeIdle, nil
	}
	http1Only(t)
	dial := t.DialContext
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	var mu sync.Mutex
	var last *corkConn
	t.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		cc := &corkConn{Conn: c}
		mu.Lock()
		last = cc
		mu.Unlock()
		return cc, nil
	}
	return client, closeIdle, func() *corkConn {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}
