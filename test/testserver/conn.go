package testserver

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// writeTimeout bounds writes that have no caller context: SendOpen, the
// flush of an upgrade, and the default behaviour's broadcasts to other
// sessions.
const writeTimeout = 10 * time.Second

// errSessionClosed is what Read returns once a polling session has ended
// normally, and what writes to it return.
var errSessionClosed = errors.New("testserver: session closed")

// errUpgraded tells the Conn that its transport was replaced by another one:
// retry on the new transport.
var errUpgraded = errors.New("testserver: transport upgraded")

// Frame is one Engine.IO packet read from the client: a WebSocket message,
// or one packet of a polling POST body (where binary arrives as "b" + base64
// and is decoded).
type Frame struct {
	Text     string // the packet, when !IsBinary
	Binary   []byte // the packet, when IsBinary
	IsBinary bool
}

// String returns the text, or "<binary N bytes>" for a binary packet.
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

// transport carries the Engine.IO packets of a Conn: the WebSocket
// (wsTransport) or HTTP long-polling (pollTransport). A transport returns
// errUpgraded from read, write, close and cut once the session has moved
// away from it and it has nothing left to deliver.
type transport interface {
	name() string
	// read returns the next packet from the client. One goroutine at a time.
	read(ctx context.Context) (Frame, error)
	// write sends packets in order; the caller holds the Conn's write lock.
	write(ctx context.Context, pkts []Frame) error
	// close ends the session cleanly: a close frame with code and reason on
	// a WebSocket, a close packet "1" over polling.
	close(code int, reason string) error
	// cut ends the session abruptly.
	cut() error
}

// Conn is one Engine.IO session, as seen by a Handler, over whichever
// transport carries it: a WebSocket, HTTP long-polling, or polling then a
// WebSocket after an upgrade (which is transparent to the Conn's user:
// nothing is lost or reordered across it).
//
// SendOpen, SendText, SendBinary, Close and Cut may be called concurrently
// with each other and with a Read in progress; writes are serialised and each
// goes out whole. Read, Expect and Serve must be called by one goroutine at a
// time. As with coder/websocket, a context that ends during Read or a write
// closes the session.
type Conn struct {
	srv        *Server
	req        *http.Request
	seq        int
	defaultSID string // the sid of SendOpen(Open{})

	wmu sync.Mutex // serialises writes; held across a packet and its attachments, and across an upgrade

	mu          sync.Mutex
	tr          transport      // where writes go; where Read reads once left is nil
	left        *pollTransport // the polling transport an upgrade left, until Read has taken what it received
	open        *Open          // the last open packet sent; nil before the first
	sid         string         // the sid of the first open packet sent, routed to this Conn
	upgrading   bool           // a WebSocket probe is in progress
	upgraded    bool
	ended       bool
	probeCancel context.CancelFunc // ends the probe in progress
}

func newConn(s *Server, r *http.Request) *Conn {
	return &Conn{srv: s, req: r, defaultSID: randomID()}
}

// Request returns the HTTP request that opened the session (headers, query,
// cookies): the first polling GET or the WebSocket handshake. It must not be
// modified; the context of a polling one ends with that first GET.
func (c *Conn) Request() *http.Request { return c.req }

// Seq returns the session's number: 1 for the first session the server
// accepted, 2 for the second, and so on.
func (c *Conn) Seq() int { return c.seq }

// Transport returns the transport the session is on: "polling" or
// "websocket".
func (c *Conn) Transport() string { return c.transport().name() }

func (c *Conn) transport() transport {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tr
}

// SendOpen sends the Engine.IO open packet "0{...}". A zero SID is replaced by
// the session's own random one, nil Upgrades by the upgrades the server offers
// (["websocket"] for a polling session when WebSocket is served, [] otherwise),
// and zero PingInterval, PingTimeout and MaxPayload by the server's settings;
// send other open packets (zeros, null, garbage) with SendText. The write is
// bounded by an internal timeout.
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

