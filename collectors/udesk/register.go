package udesk

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakeudesk "github.com/cx-exporter/cx-exporter/internal/fake/udesk"
)

// Config is the Udesk source's configuration.
type Config struct {
	Subdomain         string `envconfig:"UDESK_SUBDOMAIN" desc:"enables the Udesk collector (acme: https://acme.udesk.cn)"`
	URL               string `envconfig:"UDESK_URL" desc:"Udesk base URL override (udeskglobal.com accounts, proxies, tests)"`
	Email             string `envconfig:"UDESK_EMAIL" desc:"Udesk administrator email the API requests are signed with"`
	APIToken          string `envconfig:"UDESK_API_TOKEN" secret:"true" desc:"Udesk open_api_token"`
	RequestsPerMinute int    `envconfig:"UDESK_REQUESTS_PER_MINUTE" default:"60" desc:"Udesk API requests per minute the collector stays within (the account's limit)"`
	// WebhookSecret turns on POST /api/v1/webhooks/udesk.
	WebhookSecret string `envconfig:"UDESK_WEBHOOK_SECRET" secret:"true" desc:"shared secret the work-order callback sends in its X-Cx-Webhook-Secret header; enables POST /api/v1/webhooks/udesk (off when unset)"`
}

// subdomain is an account's subdomain: acme, or acme.udesk.cn.
var subdomain = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.udesk\.cn)?$`)

func init() {
	source.Register(source.Vendor[Config]{
		Kind:    "udesk",
		Role:    source.RoleHelpdesk,
		Enabled: func(c *Config) bool { return c.Subdomain != "" || c.URL != "" },
		Validate: func(c *Config, p *source.Problems) {
			p.Require("UDESK_EMAIL", c.Email, "the Udesk collector needs the administrator email its requests are signed with")
			p.Require("UDESK_API_TOKEN", c.APIToken, "the Udesk collector needs an API token (CX_UDESK_API_TOKEN or CX_UDESK_API_TOKEN_FILE)")
			p.URL("UDESK_URL", c.URL)
			p.Range("UDESK_REQUESTS_PER_MINUTE", c.RequestsPerMinute, 1, 6000)
			if c.URL == "" && !subdomain.MatchString(c.Subdomain) {
				p.Bad("UDESK_SUBDOMAIN", "%q: want the account's subdomain (acme for acme.udesk.cn)", c.Subdomain)
			}
		},
		History: history,
		Build: func(c *Config, env source.Env) (source.Source, error) {
			base := c.URL
			if base == "" {
				base = "https://" + strings.TrimSuffix(c.Subdomain, ".udesk.cn") + ".udesk.cn"
			}
			var us *Syncer
			src, err := env.HelpdeskSource(func(tr *helpdesk.Tracker) (source.Syncer, error) {
				s, err := New(Options{Deps: env.Deps, BaseURL: base, Email: c.Email, Token: c.APIToken,
					RequestsPerMinute: c.RequestsPerMinute, Tracker: tr})
				if err != nil {
					return nil, err
				}
				s.o.Names = env.Names(s.Directory())
				us = s
				return s, nil
			})
			if err != nil {
				return nil, err
			}
			return env.WithWebhooks(src, c.WebhookSecret, us.WebhookVendor(c.WebhookSecret))
		},
		Demo: demo,
	})
}

// The built-in fake's credentials: not secrets.
const (
	demoEmail = "demo-admin@udesk.example"
	demoToken = "demo-udesk-token-not-a-secret"
)

// demo runs the fake Udesk with its simulator; its history is seeded
// before the exporter starts, so that it is backfill.
func demo(c *Config) (*source.DemoRun, error) {
	ud := fakeudesk.NewServer(fakeudesk.Options{Email: demoEmail, Token: demoToken})
	c.URL, c.Email, c.APIToken = ud.URL, demoEmail, demoToken
	opts := fakeudesk.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	run := source.SimulatedAccount("Udesk", ud.URL, func() { ud.SeedHistory(opts) },
		func(ctx context.Context) { ud.Simulate(ctx, opts) }, ud.Close)
	run.WallClock = true // its work orders live in wall-clock time
	return run, nil
}
