package stripe

import (
	"context"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakestripe "github.com/cx-exporter/cx-exporter/internal/fake/stripe"
)

// Config is the Stripe source's configuration.
type Config struct {
	APIKey   string `envconfig:"STRIPE_API_KEY" secret:"true" desc:"enables the Stripe collector: a secret (sk_...) or restricted (rk_..., read access to subscriptions, events and coupons) API key"`
	URL      string `envconfig:"STRIPE_URL" default:"https://api.stripe.com" desc:"Stripe API base URL override (proxies, tests)"`
	PageSize int    `envconfig:"STRIPE_PAGE_SIZE" default:"100" desc:"objects per Stripe list page (1-100)"`
	// WebhookSecret turns on POST /api/v1/webhooks/stripe.
	WebhookSecret string `envconfig:"STRIPE_WEBHOOK_SECRET" secret:"true" desc:"signing secret (whsec_...) of a Stripe webhook endpoint; enables POST /api/v1/webhooks/stripe (off when unset)"`
}

func init() {
	source.Register(source.Vendor[Config]{
		Kind:    "stripe",
		Role:    source.RoleBilling,
		Enabled: func(c *Config) bool { return c.APIKey != "" },
		Validate: func(c *Config, p *source.Problems) {
			if !validKey(c.APIKey) {
				p.Bad("STRIPE_API_KEY", "not a Stripe secret (sk_...) or restricted (rk_...) key")
			}
			p.Range("STRIPE_PAGE_SIZE", c.PageSize, 1, 100)
			p.URL("STRIPE_URL", c.URL)
		},
		Build: func(c *Config, env source.Env) (source.Source, error) {
			var ss *Syncer
			src, err := env.BillingSource(func(tr *billing.Tracker) (source.Syncer, error) {
				s, err := New(Options{Deps: env.Deps, BaseURL: c.URL, APIKey: c.APIKey, PageSize: c.PageSize, Tracker: tr})
				ss = s
				return s, err
			})
			if err != nil {
				return nil, err
			}
			return env.WithWebhooks(src, c.WebhookSecret, ss.WebhookVendor(c.WebhookSecret))
		},
		Demo: demo,
		History: func(c *Config, d source.Deps) (source.History, error) {
			return NewHistory(Options{Deps: d, BaseURL: c.URL, APIKey: c.APIKey, PageSize: c.PageSize})
		},
	})
}

// demoKey is shaped like a test key so that the syncer accepts it; it
// opens nothing but the built-in fake.
const demoKey = "sk_test_demo_not_a_secret"

// demo runs the fake Stripe with its simulator. Its history is seeded
// before the exporter starts, so that it is backfill; the live changes
// then count.
func demo(c *Config) (*source.DemoRun, error) {
	st := fakestripe.NewServer(fakestripe.Options{APIKey: demoKey})
	c.URL, c.APIKey = st.URL, demoKey
	opts := fakestripe.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	return source.SimulatedAccount("Stripe", st.URL, func() { st.Seed(opts) },
		func(ctx context.Context) { st.Simulate(ctx, opts) }, st.Close), nil
}
