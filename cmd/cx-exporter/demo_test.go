package main_test

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

// helpdeskMetrics are the spec's helpdesk families the demo must move;
// helpdesk_nps_responses_total comes with the survey source.
var helpdeskMetrics = []string{
	"helpdesk_open_tickets", "helpdesk_open_ticket_oldest_age_seconds", "helpdesk_open_tickets_older_than",
	"helpdesk_awaiting_first_reply_tickets", "helpdesk_first_reply_sla_tickets", "helpdesk_awaiting_first_reply_oldest_age_seconds",
	"helpdesk_tickets_created_total", "helpdesk_tickets_solved_total", "helpdesk_tickets_reopened_total",
	"helpdesk_tickets_solved_first_contact_total", "helpdesk_first_reply_seconds_count", "helpdesk_resolution_seconds_count",
	"helpdesk_replies_per_solved_ticket_count", "helpdesk_satisfaction_ratings_total",
}

// TestDemo runs `cx-exporter -demo` and requires every helpdesk metric to
// have a non-zero sample within 60 seconds, and the scrape to pass
// `promtool check metrics`.
func TestDemo(t *testing.T) {
	t.Parallel()
	promtool := e2e.Tool(t, "promtool")
	exp := e2e.Start(t, []string{"CX_STATE_DIR=" + t.TempDir()}, "-demo")
	start := time.Now()
	var missing []string
	var text string
	for time.Since(start) < 60*time.Second {
		var err error
		if text, err = exp.Scrape(); err != nil {
			t.Fatal(err)
		}
		m, err := e2e.Samples(text)
		if err != nil {
			t.Fatal(err)
		}
		missing = missing[:0]
		for _, name := range helpdeskMetrics {
			if !nonZero(m, name) {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 {
			break
		}
		time.Sleep(time.Second)
	}
	if len(missing) > 0 {
		t.Fatalf("after 60s of demo these helpdesk metrics have no non-zero sample: %v\n%s", missing, e2e.Tail(exp.Logs(), 2000))
	}
	t.Logf("every helpdesk metric non-zero after %s", time.Since(start).Round(time.Second))
	if code, _, _ := exp.Get("/-/ready"); code != 200 {
		t.Errorf("/-/ready = %d in a running demo", code)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(text)
	if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
	if code, body, _ := exp.Get("/"); code != 200 || !strings.Contains(body, "zendesk") {
		t.Errorf("landing page: %d, does not list the zendesk source:\n%s", code, body)
	}
	if err := exp.Stop(); err != nil {
		t.Error(err)
	}
}

func nonZero(m map[string]float64, name string) bool {
	for k, v := range m {
		if strings.HasPrefix(k, name+"{") && v != 0 {
			return true
		}
	}
	return false
}
