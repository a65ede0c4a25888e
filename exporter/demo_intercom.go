package exporter

import (
	"context"
	"log/slog"
	"time"

	fakeintercom "github.com/cx-exporter/cx-exporter/internal/fake/intercom"
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
	return true
}

// startDemoIntercom runs the fake Intercom with its simulator. Its history
// is seeded before the exporter starts, so that it is backfill; the live
// changes then count.
func startDemoIntercom(ctx context.Context, c *Config, logger *slog.Logger) error {
	ic := fakeintercom.NewServer(fakeintercom.Options{Token: demoIntercomToken, NoRateLimit: true})
	opts := fakeintercom.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	return runDemoFake(ctx, c, logger, demoFake{
		source: "intercom", title: "Intercom", url: ic.URL, configURL: &c.IntercomURL,
		seed:     func() { ic.SeedHistory(opts) },
		simulate: func(ctx context.Context) { ic.Simulate(ctx, opts) }, close: ic.Close,
	})
}
