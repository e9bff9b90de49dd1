package testserver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// writeTimeout bounds writes that have no caller context: SendOpen, and the
// default behaviour's broadcasts to other connections.
const writeTimeout = 10 * time.Second

// Frame is one WebSocket message read from the client.
type Frame struct {
	Text     string // the message, when !IsBinary
	Binary   []byte // the message, when IsBinary
	IsBinary bool
}

// String returns the text, or "<binary N bytes>" for a binary frame.
func (f Frame) String() string {
	if f.IsBinary {
		return fmt.Sprintf("<binary %d bytes>", len(f.Binary))
	}
	return f.Text
}

// Open is the payload of the Engine.IO open packet "0{...}". Durations are in
// milliseconds.
type Open struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int64    `json:"pingInterval"`
	PingTimeout  int64    `json:"pingTimeout"`
	MaxPayload   int64    `json:"maxPayload"`
}

// Conn is one Engine.IO connection over WebSocket, as seen by a Handler.
//
// SendOpen, SendText, SendBinary, Close and Cut may be called concurrently
// with each other and with a Read in progress; writes are serialised and each
// goes out whole. Read, Expect and Serve must be called by one goroutine at a
// time. As with coder/websocket, a context that ends during Read or a write
// closes the connection.
type Conn struct {
	srv *Server
	ws  *websocket.Conn
	nc  net.Conn // the hijacked TCP connection
	req *http.Request
	seq int

	wmu sync.Mutex // serialises writes; held across a packet and its attachments

	mu   sync.Mutex
	open *Open // the last open packet sent; nil before the first
}

// Request returns the HTTP request that opened the connection (headers,
// query, cookies). It must not be modified.
func (c *Conn) Request() *http.Request { return c.req }

// Seq returns the connection's number: 1 for the first connection the server
// accepted, 2 for the second, and so on.
func (c *Conn) Seq() int { return c.seq }

// SendOpen sends the Engine.IO open packet "0{...}". A zero SID is replaced by
// a random one, nil Upgrades by [], and zero PingInterval, PingTimeout and
// MaxPayload by the server's settings; send other open packets (zeros, null,
// garbage) with SendText. The write is bounded by an internal timeout.
func (c *Conn) SendOpen(o Open) error {
	o = c.fillOpen(o)
	b, err := json.Marshal(o)
	if err != nil {
		return fmt.Errorf("testserver: marshal open packet: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	return c.SendText(ctx, "0"+string(b))
}

// SendText sends one text frame. A frame starting with "0" is taken as the
// open packet for the heartbeat and maxPayload of a later Serve.
func (c *Conn) SendText(ctx context.Context, s string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		return err
	}
	if strings.HasPrefix(s, "0") {
		c.noteOpen(s[1:])
	}
	return nil
}

// SendBinary sends one binary frame.
func (c *Conn) SendBinary(ctx context.Context, b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.ws.Write(ctx, websocket.MessageBinary, b)
}

// writePacket sends a text frame and its binary attachments with no other
// write in between.
func (c *Conn) writePacket(ctx context.Context, text string, bins [][]byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writePacketLocked(ctx, text, bins)
}

// writePacketLocked is writePacket for a caller that holds c.wmu.
func (c *Conn) writePacketLocked(ctx context.Context, text string, bins [][]byte) error {
	if err := c.ws.Write(ctx, websocket.MessageText, []byte(text)); err != nil {
		return err
	}
	for _, b := range bins {
		if err := c.ws.Write(ctx, websocket.MessageBinary, b); err != nil {
			return err
		}
	}
	return nil
}

// Read reads the next frame (pongs included) and records it in
// Server.Received.
func (c *Conn) Read(ctx context.Context) (Frame, error) {
	typ, b, err := c.ws.Read(ctx)
	if err != nil {
		return Frame{}, err
	}
	f := Frame{Text: string(b)}
	if typ == websocket.MessageBinary {
		f = Frame{Binary: b, IsBinary: true}
	}
	c.srv.record(f)
	return f, nil
}

// Expect reads frames, skipping pongs "3", until a text frame, and returns an
// error if that frame does not start with prefix. A binary frame is an error
// too. The frame read is returned in every case.
func (c *Conn) Expect(ctx context.Context, prefix string) (Frame, error) {
	for {
		f, err := c.Read(ctx)
		if err != nil {
			return f, fmt.Errorf("testserver: expecting %q: %w", prefix, err)
		}
		if f.IsBinary {
			return f, fmt.Errorf("testserver: expected a text frame starting with %q, got %s", prefix, f)
		}
		if f.Text == "3" {
			continue
		}
		if !strings.HasPrefix(f.Text, prefix) {
			return f, fmt.Errorf("testserver: expected a frame starting with %q, got %q", prefix, f.Text)
		}
		return f, nil
	}
}

// Close closes the WebSocket cleanly with a close frame carrying code and
// reason, and waits (up to 5s) for the client's close frame.
func (c *Conn) Close(code int, reason string) error {
	return c.ws.Close(websocket.StatusCode(code), reason)
}

// Cut drops the TCP connection without a close frame.
func (c *Conn) Cut() error {
	return c.ws.CloseNow()
}

// cut closes the TCP connection under whatever the WebSocket is doing, to end
// a close handshake the client does not answer.
func (c *Conn) cut() {
	if c.nc != nil {
		_ = c.nc.Close()
	}
}

// fillOpen applies SendOpen's defaults.
func (c *Conn) fillOpen(o Open) Open {
	if o.SID == "" {
		o.SID = randomID()
	}
	if o.Upgrades == nil {
		o.Upgrades = []string{}
	}
	if o.PingInterval == 0 {
		o.PingInterval = c.srv.opts.pingInterval.Milliseconds()
	}
	if o.PingTimeout == 0 {
		o.PingTimeout = c.srv.opts.pingTimeout.Milliseconds()
	}
	if o.MaxPayload == 0 {
		o.MaxPayload = c.srv.opts.maxPayload
	}
	return o
}

// noteOpen remembers an open packet sent on the connection. Values that are
// missing or not positive fall back to the server's settings.
func (c *Conn) noteOpen(payload string) {
	var o Open
	_ = json.Unmarshal([]byte(payload), &o)
	if o.PingInterval <= 0 {
		o.PingInterval = c.srv.opts.pingInterval.Milliseconds()
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = c.srv.opts.pingTimeout.Milliseconds()
	}
	if o.MaxPayload <= 0 {
		o.MaxPayload = c.srv.opts.maxPayload
	}
	if o.MaxPayload > c.srv.opts.maxPayload {
		c.ws.SetReadLimit(o.MaxPayload + readSlack)
	}
	c.mu.Lock()
	c.open = &o
	c.mu.Unlock()
}

// announced returns the last open packet sent, if any.
func (c *Conn) announced() (Open, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open == nil {
		return Open{}, false
	}
	return *c.open, true
}

// randomID returns 20 random URL-safe characters, like the official server's
// sids.
func randomID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
