package exporter

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"

	"github.com/cx-exporter/cx-exporter/collectors/freshdesk"
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
	tr, err := helpdeskTracker(name, d)
	if err != nil {
		return nil, err
	}
	c, err := freshdesk.New(freshdesk.Options{
		Name:    name,
		BaseURL: freshdeskBaseURL(d.cfg),
		APIKey:  d.cfg.FreshdeskAPIKey,
		Client:  d.client,
		State:   d.store.Source(name),
		Tracker: tr,
		Reject:  func(id, reason string, err error) { d.reject(name, id, reason, err) },
		Logger:  d.logger.With("src", name),
		Now:     d.now,
	})
	if err != nil {
		return nil, fmt.Errorf("CX_FRESHDESK: %w", err)
	}
	return &source{name: name, kind: "freshdesk", sync: c.Sync, collector: tr.Collector(name, d.now)}, nil
}
