package exporter

import (
	"context"
	"log/slog"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/intercom/intercomtest"
)

// demoIntercomToken opens nothing but the built-in fake.
const demoIntercomToken = "demo-intercom-token-not-a-secret"

func init() {
	demoHelpdesks["intercom"] = demoHelpdesk{configure: configureDemoIntercom, start: startDemoIntercom}
}

func configureDemoIntercom(c *Config) bool {
	if c.IntercomToken != "" || c.IntercomURL != "" {
		return false
	}
	c.IntercomURL = "demo" // replaced by the fake's address in StartDemo
	c.IntercomToken = demoIntercomToken
	demoWallClockSLA(c)
	return true
}

// startDemoIntercom runs the fake Intercom with its simulator. Its history
// is seeded before the exporter starts, so that it is backfill; the live
// changes then count.
func startDemoIntercom(ctx context.Context, c *Config, logger *slog.Logger) error {
	ic := intercomtest.NewServer(intercomtest.Options{Token: demoIntercomToken, NoRateLimit: true})
	opts := intercomtest.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	return runDemoFake(ctx, c, logger, demoFake{
		source: "intercom", title: "Intercom", url: ic.URL, configURL: &c.IntercomURL,
		seed:     func() { ic.SeedHistory(opts) },
		simulate: func(ctx context.Context) { ic.Simulate(ctx, opts) }, close: ic.Close,
	})
}