// SendText sends one text packet. A packet starting with "0" is taken as the
// open packet: for the heartbeat and maxPayload of a later Serve, and, for
// the first one, as the sid that later requests of the session carry.
func (c *Conn) SendText(ctx context.Context, s string) error {
	if strings.HasPrefix(s, "0") {
		// Before the write: a polling client may use the sid as soon as it has
		// the packet.
		c.noteOpen(s[1:])
	}
	return c.write(ctx, []Frame{{Text: s}})
}

// SendBinary sends one binary packet: a binary WebSocket frame, or "b" +
// base64 in a polling response.
func (c *Conn) SendBinary(ctx context.Context, b []byte) error {
	return c.write(ctx, []Frame{{Binary: b, IsBinary: true}})
}

func (c *Conn) write(ctx context.Context, pkts []Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(ctx, pkts)
}

// writeLocked is write for a caller that holds c.wmu. The transport cannot
// change meanwhile: an upgrade takes c.wmu.
func (c *Conn) writeLocked(ctx context.Context, pkts []Frame) error {
	return c.transport().write(ctx, pkts)
}

// writePacket sends a text packet and its binary attachments with no other
// write in between.
func (c *Conn) writePacket(ctx context.Context, text string, bins [][]byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writePacketLocked(ctx, text, bins)
}

// writePacketLocked is writePacket for a caller that holds c.wmu.
func (c *Conn) writePacketLocked(ctx context.Context, text string, bins [][]byte) error {
	pkts := make([]Frame, 0, 1+len(bins))
	pkts = append(pkts, Frame{Text: text})
	for _, b := range bins {
		pkts = append(pkts, Frame{Binary: b, IsBinary: true})
	}
	return c.writeLocked(ctx, pkts)
}

// Read reads the next packet (pongs included). Over WebSocket it is recorded
// in Server.Received here; over polling it was when its POST arrived. Across
// an upgrade, the packets that arrived over polling come first, then those of
// the WebSocket.
func (c *Conn) Read(ctx context.Context) (Frame, error) {
	for {
		t := c.readTransport()
		f, err := t.read(ctx)
		if errors.Is(err, errUpgraded) {
			c.drained(t)
			continue
		}
		if err != nil {
			return Frame{}, err
		}
		if _, ok := t.(*wsTransport); ok {
			c.srv.record(f)
		}
		return f, nil
	}
}

// readTransport returns the transport Read reads from: the polling transport
// the session left, as long as Read has not drained it, else the current one.
// The choice is made under c.mu, which switchTo holds while it changes both.
func (c *Conn) readTransport() transport {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.left != nil {
		return c.left
	}
	return c.tr
}

// drained notes that t, which the session left, has nothing more to read.
func (c *Conn) drained(t transport) {
	c.mu.Lock()
	if c.left == t {
		c.left = nil
	}
	c.mu.Unlock()
}

// Expect reads packets, skipping pongs "3", until a text packet, and returns
// an error if that packet does not start with prefix. A binary packet is an
// error too. The packet read is returned in every case.
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

// Close ends the session cleanly. On a WebSocket it sends a close frame
// carrying code and reason and waits (up to 5s) for the client's close frame.
// Over polling it queues a close packet "1" after what is already queued and
// waits (up to 5s) for a GET to carry it; code and reason are not sent. Later
// requests for the session get "Session ID unknown".
func (c *Conn) Close(code int, reason string) error {
	defer c.end()
	for {
		err := c.transport().close(code, reason)
		if !errors.Is(err, errUpgraded) {
			return err
		}
	}
}

// Cut ends the session without a close: on a WebSocket the TCP connection is
// dropped without a close frame; over polling a pending GET's connection is
// dropped without a response, and later requests get "Session ID unknown".
func (c *Conn) Cut() error {
	defer c.end()
	for {
		err := c.transport().cut()
		if !errors.Is(err, errUpgraded) {
			return err
		}
	}
}

