package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/sio-go/sio"
)

// errHelp ends a command that printed its help: exit status 0.
var errHelp = errors.New("help")

// connFlags are the connection flags every command takes.
type connFlags struct {
	transports  string
	path        string
	auth        string
	query       []string
	header      []string
	eio         int
	cacert      string
	insecure    bool
	timeout     time.Duration
	noReconnect bool
	verbose     bool
}

func (c *connFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.transports, "transports", "polling,websocket", "transports to use, in order (polling, websocket)")
	fs.StringVar(&c.path, "path", sio.DefaultPath, "the server's Engine.IO path")
	fs.StringVar(&c.auth, "auth", "", "auth payload sent when joining the namespace (a JSON object)")
	fs.Func("query", "query parameter `k=v` sent with every request (repeatable)", func(s string) error {
		c.query = append(c.query, s)
		return nil
	})
	fs.Func("header", "HTTP header `'K: V'` sent with every request (repeatable)", func(s string) error {
		c.header = append(c.header, s)
		return nil
	})
	fs.IntVar(&c.eio, "eio", 0, "Engine.IO version: 3 (Socket.IO 2.x) or 4; default: detect")
	fs.StringVar(&c.cacert, "cacert", "", "PEM `file` of CA certificates to trust for https/wss")
	fs.BoolVar(&c.insecure, "insecure", false, "do not verify the server's TLS certificate (unsafe)")
	fs.DurationVar(&c.timeout, "timeout", sio.DefaultConnectTimeout, "connect timeout")
	fs.BoolVar(&c.noReconnect, "no-reconnect", false, "do not reconnect when the connection is lost")
	fs.BoolVar(&c.verbose, "v", false, "debug logs of the library on stderr")
}

// target is a parsed URL: the Manager's URL and the namespace its path
// names.
type target struct {
	url string
	nsp string
}

func parseTarget(raw string) (target, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return target{}, usagef("bad URL %q: %v", raw, err)
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return target{}, usagef("bad URL %q: the scheme must be http, https, ws or wss", raw)
	}
	if u.Host == "" {
		return target{}, usagef("bad URL %q: no host", raw)
	}
	nsp := u.Path
	if nsp == "" {
		nsp = "/"
	}
	return target{url: raw, nsp: nsp}, nil
}

// client is what the connection flags make: the library's options and the
// HTTP transport behind them, whose idle connections close must close at
// the end.
type client struct {
	opts []sio.Option
	tls  *tls.Config
	log  *slog.Logger
}

