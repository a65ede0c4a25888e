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
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/cx-exporter/cx-exporter/exporter/state"
	"github.com/cx-exporter/cx-exporter/exporter/upstream"
)

// Build identifies the binary; main sets it from linker flags.
type Build struct{ Version, Revision string }

// selfMetrics are the exporter's own metrics, in their own registry.
type selfMetrics struct {
	up, lastSuccess, lastDuration *prometheus.GaugeVec
	rejected                      *prometheus.CounterVec
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
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cx_exporter_records_rejected_total", Help: "Upstream records dropped as invalid.",
		}, []string{"source", "reason"}),
	}
	info := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "cx_exporter_build_info", Help: "Build of the running exporter; always 1.",
	}, []string{"version", "revision", "goversion"})
	info.WithLabelValues(b.Version, b.Revision, runtime.Version()).Set(1)
	reg.MustRegister(m.up, m.lastSuccess, m.lastDuration, m.rejected, info)
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
	gather  prometheus.Gatherers
	sources []*source
	survey  *surveyReceiver // nil unless CX_SURVEY_TOKEN is set
	now     func() time.Time

	mu     sync.Mutex
	status map[string]*sourceStatus
	logged map[string]bool // rejected records already logged
}

type sourceStatus struct {
	synced      bool
	lastErr     string
	lastSuccess time.Time
}

// New opens the state store and builds every enabled source. The caller
// must Close it.
func New(cfg *Config, logger *slog.Logger, b Build) (*Exporter, error) {
	store, err := state.Open(cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("CX_STATE_DIR: %w", err)
	}
	selfReg := prometheus.NewRegistry()
	selfReg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	kpiReg := prometheus.NewRegistry()
	e := &Exporter{
		cfg: cfg, logger: logger, store: store,
		self:   newSelfMetrics(selfReg, b),
		gather: prometheus.Gatherers{selfReg, kpiReg},
		now:    time.Now,
		status: map[string]*sourceStatus{},
		logged: map[string]bool{},
	}
	d := deps{
		cfg: cfg, logger: logger, store: store, now: e.now, reject: e.reject,
		client: upstream.Options{
			UserAgent: "cx-exporter/" + b.Version,
			Timeout:   cfg.HTTPTimeout,
			RetryMax:  cmp.Or(cfg.HTTPRetries, -1),
			Metrics:   upstream.NewMetrics(selfReg),
			Logger:    logger,
		},
	}
	for _, v := range enabledVendors(cfg) {
		s, err := v.build(v.kind, d)
		if err != nil {
			store.Close()
			return nil, err
		}
		if err := kpiReg.Register(s.collector); err != nil {
			store.Close()
			return nil, fmt.Errorf("%s: %w", s.name, err)
		}
		e.self.up.WithLabelValues(s.name, s.kind).Set(0)
		d.client.Metrics.Init(s.name)
		for _, r := range rejectReasons {
			e.self.rejected.WithLabelValues(s.name, r)
		}
		e.sources = append(e.sources, s)
		e.status[s.name] = &sourceStatus{}
	}
	if cfg.SurveyToken != "" {
		if e.survey, err = newSurveyReceiver(cfg.SurveyToken, cfg.Labels, store, logger, e.now); err == nil {
			err = kpiReg.Register(e.survey)
		}
		if err != nil {
			store.Close()
			return nil, fmt.Errorf("%s: %w", surveySource, err)
		}
		// The survey source is pushed to, never synced: it is up while the
		// endpoint serves, and so it is listed with the other sources.
		e.self.up.WithLabelValues(surveySource, surveySource).Set(1)
		e.survey.reject = func(id, reason string, err error) { e.reject(surveySource, id, reason, err) }
		for _, r := range rejectReasons {
			e.self.rejected.WithLabelValues(surveySource, r)
		}
	}
	if cfg.Cost.Currency != "" {
		kpiReg.MustRegister(supportCostGauge(cfg.Cost))
	}
	return e, nil
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
		e.logger.Warn("record rejected", "src", source, "id", id, "reason", reason, "err", err)
	}
}

// Run serves HTTP on l and syncs every source until ctx ends, then lets
// each sync finish its page in flight, commits, and returns.
func (e *Exporter) Run(ctx context.Context, l net.Listener) error {
	srv := &http.Server{Handler: e.Handler(), ReadHeaderTimeout: 10 * time.Second}
	webCfg := e.cfg.WebConfigFile
	flags := &web.FlagConfig{WebConfigFile: &webCfg, WebListenAddresses: &[]string{l.Addr().String()}, WebSystemdSocket: new(bool)}
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.Serve(l, srv, flags, e.logger) }()

	var wg sync.WaitGroup
	for _, s := range e.sources {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.loop(ctx, s)
		}()
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
func (e *Exporter) loop(ctx context.Context, s *source) {
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

func (e *Exporter) syncOnce(ctx context.Context, s *source) {
	start := e.now()
	sctx, cancel := context.WithTimeout(ctx, e.cfg.SyncTimeout)
	err := s.sync(sctx)
	cancel()
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		return // shutting down: the committed pages are safe
	}
	elapsed := e.now().Sub(start)
	e.self.lastDuration.WithLabelValues(s.name).Set(elapsed.Seconds())
	e.mu.Lock()
	st := e.status[s.name]
	if err != nil {
		st.lastErr = err.Error()
	} else {
		st.synced, st.lastErr, st.lastSuccess = true, "", e.now()
	}
	e.mu.Unlock()
	if err != nil {
		e.self.up.WithLabelValues(s.name, s.kind).Set(0)
		e.logger.Error("sync failed", "src", s.name, "err", err)
		return
	}
	e.self.up.WithLabelValues(s.name, s.kind).Set(1)
	e.self.lastSuccess.WithLabelValues(s.name).Set(float64(e.now().UnixNano()) / 1e9)
	e.logger.Debug("sync done", "src", s.name, "duration", elapsed)
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

// Handler serves /metrics, /-/healthy, /-/ready, the landing page and,
// when CX_SURVEY_TOKEN is set, POST /api/v1/survey-responses.
func (e *Exporter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.gather, promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(e.logger.Handler(), slog.LevelError),
		EnableOpenMetrics: true,
	}))
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
	if e.survey != nil {
		mux.Handle("POST "+SurveyPath, e.survey)
	}
	return mux
}
