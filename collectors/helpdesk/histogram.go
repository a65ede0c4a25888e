package helpdesk

import (
	"maps"
	"math"
	"sort"

	dto "github.com/prometheus/client_model/go"
	"google.golang.org/protobuf/proto"
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

// toDTO renders h holding the classic buckets and, when native, the
// native ones (a protobuf scrape carries both, as a client_golang histogram
// with both configured does).
func (h *Histogram) toDTO(bounds []float64, native bool) *dto.Histogram {
	count, sum := h.Count, h.Sum
	d := &dto.Histogram{SampleCount: &count, SampleSum: &sum, Bucket: make([]*dto.Bucket, len(bounds))}
	// The buckets and their counts in one allocation each, not two a
	// bucket: a scrape after a sync rebuilds thousands.
	buckets, cums := make([]dto.Bucket, len(bounds)), make([]uint64, len(bounds))
	var cum uint64
	for i := range bounds {
		if i < len(h.Buckets) {
			cum += h.Buckets[i]
		}
		cums[i] = cum
		buckets[i].CumulativeCount, buckets[i].UpperBound = &cums[i], &bounds[i]
		d.Bucket[i] = &buckets[i]
	}
	if native {
		d.Schema = proto.Int32(nativeSchema)
		d.ZeroThreshold = proto.Float64(0)
		d.ZeroCount = proto.Uint64(h.Zero)
		d.PositiveSpan, d.PositiveDelta = nativeSpans(h.Native)
		if len(d.PositiveSpan) == 0 && h.Zero == 0 {
			// An empty native histogram still needs a span to be told
			// from a classic one.
			d.PositiveSpan = []*dto.BucketSpan{{Offset: proto.Int32(0), Length: proto.Uint32(0)}}
		}
	}
	return d
}

// nativeSpans encodes sparse bucket counts as spans and deltas.
func nativeSpans(buckets map[int]uint64) ([]*dto.BucketSpan, []int64) {
	if len(buckets) == 0 {
		return nil, nil
	}
	keys := make([]int, 0, len(buckets))
	for k := range buckets {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var (
		spans  []*dto.BucketSpan
		deltas = make([]int64, 0, len(keys))
		prev   int64
		next   int
	)
	for i, k := range keys {
		if i == 0 || k != next {
			spans = append(spans, &dto.BucketSpan{Offset: proto.Int32(int32(k - next)), Length: proto.Uint32(0)})
		}
		*spans[len(spans)-1].Length++
		c := int64(buckets[k])
		deltas = append(deltas, c-prev)
		prev, next = c, k+1
	}
	return spans, deltas
}
