package exporter

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// BackfillOptions are the flags of `cx-exporter backfill`.
type BackfillOptions struct {
	// Since is how far before the end the backfill starts (default 90 days).
	Since time.Duration
	// Until ends the backfill; zero: each source's watermark in the
	// state directory.
	Until time.Time
	// Step is the interval between samples (default 5m).
	Step time.Duration
	// Out is the directory the OpenMetrics files and checkpoints go to.
	Out string
	// Sources limits the backfill to these source names (default: every
	// enabled source that has a history).
	Sources []string
	// Labels are added to every sample (job, instance: the labels
	// Prometheus' scrape adds to the live series).
	Labels map[string]string
	// Chunk is the time span of one output file and checkpoint (default 24h).
	Chunk time.Duration
	// Progress receives progress lines; ProgressEvery spaces them
	// (default 10s; one at the end of each chunk in any case).
	Progress      io.Writer
	ProgressEvery time.Duration
	// Clock is the wall clock of the progress lines (default time.Now).
	Clock func() time.Time
}

// BackfillResult sums up one source's backfill.
type BackfillResult struct {
	Source        string
	From, Until   time.Time
	Files         []string
	Requests      int
	Changes       int
	Samples       int64
	Resumed       bool
	AlreadyDone   bool
	Elapsed       time.Duration
	Chunks, Total int
}

// Backfill writes each source's history as OpenMetrics files for
// `promtool tsdb create-blocks-from openmetrics`: the same metric
// families, names and labels the live exporter exports, computed by the
// same engines from the versions the vendor's history gives, one sample
// per Step from Until-Since up to (not including) Until. It reads the
// state directory only for the watermark and never writes it.
func Backfill(ctx context.Context, cfg *Config, logger *slog.Logger, o BackfillOptions) ([]BackfillResult, error) {
	if o.Since <= 0 {
		o.Since = 90 * 24 * time.Hour
	}
	if o.Step <= 0 {
		o.Step = 5 * time.Minute
	}
	if o.Chunk <= 0 {
		o.Chunk = 24 * time.Hour
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 10 * time.Second
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
	if o.Out == "" {
		return nil, errors.New("backfill: --out is required")
	}
	hd, bl := cfg.engineConfig()
	client := upstream.Options{UserAgent: "cx-exporter-backfill", Timeout: cfg.HTTPTimeout, RetryMax: cmp.Or(cfg.HTTPRetries, -1),
		Metrics: upstream.NewMetrics(prometheus.NewRegistry()), Logger: logger}
	var results []BackfillResult
	for _, v := range cfg.enabled() {
		if len(o.Sources) > 0 && !slices.Contains(o.Sources, v.Kind) {
			continue
		}
		if v.History == nil {
			logger.Warn("backfill: the vendor keeps no history the backfill reads; skipped (see docs/vendors.md)", "source", v.Kind)
			continue
		}
		until := o.Until
		if until.IsZero() {
			wm, err := readWatermark(cfg.StateDir, v.Kind)
			if err != nil {
				return results, err
			}
			until = wm
		}
		deps := source.Deps{Name: v.Kind, Client: client, Logger: logger.With("src", v.Kind),
			Reject: func(id, reason string, err error) {
				logger.Warn("record rejected", "src", v.Kind, "id", id, "reason", reason, "err", err)
			}}.WithDefaults()
		h, err := v.History(cfg.Vendors[v.Kind], deps)
		if err != nil {
			return results, fmt.Errorf("%s_%s: %w", Prefix, strings.ToUpper(v.Kind), err)
		}
		r := &backfill{o: o, name: v.Kind, role: v.Role, hist: h, from: until.Add(-o.Since).Truncate(o.Step), until: until}
		r.hdCfg, r.blCfg = hd, bl
		if dh, ok := h.(source.DirectoryHistory); ok && v.Role == source.RoleHelpdesk {
			// Past tickets get the names the live source gives, read from
			// the vendor's directory (kept in memory for the run).
			r.names = source.Env{Deps: deps, Helpdesk: hd, AgentLabel: cfg.AgentLabel}.Names(dh.Directory())
		}
		res, err := r.run(ctx)
		results = append(results, res)
		if err != nil {
			return results, fmt.Errorf("backfill %s: %w", v.Kind, err)
		}
	}
	if len(results) == 0 {
		return nil, errors.New("backfill: no enabled source has a history to backfill")
	}
	return results, nil
}

// readWatermark reads a source's watermark from the state directory.
func readWatermark(dir, name string) (time.Time, error) {
	if _, err := os.Stat(filepath.Join(dir, state.FileName)); err != nil {
		return time.Time{}, fmt.Errorf("%s_STATE_DIR: no state file in %s: %s has never run; pass --until", Prefix, dir, name)
	}
	store, err := state.Open(dir)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s_STATE_DIR: %w (stop the exporter while reading its watermark, or pass --until)", Prefix, err)
	}
	defer store.Close()
	var wm time.Time
	err = store.Source(name).View(func(tx *state.Tx) error {
		b := tx.Get(state.KeyWatermark)
		if b == nil {
			return fmt.Errorf("%s has no watermark yet: it has never run; pass --until", name)
		}
		return wm.UnmarshalText(b)
	})
	return wm, err
}

