package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// status draws bench's status line on stderr once a second: redrawn in
// place on a terminal, one line a second otherwise.
type status struct {
	w     io.Writer
	tty   bool
	drawn bool
}

func newStatus(w io.Writer, tty bool) *status { return &status{w: w, tty: tty} }

func (s *status) show(elapsed time.Duration, connected, failed int64, emitsPerSec, recvPerSec float64, ack bool, p50, p99 time.Duration) {
	text := fmt.Sprintf("[%4.0fs] connected %d  failed %d  emits/s %.0f  events/s %.0f",
		elapsed.Seconds(), connected, failed, emitsPerSec, recvPerSec)
	if ack {
		text += fmt.Sprintf("  ack p50 %s p99 %s", fmtDur(p50), fmtDur(p99))
	}
	if s.tty {
		fmt.Fprintf(s.w, "\r\033[K%s", text)
		s.drawn = true
		return
	}
	fmt.Fprintln(s.w, text)
}

// done ends a line drawn in place.
func (s *status) done() {
	if s.drawn {
		fmt.Fprintln(s.w)
	}
}

// report is bench's result.
type report struct {
	Clients        int              `json:"clients"`
	Connected      int64            `json:"connected"`
	Failed         int64            `json:"failed"`
	Disconnects    int64            `json:"disconnects"`
	Seconds        float64          `json:"duration_s"`
	Emits          int64            `json:"emits"`
	EmitsPerSec    float64          `json:"emits_per_s"`
	Acks           int64            `json:"acks"`
	Received       int64            `json:"events_received"`
	ReceivedPerSec float64          `json:"events_received_per_s"`
	Connect        *latency         `json:"connect_ms,omitempty"`
	Ack            *latency         `json:"ack_ms,omitempty"`
	AckHistogram   []bucketJSON     `json:"ack_histogram_ms,omitempty"`
	Errors         map[string]int64 `json:"errors"`

	ackBars []bar
}

// latency is a histogram's summary, in milliseconds.
type latency struct {
	Count uint64  `json:"count"`
	P50   float64 `json:"p50"`
	P90   float64 `json:"p90"`
	P99   float64 `json:"p99"`
	P999  float64 `json:"p99.9"`
	Max   float64 `json:"max"`

	d [5]time.Duration
}

type bucketJSON struct {
	UpTo  float64 `json:"le"`
	Count uint64  `json:"count"`
}

func summarize(h *histogram) *latency {
	if h.total == 0 {
		return nil
	}
	l := &latency{Count: h.total}
	for i, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		l.d[i] = h.quantile(q)
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	l.P50, l.P90, l.P99, l.P999, l.Max = ms(l.d[0]), ms(l.d[1]), ms(l.d[2]), ms(l.d[3]), ms(l.d[4])
	return l
}

// report summarizes the run, whose emits went on for ran.
func (b *bench) report(ran time.Duration) *report {
	secs := ran.Seconds()
	b.mu.Lock()
	defer b.mu.Unlock()
	r := &report{
		Clients:     b.cfg.clients,
		Connected:   b.connects.Load(),
		Failed:      b.failed.Load(),
		Disconnects: b.disconnects.Load(),
		Seconds:     secs,
		Emits:       b.emits.Load(),
		Acks:        b.acks.Load(),
		Received:    b.received.Load(),
		Connect:     summarize(&b.connectH),
		Ack:         summarize(&b.ackH),
		Errors:      maps.Clone(b.errs),
		ackBars:     b.ackH.bars(10),
	}
	if secs > 0 { // an interrupted run may have emitted for no time at all
		r.EmitsPerSec = float64(r.Emits) / secs
		r.ReceivedPerSec = float64(r.Received) / secs
	}
	for _, bb := range r.ackBars {
		r.AckHistogram = append(r.AckHistogram, bucketJSON{float64(bb.upTo.Microseconds()) / 1000, bb.count})
	}
	return r
}

func (r *report) writeJSON(w io.Writer) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

func (r *report) writeText(w io.Writer) {
	fmt.Fprintf(w, "\nSummary:\n")
	fmt.Fprintf(w, "  Clients:      %d connected, %d failed (of %d)\n", r.Connected, r.Failed, r.Clients)
	fmt.Fprintf(w, "  Duration:     %.2f s\n", r.Seconds)
	fmt.Fprintf(w, "  Emits:        %d sent (%.1f/s)", r.Emits, r.EmitsPerSec)
	if r.Ack != nil || r.Acks > 0 {
		fmt.Fprintf(w, ", %d acknowledged", r.Acks)
	}
	fmt.Fprintf(w, "\n  Received:     %d events (%.1f/s)\n", r.Received, r.ReceivedPerSec)
	fmt.Fprintf(w, "  Disconnects:  %d\n", r.Disconnects)
	writeLatency(w, "Connect time", r.Connect)
	writeLatency(w, "Ack latency", r.Ack)
	if len(r.ackBars) > 0 {
		fmt.Fprintf(w, "\nAck latency histogram:\n")
		var most uint64
		for _, b := range r.ackBars {
			most = max(most, b.count)
		}
		width := len(fmt.Sprint(most))
		for _, b := range r.ackBars {
			n := 0
			if most > 0 {
				n = int(b.count * 40 / most)
			}
			fmt.Fprintf(w, "  %10s [%-*d] |%s\n", fmtDur(b.upTo), width, b.count, strings.Repeat("■", n))
		}
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "\nErrors:\n")
		kinds := slices.SortedFunc(maps.Keys(r.Errors), func(a, b string) int {
			return cmp.Or(cmp.Compare(r.Errors[b], r.Errors[a]), strings.Compare(a, b))
		})
		for _, k := range kinds {
			fmt.Fprintf(w, "  [%d] %s\n", r.Errors[k], k)
		}
	}
}

func writeLatency(w io.Writer, title string, l *latency) {
	if l == nil {
		return
	}
	fmt.Fprintf(w, "\n%s (%d):\n", title, l.Count)
	for i, name := range []string{"p50", "p90", "p99", "p99.9", "max"} {
		fmt.Fprintf(w, "  %-6s %10s\n", name, fmtDur(l.d[i]))
	}
}

// fmtDur shows a duration to the microsecond.
func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return fmt.Sprintf("%.3fms", float64(d)/1e6)
}
