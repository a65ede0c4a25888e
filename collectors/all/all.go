// Package all links every vendor into the binary: each registers itself
// with the source kit from its own package's init. Adding a vendor adds
// one import here.
package all

import (
	_ "github.com/cx-exporter/cx-exporter/collectors/chargebee"
	_ "github.com/cx-exporter/cx-exporter/collectors/edesk"
	_ "github.com/cx-exporter/cx-exporter/collectors/freshdesk"
	_ "github.com/cx-exporter/cx-exporter/collectors/helpscout"
	_ "github.com/cx-exporter/cx-exporter/collectors/intercom"
	_ "github.com/cx-exporter/cx-exporter/collectors/paddle"
	_ "github.com/cx-exporter/cx-exporter/collectors/stripe"
	_ "github.com/cx-exporter/cx-exporter/collectors/survey"
	_ "github.com/cx-exporter/cx-exporter/collectors/udesk"
	_ "github.com/cx-exporter/cx-exporter/collectors/zendesk"
)
