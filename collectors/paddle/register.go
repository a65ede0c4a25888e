package paddle

import (
	"context"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakepaddle "github.com/cx-exporter/cx-exporter/internal/fake/paddle"
)

// Config is the Paddle source's configuration.
type Config struct {
	APIKey   string `envconfig:"PADDLE_API_KEY" secret:"true" desc:"enables the Paddle Billing collector: an API key with read access to subscriptions, events and discounts"`
	URL      string `envconfig:"PADDLE_URL" default:"https://api.paddle.com" desc:"Paddle API base URL (https://sandbox-api.paddle.com for a sandbox; proxies, tests)"`
	PageSize int    `envconfig:"PADDLE_PAGE_SIZE" default:"200" desc:"entities per Paddle list page (1-200)"`
	// WebhookSecret turns on POST /api/v1/webhooks/paddle.
	WebhookSecret string `envconfig:"PADDLE_WEBHOOK_SECRET" secret:"true" desc:"secret key of a Paddle notification destination; enables POST /api/v1/webhooks/paddle (off when unset)"`
}

func init() {
	source.Register(source.Vendor[Config]{
		Kind:    "paddle",
		Role:    source.RoleBilling,
		Enabled: func(c *Config) bool { return c.APIKey != "" },
		Validate: func(c *Config, p *source.Problems) {
			p.Range("PADDLE_PAGE_SIZE", c.PageSize, 1, MaxPageSize)
			p.URL("PADDLE_URL", c.URL)
		},
		Build: func(c *Config, env source.Env) (source.Source, error) {
			var ps *Syncer
			src, err := env.BillingSource(func(tr *billing.Tracker) (source.Syncer, error) {
				s, err := New(Options{Deps: env.Deps, BaseURL: c.URL, APIKey: c.APIKey, PageSize: c.PageSize, Tracker: tr})
				ps = s
				return s, err
			})
			if err != nil {
				return nil, err
			}
			return env.WithWebhooks(src, c.WebhookSecret, ps.WebhookVendor(c.WebhookSecret))
		},
		Demo: demo,
		History: func(c *Config, d source.Deps) (source.History, error) {
			return NewHistory(Options{Deps: d, BaseURL: c.URL, APIKey: c.APIKey, PageSize: c.PageSize})
		},
	})
}

// demo runs the fake Paddle account with its simulator. Its history is
// seeded before the exporter starts, so that it is backfill; the live
// changes then count.
func demo(c *Config) (*source.DemoRun, error) {
	st := fakepaddle.NewServer(fakepaddle.Options{})
	c.URL, c.APIKey = st.URL, fakepaddle.DefaultAPIKey
	opts := fakepaddle.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	return source.SimulatedAccount("Paddle", st.URL, func() { st.Seed(opts) },
		func(ctx context.Context) { st.Simulate(ctx, opts) }, st.Close), nil
}
