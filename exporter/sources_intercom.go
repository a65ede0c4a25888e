package exporter

import (
	"fmt"
	"net/url"

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
	tr, err := helpdeskTracker(name, d)
	if err != nil {
		return nil, err
	}
	base := d.cfg.IntercomURL
	if base == "" {
		base = intercom.DefaultBaseURL
	}
	c, err := intercom.New(intercom.Options{
		Name:    name,
		BaseURL: base,
		Token:   d.cfg.IntercomToken,
		Client:  d.client,
		State:   d.store.Source(name),
		Tracker: tr,
		Reject:  func(id, reason string, err error) { d.reject(name, id, reason, err) },
		Logger:  d.logger.With("src", name),
		Now:     d.now,
	})
	if err != nil {
		return nil, fmt.Errorf("CX_INTERCOM: %w", err)
	}
	return &source{name: name, kind: "intercom", sync: c.Sync, collector: tr.Collector(name, d.now)}, nil
}
