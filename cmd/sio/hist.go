package main

import (
	"math"
	"math/bits"
	"time"
)

// histogram records durations in log-linear buckets, in the manner of an
// HDR histogram: values below 128 ns exactly, larger ones in buckets 1/128
// of their power of two wide (under 0.8 % error), up to 2⁴³ ns (2.4 h; more
// is counted as that). Its memory is fixed (37 KiB), however many values it
// records.
//
// A histogram is not safe for concurrent use; bench guards its own.
type histogram struct {
	counts   [histBuckets]uint64
	total    uint64
	min, max int64
}

const (
	histSubBits = 7
	histSub     = 1 << histSubBits
	histMaxExp  = 42
	histBuckets = (histMaxExp - histSubBits + 2) * histSub
)

// histIndex returns the bucket of v (in ns, v >= 0).
func histIndex(v int64) int {
	if v < histSub {
		return int(max(v, 0))
	}
	e := bits.Len64(uint64(v)) - 1
	if e > histMaxExp {
		return histBuckets - 1
	}
	m := v >> (e - histSubBits) // in [histSub, 2·histSub)
	return (e-histSubBits+1)*histSub + int(m-histSub)
}

// histLow returns the least value of bucket i.
func histLow(i int) int64 {
	if i < histSub {
		return int64(i)
	}
	block, m := i/histSub, int64(i%histSub+histSub)
	return m << (block - 1)
}

// histHigh returns the greatest value of bucket i.
func histHigh(i int) int64 {
	if i+1 >= histBuckets {
		return math.MaxInt64
	}
	return histLow(i+1) - 1
}

func (h *histogram) record(d time.Duration) {
	v := max(int64(d), 0)
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.counts[histIndex(v)]++
	h.total++
}

func (h *histogram) merge(o *histogram) {
	if o.total == 0 {
		return
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.total += o.total
}

func (h *histogram) reset() { *h = histogram{} }

// quantile returns the value below or at which a fraction q (0 to 1) of
// the values lie: the greatest value of their bucket, within [min, max].
func (h *histogram) quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = min(max(rank, 1), h.total)
	var seen uint64
	for i, c := range h.counts {
		if seen += c; seen >= rank {
			return time.Duration(min(max(histHigh(i), h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// bar is one bucket of a histogram drawn in text.
type bar struct {
	upTo  time.Duration
	count uint64
}

// bars spreads the recorded values over n buckets of equal width from the
// least to the greatest value, as hey draws its latency histogram.
func (h *histogram) bars(n int) []bar {
	if h.total == 0 || n <= 0 {
		return nil
	}
	width := float64(h.max-h.min) / float64(n)
	out := make([]bar, n)
	for i := range out {
		out[i].upTo = time.Duration(float64(h.min) + width*float64(i+1))
	}
	out[n-1].upTo = time.Duration(h.max)
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		// A fine bucket goes where its middle falls (clamped to the
		// values seen).
		v := min(max((histLow(i)+histHigh(min(i, histBuckets-2)))/2, h.min), h.max)
		j := n - 1
		if width > 0 {
			j = min(int(float64(v-h.min)/width), n-1)
		}
		out[j].count += c
	}
	return out
}
