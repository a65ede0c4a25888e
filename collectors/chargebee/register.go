package chargebee

import (
	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// Config is the Chargebee source's configuration.
type Config struct {
	Site   string `envconfig:"CHARGEBEE_SITE" desc:"enables the Chargebee collector (acme: https://acme.chargebee.com)"`
	URL    string `envconfig:"CHARGEBEE_URL" desc:"Chargebee base URL override (proxies, tests)"`
	APIKey string `envconfig:"CHARGEBEE_API_KEY" secret:"true" desc:"Chargebee API key (read-only key is enough)"`
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
			return env.BillingSource(func(tr *billing.Tracker) (source.Syncer, error) {
				return New(Options{Deps: env.Deps, Site: c.Site, BaseURL: c.URL, APIKey: c.APIKey, Tracker: tr})
			})
		},
	})
}
