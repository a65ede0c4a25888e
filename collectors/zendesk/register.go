package zendesk

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
)

// Config is the Zendesk source's configuration.
type Config struct {
	Subdomain  string `envconfig:"ZENDESK_SUBDOMAIN" desc:"enables the Zendesk collector (acme: https://acme.zendesk.com)"`
	URL        string `envconfig:"ZENDESK_URL" desc:"Zendesk base URL override (proxies, tests)"`
	Email      string `envconfig:"ZENDESK_EMAIL" desc:"Zendesk agent email for API-token auth"`
	APIToken   string `envconfig:"ZENDESK_API_TOKEN" secret:"true" desc:"Zendesk API token (email/token auth)"`
	OAuthToken string `envconfig:"ZENDESK_OAUTH_TOKEN" secret:"true" desc:"Zendesk OAuth bearer token, instead of an API token"`
	PageSize   int    `envconfig:"ZENDESK_PAGE_SIZE" default:"1000" desc:"tickets per export page (1-1000)"`
	ExportRate int    `envconfig:"ZENDESK_EXPORT_RATE" default:"10" desc:"incremental export requests per minute (10; 30 with High Volume)"`
	// WebhookSecret turns on POST /api/v1/webhooks/zendesk.
	WebhookSecret string `envconfig:"ZENDESK_WEBHOOK_SECRET" secret:"true" desc:"signing secret of a Zendesk webhook; enables POST /api/v1/webhooks/zendesk (off when unset)"`
}

func init() {
	source.Register(source.Vendor[Config]{
		Kind:    "zendesk",
		Role:    source.RoleHelpdesk,
		Enabled: func(c *Config) bool { return c.Subdomain != "" || c.URL != "" },
		Validate: func(c *Config, p *source.Problems) {
			switch {
			case c.APIToken == "" && c.OAuthToken == "":
				p.Bad("ZENDESK_API_TOKEN", "Zendesk needs CX_ZENDESK_API_TOKEN (with CX_ZENDESK_EMAIL) or CX_ZENDESK_OAUTH_TOKEN")
			case c.OAuthToken == "" && c.Email == "":
				p.Bad("ZENDESK_EMAIL", "API-token auth needs the agent's email")
			}
			if strings.ContainsAny(c.Subdomain, "./:") {
				p.Bad("ZENDESK_SUBDOMAIN", "%q: want the subdomain only (acme for acme.zendesk.com)", c.Subdomain)
			}
			p.URL("ZENDESK_URL", c.URL)
			p.Range("ZENDESK_PAGE_SIZE", c.PageSize, 1, 1000)
			if c.ExportRate < 1 {
				p.Bad("ZENDESK_EXPORT_RATE", "%d: want at least 1", c.ExportRate)
			}
		},
		Build:   build,
		Demo:    demo,
		History: history,
	})
}

func baseURL(c *Config) string {
	if c.URL != "" {
		return c.URL
	}
	return "https://" + c.Subdomain + ".zendesk.com"
}

// history reads the account's ticket events for `cx-exporter backfill`.
func history(c *Config, d source.Deps) (source.History, error) {
	return NewHistory(Options{
		Deps: d, BaseURL: baseURL(c), Email: c.Email, APIToken: c.APIToken, OAuthToken: c.OAuthToken,
		PageSize: c.PageSize, ExportRequestsPerMinute: c.ExportRate,
	})
}

func build(c *Config, env source.Env) (source.Source, error) {
	base := baseURL(c)
	var zs *Syncer
	src, err := env.HelpdeskSource(func(tr *helpdesk.Tracker) (source.Syncer, error) {
		s, err := New(Options{
			Deps: env.Deps, BaseURL: base, Tracker: tr,
			Email: c.Email, APIToken: c.APIToken, OAuthToken: c.OAuthToken,
			PageSize: c.PageSize, ExportRequestsPerMinute: c.ExportRate,
		})
		if err != nil {
			return nil, err
		}
		s.o.Names = env.Names(s.Directory())
		zs = s
		return s, nil
	})
	if err != nil {
		return nil, err
	}
	return env.WithWebhooks(src, c.WebhookSecret, zs.WebhookVendor(c.WebhookSecret))
}

// Credentials of the built-in fake: not secrets, and shaped so that nobody
// mistakes them for real ones.
const (
	demoEmail = "demo@example.invalid"
	demoToken = "demo-token-not-a-secret"
)

// demo runs the fake Zendesk with its simulator.
func demo(c *Config) (*source.DemoRun, error) {
	zd := fakezendesk.NewServer(fakezendesk.Options{Email: demoEmail, APIToken: demoToken, RateLimit: 600})
	c.URL, c.Email, c.APIToken, c.OAuthToken = zd.URL, demoEmail, demoToken, ""
	c.ExportRate = 600
	c.WebhookSecret = demoWebhookSecret
	opts := fakezendesk.SimOptions{Seed: time.Now().UnixNano(), Tick: time.Second}
	return &source.DemoRun{
		Title: "Zendesk", URL: zd.URL, Close: zd.Close,
		Simulate: func(ctx context.Context, self string, _ *slog.Logger) {
			if self != "" { // the simulated account signs a webhook at each change
				zd.SendWebhooks(self+source.WebhookPath("zendesk"), demoWebhookSecret)
			}
			zd.Simulate(ctx, opts)
		},
	}, nil
}

// demoWebhookSecret signs the demo's webhooks; it opens nothing else.
const demoWebhookSecret = "demo-webhook-secret-not-a-secret"
