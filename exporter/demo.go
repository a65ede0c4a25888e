package exporter

import (
	"context"
	"log/slog"
	"os"
	"slices"
	"time"

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
	c.ZendeskURL = zd.URL
	if err := resetSource(c.StateDir, "zendesk"); err != nil {
		zd.Close()
		return err
	}
	go func() {
		zd.Simulate(ctx, zendesktest.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second})
		zd.Close()
	}()
	logger.Info("demo mode: simulated Zendesk running", "url", zd.URL)
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
	c.StripeURL = st.URL
	if err := resetSource(c.StateDir, "stripe"); err != nil {
		st.Close()
		return err
	}
	opts := stripetest.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	st.Seed(opts)
	go func() {
		st.Simulate(ctx, opts)
		st.Close()
	}()
	logger.Info("demo mode: simulated Stripe running", "url", st.URL)
	return nil
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
