package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestHistogramBuckets checks that every value falls in a bucket whose
// bounds hold it, and that buckets are at most 1/128 of their values wide
// (but the last, which takes everything from 2⁴³ ns on).
func TestHistogramBuckets(t *testing.T) {
	values := []int64{0, 1, 127, 128, 129, 255, 256, 257, 1000, 1 << 20, 1<<20 + 1, 123456789, 1 << 42, 1<<43 - 1}
	for range 10000 {
		values = append(values, rand.Int64N(1<<43))
	}
	for _, v := range values {
		i := histIndex(v)
		if lo, hi := histLow(i), histHigh(i); v < lo || v > hi {
			t.Fatalf("value %d in bucket %d [%d, %d]", v, i, lo, hi)
		} else if i < histBuckets-1 && float64(hi-lo) > float64(lo)/128+1 {
			t.Fatalf("bucket %d [%d, %d] is too wide", i, lo, hi)
		}
	}
	if i := histIndex(math.MaxInt64); i != histBuckets-1 {
		t.Errorf("MaxInt64 in bucket %d, want the last, %d", i, histBuckets-1)
	}
}

// TestHistogramQuantiles checks the quantiles against the exact ones of the
// recorded values, within the buckets' error.
func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	var all []time.Duration
	for range 100000 {
		d := time.Duration(math.Exp(rand.NormFloat64()*1.5) * float64(time.Millisecond))
		h.record(d)
		all = append(all, d)
	}
	slices.Sort(all)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		exact := all[int(math.Ceil(q*float64(len(all))))-1]
		got := h.quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/128 {
			t.Errorf("q%v = %v, exact %v", q, got, exact)
		}
	}
	if h.quantile(1) != all[len(all)-1] || time.Duration(h.min) != all[0] {
		t.Errorf("max %v min %v, want %v %v", h.quantile(1), time.Duration(h.min), all[len(all)-1], all[0])
	}
	var sum uint64
	bars := h.bars(10)
	for _, b := range bars {
		sum += b.count
	}
	if len(bars) != 10 || sum != h.total || bars[9].upTo != all[len(all)-1] {
		t.Errorf("bars %v hold %d of %d", bars, sum, h.total)
	}
	var o histogram
	o.merge(&h)
	if o.quantile(0.99) != h.quantile(0.99) || o.total != h.total {
		t.Error("merge changed the quantiles")
	}
	var empty histogram
	if empty.quantile(0.5) != 0 || empty.bars(10) != nil {
		t.Error("empty histogram")
	}
}

func TestParseLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		name string
		args string
		err  bool
	}{
		{`chat hello`, "chat", `["hello"]`, false},
		{`  chat   {"a": [1, 2]}  42 word "two words" null`, "chat", `[{"a":[1,2]},42,"word","two words",null]`, false},
		{`["chat", {"a" : 1}, [true]]`, "chat", `[{"a":1},[true]]`, false},
		{`ping`, "ping", `[]`, false},
		{`-1`, "-1", `[]`, false},
		{`chat {bad`, "", "", true},
		{`chat "open`, "", "", true},
		{`[1, 2]`, "", "", true},
		{`[]`, "", "", true},
		{`[bad`, "", "", true},
	} {
		name, args, err := parseLine(tc.line)
		if tc.err {
			if err == nil {
				t.Errorf("%q: no error", tc.line)
			}
			continue
		}
		b, _ := json.Marshal(args)
		if err != nil || name != tc.name || string(b) != tc.args {
			t.Errorf("%q: %q %s %v; want %q %s", tc.line, name, b, err, tc.name, tc.args)
		}
	}
}

func TestIsFlag(t *testing.T) {
	for a, want := range map[string]bool{"-v": true, "--ack": true, "--count=3": true, "-1": false, "--1": false, "-.5": false, "-": false, "x": false, "": false} {
		if isFlag(a) != want {
			t.Errorf("isFlag(%q) = %v", a, !want)
		}
	}
}

// FuzzParseLine checks that no line makes parseLine panic, and that a line
// it accepts has arguments that encode.
func FuzzParseLine(f *testing.F) {
	for _, s := range []string{`chat hello`, `["a",1]`, `x {"a":[1,"b c"]} 2`, `x "`, `[`, "x \x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		if strings.Contains(line, "@") {
			return // @FILE reads files: not for a fuzzer
		}
		_, args, err := parseLine(line)
		if err == nil {
			for _, a := range args {
				if _, ok := a.([]byte); ok {
					continue // a file argument
				}
				if _, err := json.Marshal(a); err != nil && !reflect.DeepEqual(a, nil) {
					t.Fatalf("%q: argument %v does not encode: %v", line, a, err)
				}
			}
		}
		_ = fmt.Sprint(args)
	})
}

// TestStatusLine checks that the status line is redrawn in place on a
// terminal and printed a line at a time otherwise.
func TestStatusLine(t *testing.T) {
	var tty, pipe strings.Builder
	for _, s := range []*status{newStatus(&tty, true), newStatus(&pipe, false)} {
		s.show(time.Second, 200, 1, 2000, 150, true, 1500*time.Microsecond, 12*time.Millisecond)
		s.show(2*time.Second, 200, 1, 2000, 150, false, 0, 0)
		s.done()
	}
	const first = "[   1s] connected 200  failed 1  emits/s 2000  events/s 150  ack p50 1.500ms p99 12.000ms"
	const second = "[   2s] connected 200  failed 1  emits/s 2000  events/s 150"
	if want := "\r\033[K" + first + "\r\033[K" + second + "\n"; tty.String() != want {
		t.Errorf("terminal: %q, want %q", tty.String(), want)
	}
	if want := first + "\n" + second + "\n"; pipe.String() != want {
		t.Errorf("not a terminal: %q, want %q", pipe.String(), want)
	}
}

// TestBenchInterrupted checks that a run ended before it began (Ctrl-C at
// once) still reports, in JSON too, with every client failed.
func TestBenchInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var out, errOut strings.Builder
	code := run(ctx, []string{"bench", "http://127.0.0.1:1", "--clients", "3", "--json"}, strings.NewReader(""), &out, &errOut)
	var rep report
	if err := json.Unmarshal([]byte(out.String()), &rep); code != 0 || err != nil {
		t.Fatalf("status %d, report %q (%v), stderr %q", code, out.String(), err, errOut.String())
	}
	if rep.Failed != 3 || rep.Connected != 0 || rep.EmitsPerSec != 0 {
		t.Errorf("report %+v", rep)
	}
}
