// Package exporter is cx-exporter's process: configuration, the HTTP
// server, the scheduler that syncs each source on its own ticker, the state
// store and the exporter's own metrics.
package exporter

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// Build identifies the binary; main sets it from linker flags.
type Build struct{ Version, Revision string }

// selfMetrics are the exporter's own metrics, in their own registry.
type selfMetrics struct {
	up, lastSuccess, lastDuration, backfill *prometheus.GaugeVec
	rejected, webhooks                      *prometheus.CounterVec
}

func newSelfMetrics(reg prometheus.Registerer, b Build) *selfMetrics {
	m := &selfMetrics{
		up: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cx_exporter_source_up", Help: "1 when the last sync of the source succeeded.",
		}, []string{"source", "kind"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cx_exporter_last_sync_success_timestamp_seconds", Help: "End of the last successful sync.",
		}, []string{"source"}),
		lastDuration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cx_exporter_last_sync_duration_seconds", Help: "How long the last sync of the source took.",
		}, []string{"source"}),
		backfill: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cx_exporter_backfill_in_progress",
			Help: "1 until the source's first sync reaches the end of its upstream data (its first backfill), then 0; the source's gauges are withheld while 1.",
		}, []string{"source"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cx_exporter_records_rejected_total", Help: "Upstream records dropped as invalid.",
		}, []string{"source", "reason"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cx_exporter_webhooks_received_total",
			Help: "Vendor webhooks received: accepted (verified, its record fetched and applied), rejected (bad signature, outside the replay window, too large, malformed) or ignored (nothing to fetch, a repeat, or a record the vendor does not know).",
		}, []string{"source", "result"}),
	}
	// cx_exporter_build_info{version, revision, branch, goversion, goos,
	// goarch, tags} from prometheus/common/version, as every Prometheus
	// exporter exports it (main stamps the version with -ldflags).
	reg.MustRegister(m.up, m.lastSuccess, m.lastDuration, m.backfill, m.rejected, m.webhooks, versioncollector.NewCollector("cx_exporter"))
	return m
}

// rejectReasons are the reason label values of
// cx_exporter_records_rejected_total, exposed at zero from the start.
var rejectReasons = []string{"missing_field", "unknown_value", "negative_duration", "negative_value", "inconsistent_time", "malformed_record", "malformed_page"}

// Exporter is the running process.
type Exporter struct {
	cfg     *Config
	logger  *slog.Logger
	store   *state.Store
	self    *selfMetrics
	selfReg *prometheus.Registry // the exporter's own metrics
	kpiReg  *prometheus.Registry // the support cost; sources are gather.sources
	gather  *gatherer
	sources []*runningSource
	now     func() time.Time
	secrets []string // configured secrets, redacted from shown errors
	limits  limits

	mu     sync.Mutex
	status map[string]*sourceStatus
	logged map[string]bool // rejected records already logged
}

type sourceStatus struct {
	synced      bool
	lastErr     string
	lastSuccess time.Time
	// backfilling is true until the source's first sync reaches the end
	// of its upstream data; persisted as state.KeyBackfilled.
	backfilling atomic.Bool
	// partial: the last sync ran out of CX_SYNC_TIMEOUT after committing
	// pages; the next one resumes from the cursor.
	partial bool
	// hung is the commit watchdog's verdict (see watchCommits).
	hung string
}

// New opens the state store and builds every enabled source. The caller
// must Close it.
func New(cfg *Config, logger *slog.Logger, b Build) (*Exporter, error) {
	store, err := state.Open(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("CX_STATE_DIR: %w", err)
	}
	e, client := newExporter(cfg, logger, b, store)
	e.secrets = cfg.secrets()
	sources, err := e.buildSources(store, client)
	if err != nil {
		store.Close()
		return nil, err
	}
	for _, s := range sources {
		if err := e.addSource(s, client.Metrics); err != nil {
			store.Close()
			return nil, err
		}
	}
	if cfg.Cost.Currency != "" {
		e.kpiReg.MustRegister(supportCostGauge(cfg.Cost))
	}
	return e, nil
}

