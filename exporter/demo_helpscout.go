package exporter

import (
	"context"
	"log/slog"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpscout/helpscouttest"
)

// Demo credentials of the built-in fake Help Scout: not secrets.
const (
	demoHelpScoutAppID     = "demo-app"
	demoHelpScoutAppSecret = "demo-secret-not-a-secret"
)

func init() {
	demoHelpdesks["helpscout"] = demoHelpdesk{configure: configureDemoHelpScout, start: startDemoHelpScout}
}

func configureDemoHelpScout(c *Config) bool {
	if c.HelpScoutAppID != "" {
		return false
	}
	c.HelpScoutURL = "demo" // replaced by the fake's address in StartDemo
	c.HelpScoutAppID, c.HelpScoutAppSecret = demoHelpScoutAppID, demoHelpScoutAppSecret
	return true
}

// startDemoHelpScout runs the fake Help Scout with its simulator. The
// history is seeded before the exporter starts, so that it is backfill.
func startDemoHelpScout(ctx context.Context, c *Config, logger *slog.Logger) error {
	hs := helpscouttest.NewServer(helpscouttest.Options{AppID: demoHelpScoutAppID, AppSecret: demoHelpScoutAppSecret, RateLimit: 600})
	c.HelpScoutURL = hs.URL
	if err := resetSource(c.StateDir, "helpscout"); err != nil {
		hs.Close()
		return err
	}
	opts := helpscouttest.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	hs.SeedHistory(opts)
	go func() {
		hs.Simulate(ctx, opts)
		hs.Close()
	}()
	logger.Info("demo mode: simulated Help Scout running", "url", hs.URL)
	return nil
}
