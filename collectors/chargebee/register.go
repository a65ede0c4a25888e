package chargebee

import (
	"context"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakechargebee "github.com/cx-exporter/cx-exporter/internal/fake/chargebee"
)

// Config is the Chargebee source's configuration.
type Config struct {
	Site   string `envconfig:"CHARGEBEE_SITE" desc:"enables the Chargebee collector (acme: https://acme.chargebee.com)"`
	URL    string `envconfig:"CHARGEBEE_URL" desc:"Chargebee base URL override (proxies, tests)"`
	APIKey string `envconfig:"CHARGEBEE_API_KEY" secret:"true" desc:"Chargebee API key (read-only key is enough)"`
	// WebhookSecret turns on POST /api/v1/webhooks/chargebee.
	WebhookSecret string `envconfig:"CHARGEBEE_WEBHOOK_SECRET" secret:"true" desc:"user:password of the basic authentication protecting the Chargebee webhook; enables POST /api/v1/webhooks/chargebee (off when unset)"`
}

func init() {
	source.Register(source.Vendor[Config]{
		Kind:    "chargebee",
		Role:    source.RoleBilling,
		Enabled: func(c *Config) bool { return c.Site != "" || c.URL != "" },
		Validate: func(c *Config, p *source.Problems) {
			p.Require("CHARGEBEE_API_KEY", c.APIKey, "the Chargebee collector needs an API key")
			p.URL("CHARGEBEE_URL", c.URL)
			if c.URL == "" {
				if _, err := SiteURL(c.Site); err != nil {
					p.Bad("CHARGEBEE_SITE", "%v", err)
				}
			}
		},
		Build: func(c *Config, env source.Env) (source.Source, error) {
			var cs *Syncer
			src, err := env.BillingSource(func(tr *billing.Tracker) (source.Syncer, error) {
				s, err := New(Options{Deps: env.Deps, Site: c.Site, BaseURL: c.URL, APIKey: c.APIKey, Tracker: tr})
				cs = s
				return s, err
			})
			if err != nil {
				return nil, err
			}
			return env.WithWebhooks(src, c.WebhookSecret, cs.WebhookVendor(c.WebhookSecret))
		},
		Demo: demo,
		History: func(c *Config, d source.Deps) (source.History, error) {
			return NewHistory(Options{Deps: d, Site: c.Site, BaseURL: c.URL, APIKey: c.APIKey})
		},
	})
}

// demoKey opens nothing but the built-in fake.
const demoKey = "demo_not_a_secret"

// demo runs the fake Chargebee site with its simulator. Its history is
// seeded before the exporter starts, so that it is backfill; the live
// changes then count.
func demo(c *Config) (*source.DemoRun, error) {
	st := fakechargebee.NewServer(fakechargebee.Options{APIKey: demoKey})
	c.URL, c.APIKey = st.URL, demoKey
	opts := fakechargebee.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	return source.SimulatedAccount("Chargebee", st.URL, func() { st.Seed(opts) },
		func(ctx context.Context) { st.Simulate(ctx, opts) }, st.Close), nil
}