// memRecords is an engine's record store in memory.
type memRecords map[string][]byte

func (m memRecords) Get(id string) []byte { return m[id] }
func (m memRecords) Put(id string, v []byte) error {
	m[id] = v
	return nil
}

// checkpoint is a backfill's state at the start of a chunk: everything
// to go on from there as if uninterrupted.
type checkpoint struct {
	Next       time.Time         `json:"next"` // the next step to render
	From       time.Time         `json:"from"`
	Until      time.Time         `json:"until"`
	Step       time.Duration     `json:"step"`
	Done       bool              `json:"done"`
	Files      []string          `json:"files"`
	Vendor     json.RawMessage   `json:"vendor,omitempty"`
	Helpdesk   json.RawMessage   `json:"helpdesk,omitempty"`
	HDRecords  map[string][]byte `json:"helpdesk_records,omitempty"`
	Billing    json.RawMessage   `json:"billing,omitempty"`
	BLRecords  map[string][]byte `json:"billing_records,omitempty"`
	Requests   int               `json:"requests"`
	Changes    int               `json:"changes"`
	Samples    int64             `json:"samples"`
	WallBefore time.Duration     `json:"wall_before"`
}

// backfill is one source's run.
type backfill struct {
	o           BackfillOptions
	name, role  string
	hist        source.History
	from, until time.Time
	hdCfg       helpdesk.Config
	blCfg       billing.Config
	names       *source.Names   // assignee and group names; nil: ids
	ctx         context.Context // the run's, for the names' directory reads

	hd    *helpdesk.Tracker
	hdB   *helpdesk.Batch // changes since the last step, unpublished
	blB   *billing.Batch
	hdRec memRecords
	bl    *billing.Tracker
	blRec memRecords
	reg   prometheus.Gatherer
	clock time.Time // the instant being rendered

	next       time.Time // next step to render
	chunkStart time.Time
	chunkEnd   time.Time
	f          *os.File
	w          *bufio.Writer
	files      []string
	changes    int
	samples    int64
	prior      time.Duration // wall time of earlier, interrupted runs
	started    time.Time
	lastPrint  time.Time
	labels     string // the extra labels, rendered
}

func (r *backfill) checkpointPath() string { return filepath.Join(r.o.Out, r.name+".checkpoint.json") }

