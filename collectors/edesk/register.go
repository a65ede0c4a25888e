package edesk

import (
	"context"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakeedesk "github.com/cx-exporter/cx-exporter/internal/fake/edesk"
)

// Config is the eDesk source's configuration.
type Config struct {
	APIToken string `envconfig:"EDESK_API_TOKEN" secret:"true" desc:"enables the eDesk collector: eDesk API token (bearer)"`
	URL      string `envconfig:"EDESK_URL" desc:"eDesk API base URL override (default https://api.edesk.com/v1)"`
	// WebhookSecret turns on POST /api/v1/webhooks/edesk.
	WebhookSecret string `envconfig:"EDESK_WEBHOOK_SECRET" secret:"true" desc:"shared secret the ticket notification sends in its X-Cx-Webhook-Secret header; enables POST /api/v1/webhooks/edesk (off when unset)"`
}

func init() {
	source.Register(source.Vendor[Config]{
		Kind:    "edesk",
		Role:    source.RoleHelpdesk,
		Enabled: func(c *Config) bool { return c.APIToken != "" },
		Validate: func(c *Config, p *source.Problems) {
			p.URL("EDESK_URL", c.URL)
		},
		History: history,
		Build: func(c *Config, env source.Env) (source.Source, error) {
			wm, err := env.Watermark() // the engine's: recorded here on the very first start
			if err != nil {
				return nil, err
			}
			base := c.URL
			if base == "" {
				base = DefaultBaseURL
			}
			var es *Syncer
			src, err := env.HelpdeskSource(func(tr *helpdesk.Tracker) (source.Syncer, error) {
				s, err := New(Options{Deps: env.Deps, BaseURL: base, Token: c.APIToken, Watermark: wm, Tracker: tr})
				if err != nil {
					return nil, err
				}
				s.o.Names = env.Names(s.Directory())
				es = s
				return s, nil
			})
			if err != nil {
				return nil, err
			}
			return env.WithWebhooks(src, c.WebhookSecret, es.WebhookVendor(c.WebhookSecret))
		},
		Demo: demo,
	})
}

// demoToken is the built-in fake's token: not a secret.
const demoToken = "demo-edesk-token-not-a-secret"

// demo runs the fake eDesk with its simulator; its history is seeded
// before the exporter starts, so that it is backfill.
func demo(c *Config) (*source.DemoRun, error) {
	ed := fakeedesk.NewServer(fakeedesk.Options{Token: demoToken, RateLimit: 6000})
	c.URL, c.APIToken = ed.URL, demoToken
	opts := fakeedesk.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	run := source.SimulatedAccount("eDesk", ed.URL, func() { ed.SeedHistory(opts) },
		func(ctx context.Context) { ed.Simulate(ctx, opts) }, ed.Close)
	run.WallClock = true // its tickets live in wall-clock time
	return run, nil
}
