package testserver

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/coder/websocket"
)

func TestScriptMalformedThenCut(t *testing.T) {
	srv := start(t, WithHandler(Script(
		SendOpen(Open{SID: "scripted", PingInterval: 1000}),
		Expect("40"),
		Send("4{malformed"),
		Cut(),
	)))
	c, o := connect(t, srv)
	if o.SID != "scripted" || o.PingInterval != 1000 || o.PingTimeout != 20000 || o.MaxPayload != 1_000_000 || o.Upgrades == nil {
		t.Fatalf("open packet %+v", o)
	}
	c.send("3") // pongs are skipped by Expect
	c.send("40")
	c.expect("4{malformed")
	_, err := c.readErr()
	if err == nil || websocket.CloseStatus(err) != -1 {
		t.Fatalf("after Cut, read returned %v; want an error without a close frame", err)
	}
	srv.Close()
	if err := srv.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
	if got := strings.Join(srv.Received(), "|"); got != "3|40" {
		t.Fatalf("Received() = %q", got)
	}
}

func TestScriptExpectFails(t *testing.T) {
	srv := start(t, WithHandler(Script(
		SendOpen(Open{}),
		Expect("40/admin,"),
	)))
	c, _ := connect(t, srv)
	c.send("40")
	reason := c.expectClose(websocket.StatusInternalError)
	if !strings.Contains(reason, `expected a frame starting with "40/admin,", got "40"`) {
		t.Fatalf("close reason %q", reason)
	}
	srv.Close()
	if err := srv.Err(); err == nil || !strings.Contains(err.Error(), "step 2") {
		t.Fatalf("Err: %v", err)
	}
}

func TestScriptThenServe(t *testing.T) {
	srv := start(t, WithHandler(func(ctx context.Context, c *Conn) error {
		if c.Request().URL.Query().Get("EIO") != "4" {
			return errors.New("no EIO in the request")
		}
		if err := c.SendText(ctx, `0{"sid":"raw","upgrades":[],"pingInterval":40,"pingTimeout":5000,"maxPayload":100}`); err != nil {
			return err
		}
		f, err := c.Read(ctx)
		if err != nil {
			return err
		}
		if err := c.SendText(ctx, "4"+f.Text); err != nil { // echo one frame by hand
			return err
		}
		return c.Serve(ctx) // no second open packet; heartbeat and maxPayload from "0{...}"
	}))
	c, o := connect(t, srv)
	if o.SID != "raw" {
		t.Fatalf("open packet %+v", o)
	}
	c.send("hello")
	c.expect("4hello")
	c.connectNS("/")
	c.expect("2") // pingInterval 40ms
	c.send("3")
	c.send(`42["echo","` + strings.Repeat("x", 100) + `"]`)
	c.expectClose(websocket.StatusMessageTooBig)
}

func TestScriptBinaryAndClose(t *testing.T) {
	srv := start(t, WithHandler(func(ctx context.Context, c *Conn) error {
		if err := c.SendOpen(Open{}); err != nil {
			return err
		}
		if err := c.SendText(ctx, `451-["file",{"_placeholder":true,"num":0}]`); err != nil {
			return err
		}
		if err := c.SendBinary(ctx, []byte{9, 8}); err != nil {
			return err
		}
		f, err := c.Read(ctx)
		if err != nil {
			return err
		}
		if !f.IsBinary || string(f.Binary) != "up" {
			return errors.New("want the binary frame \"up\"")
		}
		if _, err := c.Expect(ctx, "4"); err == nil {
			return errors.New("Expect accepted a binary frame")
		}
		return c.Close(4000, "scripted close")
	}))
	c, _ := connect(t, srv)
	c.expect(`451-["file",{"_placeholder":true,"num":0}]`)
	c.expectBinary([]byte{9, 8})
	c.sendBinary([]byte("up"))
	c.sendBinary([]byte("more"))
	if reason := c.expectClose(4000); reason != "scripted close" {
		t.Fatalf("reason %q", reason)
	}
	srv.Close()
	if err := srv.Err(); err != nil {
		t.Fatalf("Err: %v", err)
	}
}

func TestScriptHoldsUntilServerClose(t *testing.T) {
	srv := start(t, WithHandler(Script(SendOpen(Open{}), WaitForClose())))
	connect(t, srv)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestHandlerPanic(t *testing.T) {
	srv := start(t, WithHandler(func(ctx context.Context, c *Conn) error {
		panic("boom")
	}))
	c := dial(t, srv)
	c.expectClose(websocket.StatusInternalError)
	srv.Close()
	if err := srv.Err(); err == nil || !strings.Contains(err.Error(), "handler panic: boom") {
		t.Fatalf("Err: %v", err)
	}
}
