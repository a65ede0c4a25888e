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
	return true
}

// startDemoFreshdesk runs the fake Freshdesk with its simulator. Its
// history is seeded before the exporter starts, so that it is backfill.
func startDemoFreshdesk(ctx context.Context, c *Config, logger *slog.Logger) error {
	fd := freshdesktest.NewServer(freshdesktest.Options{APIKey: demoFreshdeskKey, RateLimit: 700})
	c.FreshdeskURL = fd.URL
	if err := resetSource(c.StateDir, "freshdesk"); err != nil {
		fd.Close()
		return err
	}
	opts := freshdesktest.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	fd.SeedHistory(opts)
	go func() {
		fd.Simulate(ctx, opts)
		fd.Close()
	}()
	logger.Info("demo mode: simulated Freshdesk running", "url", fd.URL)
	return nil
}