// build checks the connection flags and turns them into options. Bad values
// are usage errors; --insecure is said on stderr.
func (c *connFlags) build(stderr io.Writer) (*client, error) {
	cl := &client{}
	var ts []sio.Transport
	for _, name := range strings.Split(c.transports, ",") {
		switch strings.TrimSpace(name) {
		case "polling":
			ts = append(ts, sio.Polling)
		case "websocket":
			ts = append(ts, sio.WebSocket)
		case "":
		default:
			return nil, usagef("--transports: unknown transport %q (polling, websocket)", name)
		}
	}
	if len(ts) == 0 {
		return nil, usagef("--transports: no transport")
	}
	cl.opts = append(cl.opts, sio.WithTransports(ts...), sio.WithPath(c.path))
	if c.auth != "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(c.auth), &obj); err != nil || obj == nil {
			return nil, usagef("--auth: want a JSON object, got %.40q", c.auth)
		}
		cl.opts = append(cl.opts, sio.WithAuth(json.RawMessage(c.auth)))
	}
	if len(c.query) > 0 {
		q := url.Values{}
		for _, kv := range c.query {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return nil, usagef("--query: want k=v, got %q", kv)
			}
			q.Add(k, v)
		}
		cl.opts = append(cl.opts, sio.WithQuery(q))
	}
	if len(c.header) > 0 {
		h := http.Header{}
		for _, kv := range c.header {
			k, v, ok := strings.Cut(kv, ":")
			k = strings.TrimSpace(k)
			if !ok || k == "" || strings.ContainsAny(k, " \t\r\n") || strings.ContainsAny(v, "\r\n") {
				return nil, usagef("--header: want 'Name: value', got %q", strings.SplitN(kv, ":", 2)[0]+": …")
			}
			h.Add(k, strings.TrimSpace(v))
		}
		cl.opts = append(cl.opts, sio.WithHeader(h))
	}
	switch c.eio {
	case 0:
	case 3, 4:
		cl.opts = append(cl.opts, sio.WithEngineIO(c.eio))
	default:
		return nil, usagef("--eio: want 3 or 4, got %d", c.eio)
	}
	if c.timeout <= 0 {
		return nil, usagef("--timeout: want a positive duration, got %v", c.timeout)
	}
	cl.opts = append(cl.opts, sio.WithConnectTimeout(c.timeout))
	if c.noReconnect {
		cl.opts = append(cl.opts, sio.WithoutReconnect())
	}
	if c.cacert != "" || c.insecure {
		cl.tls = &tls.Config{}
	}
	if c.cacert != "" {
		pem, err := os.ReadFile(c.cacert)
		if err != nil {
			return nil, usagef("--cacert: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usagef("--cacert: no PEM certificate in %s", c.cacert)
		}
		cl.tls.RootCAs = pool
	}
	if c.insecure {
		cl.tls.InsecureSkipVerify = true
		fmt.Fprintln(stderr, "sio: WARNING: --insecure: the server's TLS certificate is NOT verified; anyone on the path can read and change this traffic")
	}
	if c.verbose {
		cl.log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		cl.opts = append(cl.opts, sio.WithLogger(cl.log))
	}
	return cl, nil
}

// httpClient returns an HTTP client of its own (one per simulated client in
// bench), dialling from laddr when it is not nil; its idle connections are
// closed by the returned function.
func (cl *client) httpClient(laddr net.Addr) (*http.Client, func()) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = cl.tls
	tr.MaxIdleConnsPerHost = 4
	if laddr != nil {
		d := &net.Dialer{LocalAddr: laddr, Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		tr.DialContext = d.DialContext
	}
	return &http.Client{Transport: tr}, tr.CloseIdleConnections
}

// options returns the library options with an HTTP client of its own; done
// releases the client's idle connections.
func (cl *client) options(laddr net.Addr) (opts []sio.Option, done func()) {
	hc, done := cl.httpClient(laddr)
	return append(append([]sio.Option(nil), cl.opts...), sio.WithHTTPClient(hc)), done
}

// parseArgs parses args with fs, flags and positional arguments in any
// order ("sio listen URL --count 3"). "--" ends the flags; a negative number
// ("-1") is an argument, not a flag. Errors are usage errors; -h prints the
// flags on stdout and returns errHelp.
func parseArgs(fs *flag.FlagSet, args []string, stdout io.Writer, synopsis string) ([]string, error) {
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !isFlag(a) {
			pos = append(pos, a)
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		n := 1
		if f := fs.Lookup(name); f != nil && !hasValue && !isBoolFlag(f) && i+1 < len(args) {
			n = 2 // the value is the next argument
		}
		if err := fs.Parse(args[i : i+n]); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fmt.Fprintf(stdout, "usage: %s\n\nFlags:\n", synopsis)
				fs.SetOutput(stdout)
				fs.PrintDefaults()
				return nil, errHelp
			}
			return nil, usagef("%v (-h lists the flags)", err)
		}
		i += n - 1
	}
	return pos, nil
}

// isFlag reports whether a looks like a flag: a dash and a letter, not a
// negative number or a lone dash.
func isFlag(a string) bool {
	if len(a) < 2 || a[0] != '-' {
		return false
	}
	c := a[1]
	if c == '-' && len(a) > 2 {
		c = a[2]
	}
	return !(c >= '0' && c <= '9' || c == '.')
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}