func (r *backfill) run(ctx context.Context) (BackfillResult, error) {
	r.ctx = ctx
	res := BackfillResult{Source: r.name, From: r.from, Until: r.until}
	r.started = r.o.Clock()
	r.lastPrint = r.started
	if err := os.MkdirAll(r.o.Out, 0o755); err != nil {
		return res, err
	}
	// A killed run leaves its chunk in progress under a temporary name.
	stale, _ := filepath.Glob(filepath.Join(r.o.Out, ".tmp-"+r.name+"-*"))
	for _, f := range stale {
		os.Remove(f)
	}
	r.labels = renderLabels(r.o.Labels)
	r.hdRec, r.blRec = memRecords{}, memRecords{}
	hcfg, bcfg := r.hdCfg, r.blCfg
	hcfg.Watermark, bcfg.Watermark = r.from, r.from
	r.hd, r.bl = helpdesk.NewTracker(hcfg), billing.NewTracker(bcfg)
	r.next = r.from
	var resume []byte
	cp, err := r.loadCheckpoint()
	if err != nil {
		return res, err
	}
	if cp != nil {
		if !cp.From.Equal(r.from) || !cp.Until.Equal(r.until) || cp.Step != r.o.Step {
			return res, fmt.Errorf("%s holds a backfill of %s to %s every %s, not this one; remove it (and its files) to start over",
				r.checkpointPath(), cp.From.Format(time.RFC3339), cp.Until.Format(time.RFC3339), cp.Step)
		}
		res.Resumed = true
		r.files, r.changes, r.samples, r.prior = cp.Files, cp.Changes, cp.Samples, cp.WallBefore
		if cp.Done {
			res.AlreadyDone, res.Files, res.Samples = true, cp.Files, cp.Samples
			return res, nil
		}
		if err := r.restore(cp); err != nil {
			return res, err
		}
		resume = cp.Vendor
		fmt.Fprintf(r.o.Progress, "backfill %s: resuming at %s\n", r.name, r.next.UTC().Format(time.RFC3339))
	}
	now := func() time.Time { return r.clock }
	if r.role == source.RoleBilling {
		reg := prometheus.NewRegistry()
		reg.MustRegister(r.bl.Collector(r.name, now))
		r.reg = reg
	} else {
		r.reg = r.hd.Collector(r.name, now) // gathered directly, as /metrics does
	}
	if err := r.openChunk(); err != nil {
		return res, err
	}
	err = r.hist.Replay(ctx, r.from, r.until, resume, r)
	if err == nil {
		err = r.renderUntil(r.until)
	}
	if err == nil {
		err = r.closeChunk(true)
	}
	if r.f != nil {
		r.f.Close()
		os.Remove(r.f.Name())
	}
	res.Files, res.Requests, res.Changes, res.Samples = r.files, r.hist.Requests(), r.changes, r.samples
	res.Elapsed = r.prior + r.o.Clock().Sub(r.started)
	if err == nil {
		r.progress(true)
	}
	return res, err
}

// Advance renders every step before at: the changes dated at come next.
func (r *backfill) Advance(at time.Time) error {
	if err := r.renderUntil(at); err != nil {
		return err
	}
	if r.o.Clock().Sub(r.lastPrint) >= r.o.ProgressEvery {
		r.progress(false)
	}
	return nil
}

// Ticket applies one ticket version dated at the last Advance.
func (r *backfill) Ticket(t *helpdesk.Ticket) error {
	r.changes++
	if r.names != nil {
		one := []helpdesk.Ticket{*t}
		r.names.Resolve(r.ctx, one)
		t = &one[0]
	}
	if r.hdB == nil {
		r.hdB = r.hd.Begin()
	}
	_, err := r.hdB.Apply(r.hdRec, t)
	var inv *helpdesk.InvalidError
	if errors.As(err, &inv) {
		return nil // logged by the vendor where it knows why; not a live counter
	}
	return err
}

// Subscription applies one subscription version.
func (r *backfill) Subscription(s *billing.Subscription) error {
	r.changes++
	if r.blB == nil {
		r.blB = r.bl.Begin(r.next)
	}
	_, err := r.blB.Apply(r.blRec, s)
	var inv *billing.InvalidError
	if errors.As(err, &inv) {
		return nil
	}
	return err
}

// publish makes the changes applied since the last step visible.
func (r *backfill) publish() {
	if r.hdB != nil {
		r.hd.Publish(r.hdB)
		r.hdB = nil
	}
	if r.blB != nil {
		r.bl.Publish(r.blB)
		r.blB = nil
	}
}

