package exporter

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/cx-exporter/cx-exporter/collectors/freshdesk"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
)

// freshdeskDomain is an account's domain: acme, or acme.freshdesk.com.
var freshdeskDomain = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.freshdesk\.com)?$`)

func init() {
	vendors = append(vendors, vendor{
		kind:     "freshdesk",
		enabled:  func(c *Config) bool { return c.FreshdeskDomain != "" || c.FreshdeskURL != "" },
		validate: validateFreshdesk,
		build:    buildFreshdesk,
	})
}

func validateFreshdesk(c *Config, bad func(name, format string, args ...any)) {
	if c.FreshdeskAPIKey == "" {
		bad("FRESHDESK_API_KEY", "the Freshdesk collector needs an API key (CX_FRESHDESK_API_KEY or CX_FRESHDESK_API_KEY_FILE)")
	}
	if u, err := url.Parse(c.FreshdeskURL); c.FreshdeskURL != "" && c.FreshdeskURL != "demo" && (err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https")) {
		bad("FRESHDESK_URL", "%q is not an http(s) URL", c.FreshdeskURL)
	}
	if c.FreshdeskURL == "" && !freshdeskDomain.MatchString(c.FreshdeskDomain) {
		bad("FRESHDESK_DOMAIN", "%q: want the account's domain (acme for acme.freshdesk.com)", c.FreshdeskDomain)
	}
}

func freshdeskBaseURL(c *Config) string {
	if c.FreshdeskURL != "" {
		return c.FreshdeskURL
	}
	return "https://" + strings.TrimSuffix(c.FreshdeskDomain, ".freshdesk.com") + ".freshdesk.com"
}

func buildFreshdesk(name string, d deps) (*source, error) {
	return buildSource(name, "freshdesk", d, helpdeskTracker, func(tr *helpdesk.Tracker, w wiring) (syncer, error) {
		return freshdesk.New(freshdesk.Options{
			Name:    name,
			BaseURL: freshdeskBaseURL(d.cfg),
			APIKey:  d.cfg.FreshdeskAPIKey,
			Client:  w.Client,
			State:   w.State,
			Tracker: tr,
			Reject:  w.Reject,
			Logger:  w.Logger,
			Now:     w.Now,
		})
	})
}
