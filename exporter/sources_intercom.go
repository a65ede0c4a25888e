package exporter

import (
	"net/url"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/intercom"
)

func init() {
	vendors = append(vendors, vendor{
		kind:     "intercom",
		enabled:  func(c *Config) bool { return c.IntercomToken != "" },
		validate: validateIntercom,
		build:    buildIntercom,
	})
}

func validateIntercom(c *Config, bad func(name, format string, args ...any)) {
	if c.IntercomURL == "" || (c.Demo && c.IntercomURL == "demo") {
		return
	}
	if u, err := url.Parse(c.IntercomURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("INTERCOM_URL", "%q is not an http(s) URL", c.IntercomURL)
	}
}

func buildIntercom(name string, d deps) (*source, error) {
	base := d.cfg.IntercomURL
	if base == "" {
		base = intercom.DefaultBaseURL
	}
	return buildSource(name, "intercom", d, helpdeskTracker, func(tr *helpdesk.Tracker, w wiring) (syncer, error) {
		return intercom.New(intercom.Options{
			Name:    name,
			BaseURL: base,
			Token:   d.cfg.IntercomToken,
			Client:  w.Client,
			State:   w.State,
			Tracker: tr,
			Reject:  w.Reject,
			Logger:  w.Logger,
			Now:     w.Now,
		})
	})
}
