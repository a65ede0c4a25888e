package freshdesk

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakefreshdesk "github.com/cx-exporter/cx-exporter/internal/fake/freshdesk"
)

// Config is the Freshdesk source's configuration.
type Config struct {
	Domain string `envconfig:"FRESHDESK_DOMAIN" desc:"enables the Freshdesk collector (acme: https://acme.freshdesk.com)"`
	URL    string `envconfig:"FRESHDESK_URL" desc:"Freshdesk base URL override (proxies, tests)"`
	APIKey string `envconfig:"FRESHDESK_API_KEY" secret:"true" desc:"Freshdesk API key"`
	// WebhookSecret turns on POST /api/v1/webhooks/freshdesk.
	WebhookSecret string `envconfig:"FRESHDESK_WEBHOOK_SECRET" secret:"true" desc:"shared secret the automation rule's webhook sends in its X-Cx-Webhook-Secret header; enables POST /api/v1/webhooks/freshdesk (off when unset)"`
}

// domain is an account's domain: acme, or acme.freshdesk.com.
var domain = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.freshdesk\.com)?$`)

func init() {
	source.Register(source.Vendor[Config]{
		Kind:    "freshdesk",
		Role:    source.RoleHelpdesk,
		Enabled: func(c *Config) bool { return c.Domain != "" || c.URL != "" },
		Validate: func(c *Config, p *source.Problems) {
			p.Require("FRESHDESK_API_KEY", c.APIKey, "the Freshdesk collector needs an API key (CX_FRESHDESK_API_KEY or CX_FRESHDESK_API_KEY_FILE)")
			p.URL("FRESHDESK_URL", c.URL)
			if c.URL == "" && !domain.MatchString(c.Domain) {
				p.Bad("FRESHDESK_DOMAIN", "%q: want the account's domain (acme for acme.freshdesk.com)", c.Domain)
			}
		},
		Build: func(c *Config, env source.Env) (source.Source, error) {
			base := baseURL(c)
			var fs *Syncer
			src, err := env.HelpdeskSource(func(tr *helpdesk.Tracker) (source.Syncer, error) {
				s, err := New(Options{Deps: env.Deps, BaseURL: base, APIKey: c.APIKey, Tracker: tr})
				if err != nil {
					return nil, err
				}
				s.o.Names = env.Names(s.Directory())
				fs = s
				return s, nil
			})
			if err != nil {
				return nil, err
			}
			return env.WithWebhooks(src, c.WebhookSecret, fs.WebhookVendor(c.WebhookSecret))
		},
		Demo: demo,
		History: func(c *Config, d source.Deps) (source.History, error) {
			return NewHistory(Options{Deps: d, BaseURL: baseURL(c), APIKey: c.APIKey})
		},
	})
}

// demoKey is the built-in fake's API key: not a secret.
const demoKey = "demo-freshdesk-key-not-a-secret"

// demo runs the fake Freshdesk with its simulator; its history is seeded
// before the exporter starts, so that it is backfill.
func demo(c *Config) (*source.DemoRun, error) {
	fd := fakefreshdesk.NewServer(fakefreshdesk.Options{APIKey: demoKey, RateLimit: 700})
	c.URL, c.APIKey = fd.URL, demoKey
	opts := fakefreshdesk.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	run := source.SimulatedAccount("Freshdesk", fd.URL, func() { fd.SeedHistory(opts) },
		func(ctx context.Context) { fd.Simulate(ctx, opts) }, fd.Close)
	run.WallClock = true // its tickets live in wall-clock time
	return run, nil
}

// baseURL is the account's API base.
func baseURL(c *Config) string {
	if c.URL != "" {
		return c.URL
	}
	return "https://" + strings.TrimSuffix(c.Domain, ".freshdesk.com") + ".freshdesk.com"
}
