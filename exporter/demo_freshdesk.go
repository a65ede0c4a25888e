package exporter

import (
	"context"
	"log/slog"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/freshdesk/freshdesktest"
)

// demoFreshdeskKey is the built-in fake's API key: not a secret.
const demoFreshdeskKey = "demo-freshdesk-key-not-a-secret"

func init() {
	demoHelpdesks["freshdesk"] = demoHelpdesk{configure: configureDemoFreshdesk, start: startDemoFreshdesk}
}

func configureDemoFreshdesk(c *Config) bool {
	if c.FreshdeskDomain != "" || c.FreshdeskURL != "" {
		return false
	}
	c.FreshdeskURL = "demo" // replaced by the fake's address in StartDemo
	c.FreshdeskAPIKey = demoFreshdeskKey
	demoWallClockSLA(c)
	return true
}

// startDemoFreshdesk runs the fake Freshdesk with its simulator. Its
// history is seeded before the exporter starts, so that it is backfill.
func startDemoFreshdesk(ctx context.Context, c *Config, logger *slog.Logger) error {
	fd := freshdesktest.NewServer(freshdesktest.Options{APIKey: demoFreshdeskKey, RateLimit: 700})
	opts := freshdesktest.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	return runDemoFake(ctx, c, logger, demoFake{
		source: "freshdesk", title: "Freshdesk", url: fd.URL, configURL: &c.FreshdeskURL,
		seed:     func() { fd.SeedHistory(opts) },
		simulate: func(ctx context.Context) { fd.Simulate(ctx, opts) }, close: fd.Close,
	})
}
