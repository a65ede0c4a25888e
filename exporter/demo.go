package exporter

import (
	"context"
	"log/slog"
	"net"
	"os"
	"slices"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/state"
)

// demoPollInterval makes the demo lively: within a minute of start every
// helpdesk metric has moved. Real sources keep CX_POLL_INTERVAL's 60s.
const demoPollInterval = 5 * time.Second

// demoSupportCost is the demo's CX_SUPPORT_COST_MONTHLY, in a currency the
// simulated Stripe account bills in.
const demoSupportCost = "25000 USD"

// demoNames lists the vendors of a role that have a simulated account.
func demoNames(role string) []string {
	var names []string
	for _, v := range source.Vendors() {
		if v.Role == role && v.Demo != nil {
			names = append(names, v.Kind)
		}
	}
	return names
}

// demoWanted reports whether demo mode runs v's simulated account: the
// helpdesk of CX_DEMO_HELPDESK, the billing system of CX_DEMO_BILLING, and
// every other vendor with a demo, unless the user configured a real
// account of that vendor.
func (c *Config) demoWanted(v source.Registered) bool {
	if v.Demo == nil || v.Enabled(c.Vendors[v.Kind]) {
		return false
	}
	switch v.Role {
	case source.RoleHelpdesk:
		return v.Kind == c.DemoHelpdesk
	case source.RoleBilling:
		return v.Kind == c.DemoBilling
	}
	return true
}

// startDemoAPIs starts the simulated vendor APIs on 127.0.0.1 and points
// their vendors' configuration at them; they stay idle until StartDemo.
func (c *Config) startDemoAPIs() error {
	if _, set := os.LookupEnv(Prefix + "_POLL_INTERVAL"); !set {
		c.PollInterval = demoPollInterval
	}
	c.demos = map[string]*source.DemoRun{}
	for _, v := range source.Vendors() {
		if !c.demoWanted(v) {
			continue
		}
		run, err := v.Demo(c.Vendors[v.Kind])
		if err != nil {
			return err
		}
		c.demos[v.Kind] = run
		if run.WallClock {
			c.demoWallClockSLA()
		}
	}
	if c.SupportCost == "" {
		c.SupportCost = demoSupportCost
	}
	// The demo team's agents and groups have names: show them, so that the
	// agents and teams dashboard is alive (unless the user chose labels).
	if _, set := os.LookupEnv(Prefix + "_TICKET_LABELS"); !set {
		c.TicketLabels = demoTicketLabels
	}
	return nil
}

// demoTicketLabels are the demo's CX_TICKET_LABELS: priority (the SLA
// targets follow it), and the group and assignee of the agents and teams
// dashboard. Channel is left out: with it the demo's dozen agents would
// expose over 30,000 series.
const demoTicketLabels = "priority,group,assignee"

// demoWallClockSLA gives a simulated helpdesk whose tickets live in
// wall-clock time (replies and solves seconds after creation) SLA targets
// of seconds in calendar time, unless the user set them: its tickets then
// meet and breach both SLAs, time-driven breaches included, within the
// demo's first minute. (A simulated account that reports durations of
// minutes to days itself, as the fake Zendesk does, keeps the defaults.)
func (c *Config) demoWallClockSLA() {
	for _, v := range []struct {
		name  string
		field *string
		demo  string
	}{
		{"FIRST_REPLY_TARGETS", &c.FirstReplyTargets, "urgent=5s,high=10s,normal=20s,low=40s,none=20s"},
		{"RESOLUTION_TARGETS", &c.ResolutionTargets, "urgent=15s,high=30s,normal=45s,low=90s,none=45s"},
		{"SLA_HOURS", &c.SLAHours, "calendar"},
	} {
		if _, set := os.LookupEnv(Prefix + "_" + v.name); !set {
			*v.field = v.demo
		}
	}
}

// StopDemo stops the simulated APIs of a configuration that StartDemo
// did not take over.
func (c *Config) StopDemo() { c.closeDemo() }

// closeDemo stops the simulated APIs of a configuration that is not used.
func (c *Config) closeDemo() {
	for _, run := range c.demos {
		run.Close()
	}
	c.demos = nil
}

// StartDemo runs the simulated accounts until ctx ends. Each is new at
// every start, so the demo sources' state in CX_STATE_DIR is reset first,
// then their history is seeded (it is backfill); addr is the exporter's
// bound listen address, for simulators that post to it. The simulated
// APIs close when ctx ends.
func StartDemo(ctx context.Context, c *Config, logger *slog.Logger, addr string) error {
	if len(c.demos) == 0 {
		return nil
	}
	store, err := state.Open(c.StateDir)
	if err != nil {
		return err
	}
	kinds := make([]string, 0, len(c.demos))
	for k := range c.demos {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, kind := range kinds {
		if err := store.Source(kind).Reset(); err != nil {
			store.Close()
			return err
		}
	}
	if err := store.Close(); err != nil {
		return err
	}
	self := selfURL(c, addr)
	for _, kind := range kinds {
		run := c.demos[kind]
		if run.Seed != nil {
			run.Seed()
		}
		go func() {
			run.Simulate(ctx, self, logger.With("src", kind))
			run.Close()
		}()
		if run.URL != "" {
			logger.Info("demo mode: simulated "+run.Title+" running", "url", run.URL)
		} else {
			logger.Info("demo mode: simulated "+run.Title+" running", "posting_to", self)
		}
	}
	return nil
}

// selfURL is the exporter's own base URL as a local simulator reaches it,
// or "" when CX_WEB_CONFIG_FILE adds TLS or basic auth that simulators do
// not speak.
func selfURL(c *Config, addr string) string {
	if c.WebConfigFile != "" {
		return ""
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
