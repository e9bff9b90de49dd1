package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sio-go/sio"
)

// Settings of BenchmarkManyClients.
const (
	// scaleEnv names the environment variable that enables the benchmark
	// and sets how many clients it holds (such as 19000).
	scaleEnv = "SIO_BENCH_CLIENTS"
	// scaleServers is how many test server processes share the clients:
	// each process may open at most 20,000 files on this machine.
	scaleServers = 2
	// scalePing is the servers' ping interval; the clients are held for
	// two of them once all are connected.
	scalePing = 5 * time.Second
	// scaleDialers is how many clients connect at once.
	scaleDialers = 64
	// scaleFirst is the count whose connect time is compared across rows.
	scaleFirst = 10000
	// upgradeWait bounds the wait for the upgrades of the default
	// transports, once every client has connected.
	upgradeWait = 30 * time.Second
)

// scaleSources are the local addresses the clients connect from, in turn:
// one address has about 28,000 ephemeral ports to each server.
var scaleSources = []string{"127.0.0.1", "127.0.0.2"}

// BenchmarkManyClients holds SIO_BENCH_CLIENTS idle clients (19000 on a
// machine whose processes may open 20,000 files) in this process, connected
// to Go test servers running in other processes (test/testserver/cmd/
// testserver), for two full ping intervals, and fails if any disconnects or
// leaves a heartbeat unanswered. Rows: impl=sio-ws (WebSocket only), impl=sio
// (default transports: polling, then upgraded) and impl=raw (bare
// coder/websocket connections that send the Socket.IO CONNECT by hand, with
// one goroutine each that answers pings), made the same way: from
// 127.0.0.1 and 127.0.0.2 in turn through an http.Client whose dialer sets
// LocalAddr, scaleDialers at a time.
//
// Metrics: KiB/client (heap and goroutine stacks, held), connect-s (all
// clients), first10k-s (the first 10,000; compare with impl=raw's),
// p50-ms and p99-ms (one client's connect), and for impl=sio on-polling
// (clients whose upgrade failed and that stayed on polling, as the
// protocol wants).
//
// Without SIO_BENCH_CLIENTS it is skipped: it is not part of the test
// command. See README.md.
func BenchmarkManyClients(b *testing.B) {
	n, _ := strconv.Atoi(os.Getenv(scaleEnv))
	if n <= 0 {
		b.Skipf("set %s (such as 19000) to hold that many clients", scaleEnv)
	}
	bin := buildTestServer(b)
	rows := []struct {
		name string
		opts []sio.Option // nil: raw
	}{
		{"impl=raw", nil},
		{"impl=sio-ws", []sio.Option{sio.WithTransports(sio.WebSocket)}},
		{"impl=sio", []sio.Option{}},
	}
	for _, row := range rows {
		b.Run(row.name, func(b *testing.B) {
			for range b.N {
				runScale(b, bin, n, row.opts)
			}
		})
	}
}

// buildTestServer builds the test server command into a temporary directory.
func buildTestServer(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "testserver")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/sio-go/sio/test/testserver/cmd/testserver")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build testserver: %v\n%s", err, out)
	}
	return bin
}

// serverProc is a test server running in a process of its own.
type serverProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	url   string
}

func startServerProc(b *testing.B, bin string) *serverProc {
	cmd := exec.Command(bin, "-ping-interval", scalePing.String(), "-ping-timeout", "20s")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	p := &serverProc{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	b.Cleanup(func() { p.stop() })
	line, err := p.out.ReadString('\n')
	if err != nil {
		b.Fatalf("test server: %v", err)
	}
	p.url = strings.TrimSpace(line)
	return p
}

// serverSummary is what the test server command prints when it stops.
type serverSummary struct {
	Sessions, Upgraded, Pongs, Errors int
	FirstError                        string
}

// stop ends the server and returns its summary.
func (p *serverProc) stop() serverSummary {
	var sum serverSummary
	if p.stdin == nil {
		return sum
	}
	p.stdin.Close()
	p.stdin = nil
	line, _ := p.out.ReadString('\n')
	_ = json.Unmarshal([]byte(line), &sum)
	_ = p.cmd.Wait()
	return sum
}

// sourceClient returns an HTTP client whose connections come from the local
// address ip: what a program holding more clients than one address has
// ephemeral ports for gives sio.WithHTTPClient.
func sourceClient(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Control: bindAddressNoPort}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, ForceAttemptHTTP2: false}}
}

// heldClient is one connected client of a row: Close ends it, lost reports
// whether it disconnected.
type heldClient interface {
	Close()
	lost() bool
}

type sioClient struct{ s *sio.Socket }

func (c sioClient) Close() { c.s.Close() }
func (c sioClient) lost() bool {
	select {
	case <-c.s.Done():
		return true
	default:
		return !c.s.Connected()
	}
}