// renderUntil writes the samples of every step before end.
func (r *backfill) renderUntil(end time.Time) error {
	for r.next.Before(end) && r.next.Before(r.until) {
		if !r.next.Before(r.chunkEnd) {
			if err := r.closeChunk(false); err != nil {
				return err
			}
			if err := r.openChunk(); err != nil {
				return err
			}
		}
		if err := r.render(r.next); err != nil {
			return err
		}
		r.next = r.next.Add(r.o.Step)
	}
	return nil
}

// render writes one step's samples.
func (r *backfill) render(t time.Time) error {
	r.publish()
	r.clock = t
	if r.role != source.RoleBilling {
		_, err := r.hd.Sweep(t, func(apply func(rec helpdesk.Records) ([]byte, error)) error {
			_, err := apply(r.hdRec)
			return err
		})
		if err != nil {
			return err
		}
	} else {
		// The billing gauges and 30-day ratios roll over by day.
		b := r.bl.Begin(t)
		r.bl.Publish(b)
	}
	mfs, err := r.reg.Gather()
	if err != nil {
		return err
	}
	ts := strconv.FormatInt(t.Unix(), 10)
	for _, mf := range mfs {
		n, err := writeFamily(r.w, mf, r.labels, ts)
		if err != nil {
			return err
		}
		r.samples += n
	}
	return nil
}

// chunkName names the file of the chunk starting at t.
func (r *backfill) chunkName(t time.Time) string {
	return filepath.Join(r.o.Out, fmt.Sprintf("%s-%s.om", r.name, t.UTC().Format("20060102T150405Z")))
}

func (r *backfill) openChunk() error {
	start := r.next
	// Chunks end on multiples of Chunk since the epoch (UTC days), so that
	// they line up with Prometheus' 2h blocks.
	r.chunkEnd = start.Truncate(r.o.Chunk).Add(r.o.Chunk)
	f, err := os.CreateTemp(r.o.Out, ".tmp-"+r.name+"-*")
	if err != nil {
		return err
	}
	r.f, r.w = f, bufio.NewWriterSize(f, 1<<20)
	r.chunkStart = start
	return nil
}

// closeChunk ends the chunk's file, renames it into place and stores the
// checkpoint of what follows (done: the whole backfill).
func (r *backfill) closeChunk(done bool) error {
	if _, err := r.w.WriteString("# EOF\n"); err != nil {
		return err
	}
	if err := r.w.Flush(); err != nil {
		return err
	}
	if err := r.f.Sync(); err != nil {
		return err
	}
	if err := r.f.Close(); err != nil {
		return err
	}
	name := r.chunkName(r.chunkStart)
	if err := os.Rename(r.f.Name(), name); err != nil {
		return err
	}
	r.f = nil
	if !slices.Contains(r.files, name) {
		r.files = append(r.files, name)
	}
	if err := r.saveCheckpoint(done); err != nil {
		return err
	}
	r.progress(false)
	return nil
}

func (r *backfill) saveCheckpoint(done bool) error {
	r.publish()
	cp := checkpoint{Next: r.next, From: r.from, Until: r.until, Step: r.o.Step, Done: done, Files: r.files,
		Requests: r.hist.Requests(), Changes: r.changes, Samples: r.samples, WallBefore: r.prior + r.o.Clock().Sub(r.started)}
	if !done {
		var err error
		if cp.Vendor, err = r.hist.State(); err != nil {
			return err
		}
		if cp.Helpdesk, err = r.hd.Begin().Aggregates(); err != nil {
			return err
		}
		if cp.Billing, err = r.bl.Begin(r.next).Aggregates(); err != nil {
			return err
		}
		cp.HDRecords, cp.BLRecords = r.hdRec, r.blRec
	}
	b, err := json.Marshal(cp)
	if err != nil {
		return err
	}
	tmp := r.checkpointPath() + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, r.checkpointPath())
}

