package exporter

import (
	"fmt"
	"strings"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// runningSource is one configured source as the scheduler sees it.
type runningSource struct {
	name, kind, role string
	source.Source
}

// engineConfig is the engines' settings from the process's variables.
func (c *Config) engineConfig() (helpdesk.Config, billing.Config) {
	return helpdesk.Config{
			Labels:            c.Labels,
			MaxLabelValues:    c.MaxLabelValues,
			BusinessHours:     c.Calendar,
			FirstReplyTargets: c.Targets,
			ResolutionTargets: c.ResTargets,
			SLABusinessHours:  c.SLAHours == "business",
		}, billing.Config{
			MaxLabelValues: c.MaxLabelValues,
		}
}

// buildSources builds every enabled vendor's source through the registry.
// A vendor's error is prefixed with its variables (CX_<KIND>).
func (e *Exporter) buildSources(store *state.Store, client upstream.Options) ([]*runningSource, error) {
	hd, bl := e.cfg.engineConfig()
	var out []*runningSource
	for _, v := range e.cfg.enabled() {
		name := v.Kind
		env := source.Env{
			Deps: source.Deps{
				Name:          name,
				Client:        client,
				State:         store.Source(name),
				Reject:        func(id, reason string, err error) { e.reject(name, id, reason, err) },
				WebhookResult: func(result string) { e.self.webhooks.WithLabelValues(name, result).Inc() },
				Logger:        e.logger.With("src", name),
				Now:           e.now,
			}.WithDefaults(),
			Helpdesk:   hd,
			Billing:    bl,
			AgentLabel: e.cfg.AgentLabel,
		}
		s, err := v.Build(e.cfg.Vendors[v.Kind], env)
		if err != nil {
			return nil, fmt.Errorf("%s_%s: %w", Prefix, strings.ToUpper(v.Kind), err)
		}
		out = append(out, &runningSource{name: name, kind: v.Kind, role: v.Role, Source: s})
	}
	return out, nil
}
