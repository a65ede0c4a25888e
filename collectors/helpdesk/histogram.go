package helpdesk

import (
	"maps"
	"math"
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// DurationBuckets are the classic buckets of every duration histogram.
var DurationBuckets = []float64{60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 345600, 604800, 1209600}

// ReplyBuckets are the classic buckets of helpdesk_replies_per_solved_ticket.
var ReplyBuckets = []float64{0, 1, 2, 3, 4, 5, 7, 10, 15, 20}

// nativeSchema 3 gives buckets about 9% wide, as client_golang's
// NativeHistogramBucketFactor 1.1 does.
const nativeSchema = 3

// nativeBounds are the upper bounds of one power-of-two span's buckets, as
// fractions in [0.5, 1) like math.Frexp returns.
var nativeBounds = func() []float64 {
	n := 1 << nativeSchema
	b := make([]float64, n)
	for i := range b {
		b[i] = math.Exp2(float64(i)/float64(n)) / 2
	}
	return b
}()

// Histogram is a persisted histogram: classic buckets (not cumulative,
// the last element counts values above the highest bound) and, when native
// is on, sparse native buckets of schema nativeSchema.
type Histogram struct {
	Count   uint64         `json:"count"`
	Sum     float64        `json:"sum"`
	Buckets []uint64       `json:"buckets"`
	Native  map[int]uint64 `json:"native,omitempty"`
	Zero    uint64         `json:"zero,omitempty"`
}

// Observe adds v.
func (h *Histogram) Observe(v float64, bounds []float64, native bool) {
	if h.Buckets == nil {
		h.Buckets = make([]uint64, len(bounds)+1)
	}
	h.Count++
	h.Sum += v
	h.Buckets[sort.SearchFloat64s(bounds, v)]++
	if !native {
		return
	}
	if v <= 0 {
		h.Zero++
		return
	}
	if h.Native == nil {
		h.Native = map[int]uint64{}
	}
	frac, exp := math.Frexp(v)
	h.Native[sort.SearchFloat64s(nativeBounds, frac)+(exp-1)*len(nativeBounds)]++
}

func (h Histogram) clone() Histogram {
	h.Buckets = append([]uint64(nil), h.Buckets...)
	h.Native = maps.Clone(h.Native)
	return h
}

func (h *Histogram) merge(o Histogram) {
	if h.Buckets == nil && o.Buckets != nil {
		h.Buckets = make([]uint64, len(o.Buckets))
	}
	h.Count += o.Count
	h.Sum += o.Sum
	for i, c := range o.Buckets {
		h.Buckets[i] += c
	}
	if len(o.Native) > 0 && h.Native == nil {
		h.Native = map[int]uint64{}
	}
	for k, c := range o.Native {
		h.Native[k] += c
	}
	h.Zero += o.Zero
}

// metric renders h as one metric holding both the classic buckets and,
// when native, the native ones (what a protobuf scrape carries).
func (h *Histogram) metric(desc *prometheus.Desc, bounds []float64, native bool, labels []string) (prometheus.Metric, error) {
	cum := make(map[float64]uint64, len(bounds))
	var c uint64
	for i, b := range bounds {
		if i < len(h.Buckets) {
			c += h.Buckets[i]
		}
		cum[b] = c
	}
	classic, err := prometheus.NewConstHistogram(desc, h.Count, h.Sum, cum, labels...)
	if err != nil || !native {
		return classic, err
	}
	pos := make(map[int]int64, len(h.Native))
	for k, v := range h.Native {
		pos[k] = int64(v)
	}
	nh, err := prometheus.NewConstNativeHistogram(desc, h.Count, h.Sum, pos, nil, h.Zero,
		nativeSchema, 0, zeroTime, labels...)
	if err != nil {
		return nil, err
	}
	return dualHistogram{classic: classic, native: nh}, nil
}

// dualHistogram exposes one histogram with classic and native buckets,
// as a client_golang histogram with both configured does.
type dualHistogram struct{ classic, native prometheus.Metric }

func (d dualHistogram) Desc() *prometheus.Desc { return d.classic.Desc() }

func (d dualHistogram) Write(m *dto.Metric) error {
	var c dto.Metric
	if err := d.classic.Write(&c); err != nil {
		return err
	}
	if err := d.native.Write(m); err != nil {
		return err
	}
	// The native metric is built afresh for every scrape: changing it is safe.
	m.Histogram.Bucket = c.Histogram.Bucket
	m.Histogram.CreatedTimestamp = nil
	return nil
}
