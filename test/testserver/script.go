package testserver

import (
	"context"
	"fmt"
	"time"
)

// Handler drives one Engine.IO session in scripted mode (see WithHandler),
// over WebSocket or polling alike. ctx ends when the server closes; the
// session is closed when the handler returns.
type Handler func(ctx context.Context, c *Conn) error

// Step is one step of a Script.
type Step func(ctx context.Context, c *Conn) error

// Script returns a Handler that runs steps in order and stops at the first
// error, which it returns annotated with the step's number (from 1):
//
//	testserver.WithHandler(testserver.Script(
//		testserver.SendOpen(testserver.Open{}),
//		testserver.Expect("40"),
//		testserver.Send(`40{"sid":"x"}`),
//		testserver.Cut(),
//	))
func Script(steps ...Step) Handler {
	return func(ctx context.Context, c *Conn) error {
		for i, step := range steps {
			if err := step(ctx, c); err != nil {
				return fmt.Errorf("step %d: %w", i+1, err)
			}
		}
		return nil
	}
}

// SendOpen is a Step that sends the open packet (see Conn.SendOpen).
func SendOpen(o Open) Step {
	return func(_ context.Context, c *Conn) error { return c.SendOpen(o) }
}

// Send is a Step that sends one text frame.
func Send(s string) Step {
	return func(ctx context.Context, c *Conn) error { return c.SendText(ctx, s) }
}

// SendBinary is a Step that sends one binary frame.
func SendBinary(b []byte) Step {
	return func(ctx context.Context, c *Conn) error { return c.SendBinary(ctx, b) }
}

// Expect is a Step that reads the next text frame, pongs skipped, and fails
// unless it starts with prefix (see Conn.Expect).
func Expect(prefix string) Step {
	return func(ctx context.Context, c *Conn) error {
		_, err := c.Expect(ctx, prefix)
		return err
	}
}

// Sleep is a Step that waits for d, or until the server closes.
func Sleep(d time.Duration) Step {
	return func(ctx context.Context, _ *Conn) error {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// CloseConn is a Step that closes the session cleanly (see Conn.Close).
func CloseConn(code int, reason string) Step {
	return func(_ context.Context, c *Conn) error { return c.Close(code, reason) }
}

// Cut is a Step that ends the session without a close (see Conn.Cut).
func Cut() Step {
	return func(_ context.Context, c *Conn) error { return c.Cut() }
}

// WaitForClose is a Step that reads and discards packets until the session
// ends, whoever ends it. It returns nil then.
func WaitForClose() Step {
	return func(ctx context.Context, c *Conn) error {
		for {
			if _, err := c.Read(ctx); err != nil {
				return nil
			}
		}
	}
}

// ServeDefault is a Step that hands the session over to the default
// behaviour (see Conn.Serve) until it ends.
func ServeDefault() Step {
	return func(ctx context.Context, c *Conn) error { return c.Serve(ctx) }
}