func (r *backfill) loadCheckpoint() (*checkpoint, error) {
	b, err := os.ReadFile(r.checkpointPath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var cp checkpoint
	if err := json.Unmarshal(b, &cp); err != nil {
		return nil, fmt.Errorf("%s: %w", r.checkpointPath(), err)
	}
	return &cp, nil
}

// restore rebuilds the engines from a checkpoint.
func (r *backfill) restore(cp *checkpoint) error {
	r.next = cp.Next
	r.hdRec, r.blRec = cp.HDRecords, cp.BLRecords
	if r.hdRec == nil {
		r.hdRec = memRecords{}
	}
	if r.blRec == nil {
		r.blRec = memRecords{}
	}
	each := func(m memRecords) func(fn func(id string, v []byte) error) error {
		return func(fn func(id string, v []byte) error) error {
			for k, v := range m {
				if err := fn(k, v); err != nil {
					return err
				}
			}
			return nil
		}
	}
	if err := r.hd.Load(cp.Helpdesk, each(r.hdRec)); err != nil {
		return err
	}
	return r.bl.Load(cp.Billing, each(r.blRec))
}

// progress prints where the backfill stands, with an ETA from the
// simulated time covered so far.
func (r *backfill) progress(final bool) {
	now := r.o.Clock()
	r.lastPrint = now
	total := r.until.Sub(r.from)
	done := min(r.next.Sub(r.from), total)
	frac := float64(done) / float64(max(total, 1))
	elapsed := now.Sub(r.started)
	eta := "?"
	if frac > 0 && !final {
		eta = (time.Duration(float64(elapsed)/frac) - elapsed).Round(time.Second).String()
	}
	if final {
		eta = "0s"
	}
	fmt.Fprintf(r.o.Progress, "backfill %s: %s %5.1f%% (%d/%d days) changes=%d requests=%d samples=%d elapsed=%s eta=%s\n",
		r.name, r.next.UTC().Format("2006-01-02T15:04Z"), 100*frac, int(done/(24*time.Hour)), int(math.Ceil(float64(total)/float64(24*time.Hour))),
		r.changes, r.hist.Requests(), r.samples, elapsed.Round(time.Second), eta)
}

// renderLabels renders extra labels as a label list prefix ("k=\"v\",").
func renderLabels(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + `="` + escapeLabel(m[k]) + `",`)
	}
	return b.String()
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabel(v string) string { return labelEscaper.Replace(v) }

func formatFloat(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case math.IsNaN(v):
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// writeFamily writes one family's samples at ts (unix seconds), without
// metadata lines: promtool needs none, and a family repeats every step.
func writeFamily(w *bufio.Writer, mf *dto.MetricFamily, extra, ts string) (int64, error) {
	var n int64
	line := func(name, labels string, v float64) {
		w.WriteString(name)
		w.WriteByte('{')
		w.WriteString(labels)
		w.WriteString("} ")
		w.WriteString(formatFloat(v))
		w.WriteByte(' ')
		w.WriteString(ts)
		w.WriteByte('\n')
		n++
	}
	name := mf.GetName()
	for _, m := range mf.GetMetric() {
		var lb strings.Builder
		lb.WriteString(extra)
		for _, l := range m.GetLabel() {
			lb.WriteString(l.GetName() + `="` + escapeLabel(l.GetValue()) + `",`)
		}
		labels := lb.String()
		switch mf.GetType() {
		case dto.MetricType_COUNTER:
			line(name, strings.TrimSuffix(labels, ","), m.GetCounter().GetValue())
		case dto.MetricType_GAUGE:
			line(name, strings.TrimSuffix(labels, ","), m.GetGauge().GetValue())
		case dto.MetricType_UNTYPED:
			line(name, strings.TrimSuffix(labels, ","), m.GetUntyped().GetValue())
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			h := m.GetHistogram()
			for _, b := range h.GetBucket() {
				if math.IsInf(b.GetUpperBound(), 1) {
					continue
				}
				line(name+"_bucket", labels+`le="`+formatFloat(b.GetUpperBound())+`"`, float64(b.GetCumulativeCount()))
			}
			line(name+"_bucket", labels+`le="+Inf"`, float64(h.GetSampleCount()))
			line(name+"_sum", strings.TrimSuffix(labels, ","), h.GetSampleSum())
			line(name+"_count", strings.TrimSuffix(labels, ","), float64(h.GetSampleCount()))
		}
	}
	return n, nil
}
