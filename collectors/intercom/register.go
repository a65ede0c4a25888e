package intercom

import (
	"context"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakeintercom "github.com/cx-exporter/cx-exporter/internal/fake/intercom"
)

// Config is the Intercom source's configuration.
type Config struct {
	Token string `envconfig:"INTERCOM_TOKEN" secret:"true" desc:"enables the Intercom collector: access token"`
	URL   string `envconfig:"INTERCOM_URL" desc:"Intercom API base URL override (default https://api.intercom.io; api.eu.intercom.io, api.au.intercom.io by region)"`
	// WebhookSecret turns on POST /api/v1/webhooks/intercom.
	WebhookSecret string `envconfig:"INTERCOM_WEBHOOK_SECRET" secret:"true" desc:"client secret of the Intercom app whose webhooks sign with it; enables POST /api/v1/webhooks/intercom (off when unset)"`
}

func init() {
	source.Register(source.Vendor[Config]{
		Kind:     "intercom",
		Role:     source.RoleHelpdesk,
		Enabled:  func(c *Config) bool { return c.Token != "" },
		Validate: func(c *Config, p *source.Problems) { p.URL("INTERCOM_URL", c.URL) },
		Build: func(c *Config, env source.Env) (source.Source, error) {
			var is *Syncer
			src, err := env.HelpdeskSource(func(tr *helpdesk.Tracker) (source.Syncer, error) {
				s, err := New(Options{Deps: env.Deps, BaseURL: c.URL, Token: c.Token, Tracker: tr})
				if err != nil {
					return nil, err
				}
				s.o.Names = env.Names(s.Directory())
				is = s
				return s, nil
			})
			if err != nil {
				return nil, err
			}
			return env.WithWebhooks(src, c.WebhookSecret, is.WebhookVendor(c.WebhookSecret))
		},
		Demo: demo,
		History: func(c *Config, d source.Deps) (source.History, error) {
			return NewHistory(Options{Deps: d, BaseURL: c.URL, Token: c.Token})
		},
	})
}

// demoToken opens nothing but the built-in fake.
const demoToken = "demo-intercom-token-not-a-secret"

// demo runs the fake Intercom with its simulator; its history is seeded
// before the exporter starts, so that it is backfill.
func demo(c *Config) (*source.DemoRun, error) {
	ic := fakeintercom.NewServer(fakeintercom.Options{Token: demoToken, NoRateLimit: true})
	c.URL, c.Token = ic.URL, demoToken
	opts := fakeintercom.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	run := source.SimulatedAccount("Intercom", ic.URL, func() { ic.SeedHistory(opts) },
		func(ctx context.Context) { ic.Simulate(ctx, opts) }, ic.Close)
	run.WallClock = true // its tickets live in wall-clock time
	return run, nil
}
