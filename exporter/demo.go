package exporter

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/stripe/stripetest"
	"github.com/cx-exporter/cx-exporter/collectors/zendesk/zendesktest"
	"github.com/cx-exporter/cx-exporter/exporter/state"
)

// Demo credentials of the built-in fake APIs: not secrets, and shaped so
// that nobody mistakes them for real keys.
const (
	demoEmail = "demo@example.invalid"
	demoToken = "demo-token-not-a-secret"
	// demoStripeKey is shaped like a test key so that the collector
	// accepts it; it opens nothing but the built-in fake.
	demoStripeKey = "sk_test_demo_not_a_secret"
	// demoSurveyToken enables the survey endpoint in demo mode when
	// CX_SURVEY_TOKEN is unset; StartDemoSurveys posts with it.
	demoSurveyToken = "demo-survey-token-not-a-secret"
	// demoSupportCost is the demo's CX_SUPPORT_COST_MONTHLY, in a currency
	// the simulated Stripe account bills in.
	demoSupportCost = "25000 USD"
)

// demoPollInterval makes the demo lively: within a minute of start every
// helpdesk metric has moved. Real sources keep CX_POLL_INTERVAL's 60s.
const demoPollInterval = 5 * time.Second

// demoHelpdesk is a simulated helpdesk that demo mode can run
// (CX_DEMO_HELPDESK). Vendors register theirs from exporter/demo_<kind>.go.
type demoHelpdesk struct {
	// configure points the vendor's configuration at the fake, unless the
	// user configured a real account; it reports whether it did.
	configure func(c *Config) bool
	// start runs the fake and its simulator until ctx ends, and replaces
	// the placeholder URL with the fake's address.
	start func(ctx context.Context, c *Config, logger *slog.Logger) error
}

var demoHelpdesks = map[string]demoHelpdesk{
	"zendesk": {configure: configureDemoZendesk, start: startDemoZendesk},
}