// newExporter is an Exporter on store with no source yet, and the
// template of its sources' upstream clients.
func newExporter(cfg *Config, logger *slog.Logger, b Build, store *state.Store) (*Exporter, upstream.Options) {
	selfReg := prometheus.NewRegistry()
	selfReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	kpiReg := prometheus.NewRegistry()
	e := &Exporter{
		cfg: cfg, logger: logger, store: store,
		self:    newSelfMetrics(selfReg, b),
		selfReg: selfReg,
		kpiReg:  kpiReg,
		gather:  &gatherer{regs: []prometheus.Gatherer{selfReg, kpiReg}},
		now:     time.Now,
		limits:  defaultLimits,
		status:  map[string]*sourceStatus{},
		logged:  map[string]bool{},
	}
	selfReg.MustRegister(freshness{e})
	return e, upstream.Options{
		UserAgent: "cx-exporter/" + b.Version,
		Timeout:   cfg.HTTPTimeout,
		RetryMax:  cmp.Or(cfg.HTTPRetries, -1),
		Metrics:   upstream.NewMetrics(selfReg),
		Logger:    logger,
	}
}

// addSource registers a built source: its collector, its self-metrics at
// their initial values, and its status (backfilling until the store says
// its first backfill is complete).
func (e *Exporter) addSource(s *runningSource, m *upstream.Metrics) error {
	st := &sourceStatus{}
	if s.role != source.RoleSurvey { // pushed to: nothing to backfill
		backfilled, err := e.backfilled(s.name)
		if err != nil {
			return err
		}
		st.backfilling.Store(!backfilled)
		e.self.backfill.WithLabelValues(s.name).Set(b2f(!backfilled))
	}
	// Every source is gathered on its own and guarded by sourcePart: a
	// collector that renders its families itself (the helpdesk engine's)
	// directly, any other through a registry of its own.
	g, ok := s.Collector().(prometheus.Gatherer)
	if !ok {
		reg := prometheus.NewRegistry()
		if err := reg.Register(recovering{c: s.Collector(), src: s.name, logger: e.logger}); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		g = reg
	}
	e.gather.sources = append(e.gather.sources, &sourcePart{g: g, src: s.name, st: st, logger: e.logger})
	// The first backfill's progress while /-/ready still waits for it
	// (and the chart's readiness means serving). A survey source is pushed
	// to and has nothing to backfill.
	if name := s.name; s.role != source.RoleSurvey {
		if err := e.selfReg.Register(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "cx_exporter_state_commits_total",
			Help:        "Pages of upstream data committed to the state store (records, aggregates and cursor together) since the exporter started; its rate is a first backfill's progress.",
			ConstLabels: prometheus.Labels{"source": name},
		}, func() float64 { return float64(e.store.Commits(name)) })); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	e.self.up.WithLabelValues(s.name, s.kind).Set(0)
	if s.role != source.RoleSurvey { // pushed to: no upstream
		m.Init(s.name)
	}
	for _, r := range rejectReasons {
		e.self.rejected.WithLabelValues(s.name, r)
	}
	if _, ok := s.Source.(source.WebhookReceiver); ok {
		for _, r := range source.WebhookResults {
			e.self.webhooks.WithLabelValues(s.name, r)
		}
	}
	e.sources = append(e.sources, s)
	e.status[s.name] = st
	return nil
}

// costSource is the source label of helpdesk_support_cost_monthly: the
// cost comes from the configuration, not from a collector.
const costSource = "config"

// supportCostGauge exports CX_SUPPORT_COST_MONTHLY.
func supportCostGauge(c SupportCost) prometheus.Collector {
	g := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name:        "helpdesk_support_cost_monthly",
		Help:        "Monthly support cost from CX_SUPPORT_COST_MONTHLY, in major units of currency.",
		ConstLabels: prometheus.Labels{"source": costSource},
	}, []string{"currency"})
	g.WithLabelValues(c.Currency).Set(c.Amount)
	return g
}

// reject counts a dropped record and logs it once.
func (e *Exporter) reject(source, id, reason string, err error) {
	e.self.rejected.WithLabelValues(source, reason).Inc()
	key := source + "\x00" + id + "\x00" + reason
	e.mu.Lock()
	seen := e.logged[key]
	if !seen {
		if len(e.logged) > 10000 {
			clear(e.logged)
		}
		e.logged[key] = true
	}
	e.mu.Unlock()
	if !seen {
		e.logger.Warn("record rejected", "src", source, "id", e.clean(id), "reason", reason, "err", e.errText(err))
	}
}

