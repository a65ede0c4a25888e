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
	demoWallClockSLA(c)
	return true
}

// startDemoHelpScout runs the fake Help Scout with its simulator. The
// history is seeded before the exporter starts, so that it is backfill.
func startDemoHelpScout(ctx context.Context, c *Config, logger *slog.Logger) error {
	hs := helpscouttest.NewServer(helpscouttest.Options{AppID: demoHelpScoutAppID, AppSecret: demoHelpScoutAppSecret, RateLimit: 600})
	opts := helpscouttest.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	return runDemoFake(ctx, c, logger, demoFake{
		source: "helpscout", title: "Help Scout", url: hs.URL, configURL: &c.HelpScoutURL,
		seed:     func() { hs.SeedHistory(opts) },
		simulate: func(ctx context.Context) { hs.Simulate(ctx, opts) }, close: hs.Close,
	})
}