// end marks the session over: its sid is no longer routed, a probe in
// progress is cancelled and a polling transport ends (a pending GET gets "1").
// It is idempotent.
func (c *Conn) end() {
	c.mu.Lock()
	if c.ended {
		c.mu.Unlock()
		return
	}
	c.ended = true
	p, _ := c.tr.(*pollTransport)
	cancel, sid := c.probeCancel, c.sid
	c.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	if p != nil {
		p.end(errSessionClosed, "1")
	}
	if sid != "" {
		c.srv.unroute(c, sid)
	}
}

// beginUpgrade starts a WebSocket probe of a polling session; cancel ends
// the probe if the session ends first. It returns false when the session is
// not on polling, has ended, or is probing already.
func (c *Conn) beginUpgrade(cancel context.CancelFunc) (*pollTransport, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.tr.(*pollTransport)
	if !ok || c.ended || c.upgrading {
		return nil, false
	}
	c.upgrading, c.probeCancel = true, cancel
	return p, true
}

// endUpgrade marks the end of a probe, successful or not.
func (c *Conn) endUpgrade() {
	c.mu.Lock()
	c.upgrading, c.probeCancel = false, nil
	c.mu.Unlock()
}

// switchTo moves the session from polling p to the WebSocket t, then sends on
// t what was queued on p. It holds the write lock meanwhile, so that every
// later write goes after the queued packets. Read goes on reading p until it
// has taken what p received (a POST's packets may still be unread, or the
// handler not reading yet), then reads t. It fails when the session ended or
// is closing.
func (c *Conn) switchTo(p *pollTransport, t *wsTransport) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.mu.Lock()
	var pending []Frame
	err := errSessionClosed
	if !c.ended {
		pending, err = p.discard()
	}
	if err == nil {
		c.tr, c.left, c.upgraded = t, p, true
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if len(pending) == 0 {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	// An error here breaks the WebSocket, which the session's next Read reports.
	_ = t.write(ctx, pending)
	return nil
}

func (c *Conn) info() SessionInfo {
	c.mu.Lock()
	sid, name, upgraded := c.sid, c.tr.name(), c.upgraded
	c.mu.Unlock()
	return SessionInfo{
		SID:       sid,
		Transport: name,
		Upgraded:  upgraded,
		Query:     c.req.URL.Query(),
		Header:    c.req.Header.Clone(),
		Cookies:   c.req.Cookies(),
	}
}

// fillOpen applies SendOpen's defaults.
func (c *Conn) fillOpen(o Open) Open {
	if o.SID == "" {
		o.SID = c.defaultSID
	}
	if o.Upgrades == nil {
		o.Upgrades = c.upgrades()
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

// upgrades returns the upgrades offered to the session in its open packet.
func (c *Conn) upgrades() []string {
	if _, ok := c.transport().(*pollTransport); ok && c.srv.opts.allows(transportWebSocket) {
		return []string{transportWebSocket}
	}
	return []string{}
}

// noteOpen remembers an open packet sent on the session. Values that are
// missing or not positive fall back to the server's settings. The first
// packet's sid routes later requests to the session.
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
	c.mu.Lock()
	c.open = &o
	if t, ok := c.tr.(*wsTransport); ok && o.MaxPayload > c.srv.opts.maxPayload {
		t.ws.SetReadLimit(o.MaxPayload + readSlack)
	}
	if c.sid == "" && o.SID != "" && !c.ended {
		c.sid = o.SID
		c.srv.route(o.SID, c) // under c.mu, so that end sees the sid it unroutes
	}
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

// maxPayload returns the maxPayload announced to the client, or the server's
// before any open packet.
func (c *Conn) maxPayload() int64 {
	if o, ok := c.announced(); ok {
		return o.MaxPayload
	}
	return c.srv.opts.maxPayload
}

// cookie returns the Set-Cookie value of a handshake response, "" for none.
func (c *Conn) cookie() string {
	ck := c.srv.opts.cookie
	if ck == nil {
		return ""
	}
	cc := *ck
	if cc.Value == "" {
		cc.Value = c.defaultSID
	}
	return cc.String()
}

// randomID returns 20 random URL-safe characters, like the official server's
// sids.
func randomID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