// maxShownError bounds an error as the log and the landing page show it.
const maxShownError = 1024

// errText is err as the log and the landing page show it: see clean.
func (e *Exporter) errText(err error) string {
	if err == nil {
		return ""
	}
	return e.clean(err.Error())
}

// clean makes text that may hold what an upstream sent safe to log and to
// show on the (unauthenticated) landing page: control characters removed,
// length-limited, and every configured secret redacted. The upstream
// client already redacts the credentials of each request; this also
// covers any other path an echo could take.
func (e *Exporter) clean(s string) string {
	return upstream.Sanitize(s, maxShownError, e.secrets...)
}

// Run serves HTTP on l and syncs every source until ctx ends, then lets
// each sync finish its page in flight, commits, and returns.
func (e *Exporter) Run(ctx context.Context, l net.Listener) error {
	srv := &http.Server{
		Handler:           e.Handler(),
		ReadHeaderTimeout: e.limits.readHeader,
		ReadTimeout:       e.limits.read,
		WriteTimeout:      e.limits.write,
		IdleTimeout:       e.limits.idle,
		MaxHeaderBytes:    64 << 10,
	}
	l = limitListener(l, e.limits.maxConns)
	webCfg := e.cfg.WebConfigFile
	flags := &web.FlagConfig{WebConfigFile: &webCfg, WebListenAddresses: &[]string{l.Addr().String()}, WebSystemdSocket: new(bool)}
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.Serve(l, srv, flags, e.logger) }()

	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go e.watchCommits(wctx)
	var wg sync.WaitGroup
	for _, s := range e.sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.loop(ctx, s)
		}()
		if w, ok := s.Source.(source.WebhookReceiver); ok {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.Run(ctx)
			}()
		}
	}
	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	e.logger.Info("shutting down: finishing the pages in flight")
	wg.Wait()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// Close closes the state store.
func (e *Exporter) Close() error { return e.store.Close() }

