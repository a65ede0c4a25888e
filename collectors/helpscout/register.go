package helpscout

import (
	"context"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakehelpscout "github.com/cx-exporter/cx-exporter/internal/fake/helpscout"
)

// DefaultBaseURL is the Mailbox API 2.0 host.
const DefaultBaseURL = "https://api.helpscout.net"

// Config is the Help Scout source's configuration.
type Config struct {
	AppID     string `envconfig:"HELPSCOUT_APP_ID" desc:"enables the Help Scout collector: OAuth2 client-credentials app id"`
	AppSecret string `envconfig:"HELPSCOUT_APP_SECRET" secret:"true" desc:"Help Scout OAuth2 app secret"`
	URL       string `envconfig:"HELPSCOUT_URL" desc:"Help Scout API base URL override (default https://api.helpscout.net)"`
	// WebhookSecret turns on POST /api/v1/webhooks/helpscout.
	WebhookSecret string `envconfig:"HELPSCOUT_WEBHOOK_SECRET" secret:"true" desc:"secret key of a Help Scout webhook; enables POST /api/v1/webhooks/helpscout (off when unset)"`
}

func init() {
	source.Register(source.Vendor[Config]{
		Kind:    "helpscout",
		Role:    source.RoleHelpdesk,
		Enabled: func(c *Config) bool { return c.AppID != "" },
		Validate: func(c *Config, p *source.Problems) {
			p.Require("HELPSCOUT_APP_SECRET", c.AppSecret, "the Help Scout collector needs the OAuth2 app secret of CX_HELPSCOUT_APP_ID")
			p.URL("HELPSCOUT_URL", c.URL)
		},
		Build: func(c *Config, env source.Env) (source.Source, error) {
			wm, err := env.Watermark() // the engine's: recorded here on the very first start
			if err != nil {
				return nil, err
			}
			base := c.URL
			if base == "" {
				base = DefaultBaseURL
			}
			var hs *Syncer
			src, err := env.HelpdeskSource(func(tr *helpdesk.Tracker) (source.Syncer, error) {
				s, err := New(Options{Deps: env.Deps, BaseURL: base, AppID: c.AppID, AppSecret: c.AppSecret, Watermark: wm, Tracker: tr})
				if err != nil {
					return nil, err
				}
				s.o.Names = env.Names(s.Directory())
				hs = s
				return s, nil
			})
			if err != nil {
				return nil, err
			}
			return env.WithWebhooks(src, c.WebhookSecret, hs.WebhookVendor(c.WebhookSecret))
		},
		Demo: demo,
		History: func(c *Config, d source.Deps) (source.History, error) {
			base := c.URL
			if base == "" {
				base = DefaultBaseURL
			}
			return NewHistory(Options{Deps: d, BaseURL: base, AppID: c.AppID, AppSecret: c.AppSecret})
		},
	})
}

// Credentials of the built-in fake: not secrets.
const (
	demoAppID     = "demo-app"
	demoAppSecret = "demo-secret-not-a-secret"
)

// demo runs the fake Help Scout with its simulator; the history is seeded
// before the exporter starts, so that it is backfill.
func demo(c *Config) (*source.DemoRun, error) {
	hs := fakehelpscout.NewServer(fakehelpscout.Options{AppID: demoAppID, AppSecret: demoAppSecret, RateLimit: 600})
	c.URL, c.AppID, c.AppSecret = hs.URL, demoAppID, demoAppSecret
	opts := fakehelpscout.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	run := source.SimulatedAccount("Help Scout", hs.URL, func() { hs.SeedHistory(opts) },
		func(ctx context.Context) { hs.Simulate(ctx, opts) }, hs.Close)
	run.WallClock = true // its tickets live in wall-clock time
	return run, nil
}
