package exporter

import (
	"net/url"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/helpscout"
)

// defaultHelpScoutURL is the Mailbox API 2.0 host.
const defaultHelpScoutURL = "https://api.helpscout.net"

func init() {
	vendors = append(vendors, vendor{
		kind:     "helpscout",
		enabled:  func(c *Config) bool { return c.HelpScoutAppID != "" },
		validate: validateHelpScout,
		build:    buildHelpScout,
	})
}

// validateHelpScout checks the Help Scout variables; it never quotes the secret.
func validateHelpScout(c *Config, bad func(name, format string, args ...any)) {
	if c.HelpScoutAppSecret == "" {
		bad("HELPSCOUT_APP_SECRET", "the Help Scout collector needs the OAuth2 app secret of CX_HELPSCOUT_APP_ID")
	}
	if c.HelpScoutURL != "" && c.HelpScoutURL != "demo" {
		if u, err := url.Parse(c.HelpScoutURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			bad("HELPSCOUT_URL", "%q is not an http(s) URL", c.HelpScoutURL)
		}
	}
}

func buildHelpScout(name string, d deps) (*source, error) {
	wm, err := watermark(name, d) // the tracker's: recorded here on the very first start
	if err != nil {
		return nil, err
	}
	base := d.cfg.HelpScoutURL
	if base == "" {
		base = defaultHelpScoutURL
	}
	return buildSource(name, "helpscout", d, helpdeskTracker, func(tr *helpdesk.Tracker, w wiring) (syncer, error) {
		return helpscout.New(helpscout.Options{
			Name:      name,
			BaseURL:   base,
			AppID:     d.cfg.HelpScoutAppID,
			AppSecret: d.cfg.HelpScoutAppSecret,
			Watermark: wm,
			Client:    w.Client,
			State:     w.State,
			Tracker:   tr,
			Reject:    w.Reject,
			Logger:    w.Logger,
			Now:       w.Now,
		})
	})
}
