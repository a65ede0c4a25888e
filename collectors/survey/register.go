package survey

import (
	"context"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// Config is the survey source's configuration.
type Config struct {
	Token string `envconfig:"SURVEY_TOKEN" secret:"true" desc:"enables POST /api/v1/survey-responses (NPS and CSAT from survey tools) with this bearer token"`
}

func init() {
	source.Register(source.Vendor[Config]{
		Kind:    surveySource,
		Role:    source.RoleSurvey,
		Enabled: func(c *Config) bool { return c.Token != "" },
		Build: func(c *Config, env source.Env) (source.Source, error) {
			r, err := newSurveyReceiver(c.Token, env.Helpdesk.Labels, env.State, env.Logger, env.Now)
			if err != nil {
				return nil, err
			}
			r.reject = env.Reject // refused requests count in cx_exporter_records_rejected_total
			return r, nil
		},
		Demo: demo,
	})
}

// Sync prunes the response ids past their retention (see prune), or
// checks that the source's state can be read: the survey source is pushed
// to, so there is nothing to pull, and its cx_exporter_source_up says
// whether the answers it takes can be stored.
func (s *surveyReceiver) Sync(context.Context) error {
	return s.prune(s.now())
}

// Collector renders the survey answers.
func (s *surveyReceiver) Collector() prometheus.Collector { return s }

// Routes is the endpoint survey tools push to.
func (s *surveyReceiver) Routes() map[string]http.Handler {
	return map[string]http.Handler{"POST " + SurveyPath: s}
}