type rawClient struct {
	c    *websocket.Conn
	done chan struct{} // closed when its reader returns
}

func (c rawClient) Close() { c.c.CloseNow(); <-c.done }
func (c rawClient) lost() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// dialRaw connects a bare WebSocket and joins the main namespace by hand,
// then starts its reader.
func dialRaw(ctx context.Context, url string, hc *http.Client) (heldClient, error) {
	u := strings.Replace(url, "http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
	c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPClient: hc})
	if err != nil {
		return nil, err
	}
	if _, msg, err := c.Read(ctx); err != nil || len(msg) == 0 || msg[0] != '0' {
		c.CloseNow()
		return nil, fmt.Errorf("open packet %q: %v", msg, err)
	}
	if err := c.Write(ctx, websocket.MessageText, []byte("40")); err != nil {
		c.CloseNow()
		return nil, err
	}
	for {
		_, msg, err := c.Read(ctx)
		if err != nil {
			c.CloseNow()
			return nil, err
		}
		if strings.HasPrefix(string(msg), "40") {
			break
		}
	}
	rc := rawClient{c: c, done: make(chan struct{})}
	go func() {
		defer close(rc.done)
		answerPings(c)
	}()
	return rc, nil
}

// runScale connects n clients (raw when opts is nil), holds them for two
// ping intervals and reports the row's metrics.
func runScale(b *testing.B, bin string, n int, opts []sio.Option) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	servers := make([]*serverProc, scaleServers)
	for i := range servers {
		servers[i] = startServerProc(b, bin)
	}
	clients := make([]*http.Client, len(scaleSources))
	for i, ip := range scaleSources {
		clients[i] = sourceClient(ip)
	}

	before := memInUse()
	held := make([]heldClient, n)
	took := make([]time.Duration, n)
	var next, first atomic.Int64
	var firstDone atomic.Int64 // when the first scaleFirst clients were connected
	firstN := int64(min(n, scaleFirst))
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	start := time.Now()
	for range scaleDialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || failed.Load() != nil {
					return
				}
				url := servers[i%len(servers)].url
				hc := clients[(i/len(servers))%len(clients)]
				t0 := time.Now()
				var c heldClient
				var err error
				if opts == nil {
					c, err = dialRaw(ctx, url, hc)
				} else {
					var s *sio.Socket
					s, err = sio.Dial(ctx, url, append(slices.Clip(opts), sio.WithHTTPClient(hc), sio.WithoutReconnect())...)
					c = sioClient{s}
				}
				if err != nil {
					err = fmt.Errorf("client %d: %w", i, err)
					failed.CompareAndSwap(nil, &err)
					return
				}
				held[i], took[i] = c, time.Since(t0)
				if i < scaleFirst && first.Add(1) == firstN {
					firstDone.Store(int64(time.Since(start)))
				}
			}
		}()
	}
	wg.Wait()
	connectTime := time.Since(start)
	defer func() {
		for _, c := range held {
			if c != nil {
				c.Close()
			}
		}
	}()
	if errp := failed.Load(); errp != nil {
		b.Fatal(*errp)
	}
	onPolling := 0
	if opts != nil && len(opts) == 0 {
		// The default transports: measure once every client upgraded, or
		// gave up upgrading (a probe that failed leaves a client on
		// polling, as the protocol wants; the row reports how many).
		deadline := time.Now().Add(upgradeWait)
		for _, c := range held {
			for c.(sioClient).s.Manager().Transport() != sio.WebSocket && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			if c.(sioClient).s.Manager().Transport() != sio.WebSocket {
				onPolling++
			}
		}
	}

	time.Sleep(2*scalePing + scalePing/2)
	perClient := float64(memInUse()-before) / float64(n) / 1024
	lost := 0
	for _, c := range held {
		if c.lost() {
			lost++
		}
	}
	if lost > 0 {
		b.Fatalf("%d of %d clients disconnected while held", lost, n)
	}
	var pongs int
	for _, p := range servers {
		sum := p.stop()
		pongs += sum.Pongs
	}
	if pongs < 2*n {
		b.Fatalf("the servers saw %d pongs from %d clients held two ping intervals", pongs, n)
	}

	slices.Sort(took)
	b.ReportMetric(perClient, "KiB/client")
	b.ReportMetric(connectTime.Seconds(), "connect-s")
	b.ReportMetric(time.Duration(firstDone.Load()).Seconds(), "first10k-s")
	b.ReportMetric(float64(took[n/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[n*99/100].Microseconds())/1000, "p99-ms")
	if opts != nil && len(opts) == 0 {
		b.ReportMetric(float64(onPolling), "on-polling")
	}
}