func demoHelpdeskNames() []string {
	names := make([]string, 0, len(demoHelpdesks))
	for n := range demoHelpdesks {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// applyDemoDefaults points the chosen helpdesk and Stripe at the fakes
// that StartDemo will run, unless the user configured real ones.
func applyDemoDefaults(c *Config) {
	if _, set := os.LookupEnv(Prefix + "_POLL_INTERVAL"); !set {
		c.PollInterval = demoPollInterval
	}
	if h, ok := demoHelpdesks[c.DemoHelpdesk]; ok {
		c.demoHelpdesk = h.configure(c)
	}
	if c.StripeAPIKey == "" {
		c.StripeURL = "demo" // replaced by the fake's address in StartDemo
		c.StripeAPIKey = demoStripeKey
	}
	if c.SurveyToken == "" {
		c.SurveyToken = demoSurveyToken
	}
	if c.SupportCost == "" {
		c.SupportCost = demoSupportCost
	}
}

// demoWallClockSLA gives a simulated helpdesk whose tickets live in wall-clock
// time (replies and solves seconds after creation) SLA targets of seconds in
// calendar time, unless the user set them: its tickets then meet and breach
// both SLAs, time-driven breaches included, within the demo's first minute.
// (The simulated Zendesk reports durations of minutes to days itself, which
// the default targets already split into met and breached.)
func demoWallClockSLA(c *Config) {
	for _, v := range []struct {
		name  string
		field *string
		demo  string
	}{
		{"FIRST_REPLY_TARGETS", &c.FirstReplyTargets, "urgent=5s,high=10s,normal=20s,low=40s,none=20s"},
		{"RESOLUTION_TARGETS", &c.ResolutionTargets, "urgent=15s,high=30s,normal=45s,low=90s,none=45s"},
		{"SLA_HOURS", &c.SLAHours, "calendar"},
	} {
		if _, set := os.LookupEnv(Prefix + "_" + v.name); !set {
			*v.field = v.demo
		}
	}
}

func configureDemoZendesk(c *Config) bool {
	if c.ZendeskSubdomain != "" || c.ZendeskURL != "" {
		return false
	}
	c.ZendeskURL = "demo" // replaced by the fake's address in StartDemo
	c.ZendeskEmail, c.ZendeskAPIToken, c.ZendeskOAuthToken = demoEmail, demoToken, ""
	c.ZendeskExportRate = 600
	return true
}

// StartDemo starts the simulated vendor APIs on 127.0.0.1 and points the
// configuration at them. The simulated account is new at every start, so
// the demo's state in CX_STATE_DIR is reset. The fakes stop with ctx.
func StartDemo(ctx context.Context, c *Config, logger *slog.Logger) error {
	if err := startDemoStripe(ctx, c, logger); err != nil {
		return err
	}
	if !c.demoHelpdesk {
		return nil
	}
	return demoHelpdesks[c.DemoHelpdesk].start(ctx, c, logger)
}

func startDemoZendesk(ctx context.Context, c *Config, logger *slog.Logger) error {
	zd := zendesktest.NewServer(zendesktest.Options{Email: demoEmail, APIToken: demoToken, RateLimit: 600})
	opts := zendesktest.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	return runDemoFake(ctx, c, logger, demoFake{
		source: "zendesk", title: "Zendesk", url: zd.URL, configURL: &c.ZendeskURL,
		simulate: func(ctx context.Context) { zd.Simulate(ctx, opts) }, close: zd.Close,
	})
}

// demoFake is a started fake vendor API and its simulator.
type demoFake struct {
	source, title string  // the source's name, and the vendor's in the log
	url           string  // the fake's address
	configURL     *string // the configuration's placeholder URL
	seed          func()  // when set, seeds the history (backfill) before the exporter starts
	simulate      func(ctx context.Context)
	close         func()
}

// runDemoFake points the configuration at a started fake, resets the
// source's state, and simulates the account until ctx ends; then the fake
// closes.
func runDemoFake(ctx context.Context, c *Config, logger *slog.Logger, f demoFake) error {
	*f.configURL = f.url
	if err := resetSource(c.StateDir, f.source); err != nil {
		f.close()
		return err
	}
	if f.seed != nil {
		f.seed()
	}
	go func() {
		f.simulate(ctx)
		f.close()
	}()
	logger.Info("demo mode: simulated "+f.title+" running", "url", f.url)
	return nil
}

// startDemoStripe runs the fake Stripe with its simulator. Its history is
// seeded before the exporter starts, so that it is backfill; the live
// changes then count.
func startDemoStripe(ctx context.Context, c *Config, logger *slog.Logger) error {
	if c.StripeURL != "demo" {
		return nil
	}
	st := stripetest.NewServer(stripetest.Options{APIKey: demoStripeKey})
	opts := stripetest.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	return runDemoFake(ctx, c, logger, demoFake{
		source: "stripe", title: "Stripe", url: st.URL, configURL: &c.StripeURL,
		seed:     func() { st.Seed(opts) },
		simulate: func(ctx context.Context) { st.Simulate(ctx, opts) }, close: st.Close,
	})
}

// resetSource forgets a source's state.
func resetSource(dir, name string) error {
	s, err := state.Open(dir)
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Source(name).Reset()
}

// StartDemoSurveys simulates a survey tool in demo mode: every second it
// posts one NPS, one CSAT and one CES response to the exporter's own survey
// endpoint at addr (the bound listen address). It does nothing unless
// demo mode set the survey token itself (a user's CX_SURVEY_TOKEN turns
// the simulation off), or when CX_WEB_CONFIG_FILE adds TLS or basic auth
// that the simulator does not speak. It stops with ctx.
func StartDemoSurveys(ctx context.Context, c *Config, addr string, logger *slog.Logger) {
	if !c.Demo || c.SurveyToken != demoSurveyToken {
		return
	}
	if c.WebConfigFile != "" {
		logger.Info("demo mode: simulated survey responses off, CX_WEB_CONFIG_FILE is set")
		return
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		logger.Warn("demo mode: simulated survey responses off", "err", err)
		return
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	url := "http://" + net.JoinHostPort(host, port) + SurveyPath
	go simulateSurveys(ctx, url, logger)
	logger.Info("demo mode: simulated survey responses", "url", url)
}

func simulateSurveys(ctx context.Context, url string, logger *slog.Logger) {
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed))
	run := strconv.FormatUint(rnd.Uint64(), 36) // ids are unique across demo runs
	client := &http.Client{Timeout: 5 * time.Second}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	pick := func(vals []string) string { return vals[rnd.IntN(len(vals))] }
	priorities := append([]string{""}, helpdesk.Priorities...) // "": not given
	channels := append([]string{""}, helpdesk.Channels...)
	failed := false
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now().UTC().Format(time.RFC3339)
		var nps int
		switch p := rnd.IntN(100); {
		case p < 50: // promoters ~50%
			nps = 9 + rnd.IntN(2)
		case p < 80: // passives ~30%
			nps = 7 + rnd.IntN(2)
		default: // detractors ~20%
			nps = rnd.IntN(7)
		}
		csat := [...]int{5, 5, 5, 5, 4, 4, 4, 3, 3, 2, 1}[rnd.IntN(11)]
		ces := [...]int{1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7}[rnd.IntN(11)]
		batch := []map[string]any{
			{"id": fmt.Sprintf("demo-%s-%d-nps", run, n), "type": "nps", "score": nps, "created_at": now},
			{"id": fmt.Sprintf("demo-%s-%d-csat", run, n), "type": "csat", "score": csat, "created_at": now},
			{"id": fmt.Sprintf("demo-%s-%d-ces", run, n), "type": "ces", "score": ces, "created_at": now},
		}
		for _, r := range batch {
			if v := pick(priorities); v != "" {
				r["priority"] = v
			}
			if v := pick(channels); v != "" {
				r["channel"] = v
			}
		}
		body, _ := json.Marshal(batch)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+demoSurveyToken)
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		if err != nil && ctx.Err() == nil && !failed {
			failed = true // logged once
			logger.Warn("demo mode: simulated survey post failed", "err", err)
		}
	}
}