// loop syncs one source every poll interval until ctx ends.
func (e *Exporter) loop(ctx context.Context, s *runningSource) {
	t := time.NewTicker(e.cfg.PollInterval)
	defer t.Stop()
	for {
		e.syncOnce(ctx, s)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (e *Exporter) syncOnce(ctx context.Context, s *runningSource) {
	start := e.now()
	commits := e.store.Commits(s.name)
	sctx, cancel := context.WithTimeout(ctx, e.cfg.SyncTimeout)
	err := s.Sync(sctx)
	timedOut := ctx.Err() == nil && errors.Is(sctx.Err(), context.DeadlineExceeded)
	cancel()
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return // shutting down: the committed pages are safe
	}
	// A sync that ran out of time after committing pages made progress
	// (a large first backfill, a burst of changes): not a failure. The
	// next sync resumes from the committed cursor; the last success stays
	// where it was until a sync reaches the end.
	partial := err != nil && timedOut && errors.Is(err, context.DeadlineExceeded) && e.store.Commits(s.name) > commits
	if slow := e.store.SlowestCommit(s.name); slow > e.limits.commit && (err == nil || partial) {
		err, partial = fmt.Errorf("a state commit took %s, longer than %s: is the disk of CX_STATE_DIR slow or hung?",
			slow.Round(time.Millisecond), e.limits.commit), false
	}
	e.mu.Lock()
	st := e.status[s.name]
	e.mu.Unlock()
	if err == nil && st.backfilling.Load() {
		if err = e.markBackfilled(s.name); err == nil {
			e.self.backfill.WithLabelValues(s.name).Set(0)
			st.backfilling.Store(false)
			e.logger.Info("first backfill complete", "src", s.name)
		}
	}
	elapsed := e.now().Sub(start)
	e.self.lastDuration.WithLabelValues(s.name).Set(elapsed.Seconds())
	switch {
	case partial:
		e.self.up.WithLabelValues(s.name, s.kind).Set(1)
		e.logger.Info("sync ran out of time after committing pages; the next sync resumes from the cursor",
			"src", s.name, "timeout", e.cfg.SyncTimeout, "backfill", st.backfilling.Load())
	case err != nil:
		e.self.up.WithLabelValues(s.name, s.kind).Set(0)
		e.logger.Error("sync failed", "src", s.name, "err", e.errText(err))
	default:
		e.self.up.WithLabelValues(s.name, s.kind).Set(1)
		e.self.lastSuccess.WithLabelValues(s.name).Set(float64(e.now().UnixNano()) / 1e9)
		e.logger.Debug("sync done", "src", s.name, "duration", elapsed)
	}
	// The status last: /-/ready must not say ready before the metrics say up.
	e.mu.Lock()
	st.hung = ""
	st.partial = partial
	switch {
	case partial:
		st.lastErr = ""
	case err != nil:
		st.lastErr = e.errText(err)
	default:
		st.synced, st.lastErr, st.lastSuccess = true, "", e.now()
	}
	e.mu.Unlock()
}

// backfilled reads whether the source's first backfill is complete.
func (e *Exporter) backfilled(name string) (bool, error) {
	var done bool
	err := e.store.Source(name).View(func(tx *state.Tx) error {
		done = tx.Get(state.KeyBackfilled) != nil
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("%s: state: %w", name, err)
	}
	return done, nil
}

// markBackfilled persists the end of the source's first backfill.
func (e *Exporter) markBackfilled(name string) error {
	at, _ := e.now().UTC().MarshalText()
	err := e.store.Source(name).Update(func(tx *state.Tx) error { return tx.Put(state.KeyBackfilled, at) })
	if err != nil {
		return fmt.Errorf("recording the end of the first backfill: %w", err)
	}
	return nil
}

// watchCommits marks a source down while one of its state commits has
// been running longer than the bound (a hung disk): a sync stuck in a
// commit never returns to report it. The next sync that ends sets the
// source's health again.
func (e *Exporter) watchCommits(ctx context.Context) {
	t := time.NewTicker(e.limits.watch)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, s := range e.sources {
			d := e.store.CommitInFlight(s.name, time.Now())
			if d <= e.limits.commit {
				continue
			}
			msg := fmt.Sprintf("a state commit has been running for %s, longer than %s: is the disk of CX_STATE_DIR slow or hung?",
				d.Round(time.Second), e.limits.commit)
			e.mu.Lock()
			st := e.status[s.name]
			first := st.hung == ""
			st.hung, st.lastErr = msg, msg
			e.mu.Unlock()
			e.self.up.WithLabelValues(s.name, s.kind).Set(0)
			if first {
				e.logger.Error("state commit hung", "src", s.name, "err", msg)
			}
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Ready reports whether every source has synced once.
func (e *Exporter) Ready() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, st := range e.status {
		if !st.synced {
			return false
		}
	}
	return true
}

// telemetryPath is where the metrics are served (CX_TELEMETRY_PATH,
// --web.telemetry-path).
func (e *Exporter) telemetryPath() string {
	if e.cfg.TelemetryPath == "" {
		return "/metrics"
	}
	return e.cfg.TelemetryPath
}

// Handler serves /metrics, /-/healthy, /-/ready, the landing page and the
// routes of the sources that take pushes (the survey endpoint).
func (e *Exporter) Handler() http.Handler {
	mux := http.NewServeMux()
	// One bad series is logged and left out; the rest of the scrape is
	// served (never a 500 for one series).
	// Instrumented as promhttp.Handler is: promhttp_metric_handler_requests_total
	// and _in_flight in the exporter's own registry.
	mux.Handle("GET "+e.telemetryPath(), gzipped(promhttp.InstrumentMetricHandler(e.selfReg, promhttp.HandlerFor(e.gather, promhttp.HandlerOpts{
		ErrorLog:           slog.NewLogLogger(e.logger.Handler(), slog.LevelError),
		ErrorHandling:      promhttp.ContinueOnError,
		EnableOpenMetrics:  true,
		DisableCompression: true, // see gzipped
	}))))
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !e.Ready() {
			http.Error(w, "Not ready: waiting for every source's first sync", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	mux.HandleFunc("GET /{$}", e.landing)
	for _, s := range e.sources {
		if r, ok := s.Source.(source.Receiver); ok {
			for pattern, h := range r.Routes() {
				mux.Handle(pattern, h)
			}
		}
	}
	return mux
}
