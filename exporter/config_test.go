package exporter_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	_ "github.com/cx-exporter/cx-exporter/collectors/all"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/exporter"
)

// clearEnv unsets every CX_ variable for the test, so that the machine's
// environment cannot leak into a case.
func clearEnv(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, exporter.Prefix+"_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
}

func TestConfigGood(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte("fixture-token-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		env     map[string]string
		enabled []string // kinds the configuration turns on
	}{
		{"zendesk api token", map[string]string{"CX_ZENDESK_SUBDOMAIN": "acme", "CX_ZENDESK_EMAIL": "a@example.invalid", "CX_ZENDESK_API_TOKEN": "fixture"}, []string{"zendesk"}},
		{"zendesk oauth via file", map[string]string{"CX_ZENDESK_URL": "https://proxy.example.invalid", "CX_ZENDESK_OAUTH_TOKEN_FILE": secret}, []string{"zendesk"}},
		{"freshdesk domain", map[string]string{"CX_FRESHDESK_DOMAIN": "acme.freshdesk.com", "CX_FRESHDESK_API_KEY": "fixture"}, []string{"freshdesk"}},
		{"helpscout", map[string]string{"CX_HELPSCOUT_APP_ID": "app", "CX_HELPSCOUT_APP_SECRET": "fixture"}, []string{"helpscout"}},
		{"intercom eu", map[string]string{"CX_INTERCOM_TOKEN": "fixture", "CX_INTERCOM_URL": "https://api.eu.intercom.io"}, []string{"intercom"}},
		{"stripe restricted", map[string]string{"CX_STRIPE_API_KEY": "rk_test_fixture"}, []string{"stripe"}},
		{"chargebee site", map[string]string{"CX_CHARGEBEE_SITE": "acme-test", "CX_CHARGEBEE_API_KEY": "fixture"}, []string{"chargebee"}},
		{"survey alone", map[string]string{"CX_SURVEY_TOKEN": "fixture"}, []string{"survey"}},
		{"two sources", map[string]string{"CX_STRIPE_API_KEY": "sk_test_fixture", "CX_INTERCOM_TOKEN": "fixture",
			"CX_SLA_HOURS": "calendar", "CX_TICKET_LABELS": "priority,group", "CX_HOLIDAYS": "2026-12-25"}, []string{"intercom", "stripe"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg, err := exporter.Load(false)
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			var got []string
			for _, v := range source.Vendors() {
				if v.Enabled(cfg.Vendors[v.Kind]) {
					got = append(got, v.Kind)
				}
			}
			if strings.Join(got, ",") != strings.Join(tc.enabled, ",") {
				t.Errorf("enabled %v, want %v", got, tc.enabled)
			}
		})
	}
}

// TestConfigBad checks that every bad configuration fails at start-up
// with an error naming its variable, and never quoting a secret.
func TestConfigBad(t *testing.T) {
	const secret = "fixture-secret-4711"
	zd := map[string]string{"CX_ZENDESK_SUBDOMAIN": "acme", "CX_ZENDESK_EMAIL": "a@example.invalid", "CX_ZENDESK_API_TOKEN": secret}
	with := func(base map[string]string, kv ...string) map[string]string {
		out := map[string]string{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			out[kv[i]] = kv[i+1]
		}
		return out
	}
	tests := []struct {
		name, variable string
		env            map[string]string
	}{
		{"nothing configured", "no source configured", map[string]string{}},
		{"poll interval", "CX_POLL_INTERVAL", with(zd, "CX_POLL_INTERVAL", "10ms")},
		{"poll interval unparsable", "CX_POLL_INTERVAL", with(zd, "CX_POLL_INTERVAL", "soon")},
		{"retries", "CX_HTTP_RETRIES", with(zd, "CX_HTTP_RETRIES", "99")},
		{"log level", "CX_LOG_LEVEL", with(zd, "CX_LOG_LEVEL", "loud")},
		{"log format", "CX_LOG_FORMAT", with(zd, "CX_LOG_FORMAT", "xml")},
		{"telemetry path", "CX_TELEMETRY_PATH", with(zd, "CX_TELEMETRY_PATH", "/-/metrics")},
		{"telemetry path relative", "CX_TELEMETRY_PATH", with(zd, "CX_TELEMETRY_PATH", "metrics")},
		{"timezone", "CX_TIMEZONE", with(zd, "CX_TIMEZONE", "Mars/Olympus")},
		{"business hours", "CX_BUSINESS_HOURS", with(zd, "CX_BUSINESS_HOURS", "Mon-Fri 18:00-09:00")},
		{"holidays", "CX_HOLIDAYS", with(zd, "CX_HOLIDAYS", "2026-13-45")},
		{"ticket labels", "CX_TICKET_LABELS", with(zd, "CX_TICKET_LABELS", "priority,customer")},
		{"targets", "CX_FIRST_REPLY_TARGETS", with(zd, "CX_FIRST_REPLY_TARGETS", "urgent=soon")},
		{"targets priority", "CX_FIRST_REPLY_TARGETS", with(zd, "CX_FIRST_REPLY_TARGETS", "critical=1h")},
		{"sla hours", "CX_SLA_HOURS", with(zd, "CX_SLA_HOURS", "weekly")},
		{"max label values", "CX_MAX_LABEL_VALUES", with(zd, "CX_MAX_LABEL_VALUES", "0")},
		{"agent label", "CX_AGENT_LABEL", with(zd, "CX_AGENT_LABEL", "email")},
		{"ticket label", "CX_TICKET_LABELS", with(zd, "CX_TICKET_LABELS", "priority,agent")},
		{"demo helpdesk", "CX_DEMO_HELPDESK", with(zd, "CX_DEMO_HELPDESK", "kayako")},
		{"demo billing", "CX_DEMO_BILLING", with(zd, "CX_DEMO_BILLING", "paypal")},
		{"secret and its file", "CX_ZENDESK_API_TOKEN_FILE", with(zd, "CX_ZENDESK_API_TOKEN_FILE", "/nonexistent")},
		{"secret file missing", "CX_FRESHDESK_API_KEY_FILE", map[string]string{"CX_FRESHDESK_DOMAIN": "acme", "CX_FRESHDESK_API_KEY_FILE": "/nonexistent/key"}},
		{"zendesk no token", "CX_ZENDESK_API_TOKEN", map[string]string{"CX_ZENDESK_SUBDOMAIN": "acme"}},
		{"zendesk no email", "CX_ZENDESK_EMAIL", with(zd, "CX_ZENDESK_EMAIL", "")},
		{"zendesk subdomain", "CX_ZENDESK_SUBDOMAIN", with(zd, "CX_ZENDESK_SUBDOMAIN", "acme.zendesk.com")},
		{"zendesk url", "CX_ZENDESK_URL", with(zd, "CX_ZENDESK_URL", "ftp://acme")},
		{"zendesk page size", "CX_ZENDESK_PAGE_SIZE", with(zd, "CX_ZENDESK_PAGE_SIZE", "5000")},
		{"zendesk export rate", "CX_ZENDESK_EXPORT_RATE", with(zd, "CX_ZENDESK_EXPORT_RATE", "0")},
		{"freshdesk no key", "CX_FRESHDESK_API_KEY", map[string]string{"CX_FRESHDESK_DOMAIN": "acme"}},
		{"freshdesk domain", "CX_FRESHDESK_DOMAIN", map[string]string{"CX_FRESHDESK_DOMAIN": "acme.example.com/x", "CX_FRESHDESK_API_KEY": secret}},
		{"freshdesk url", "CX_FRESHDESK_URL", map[string]string{"CX_FRESHDESK_URL": "acme", "CX_FRESHDESK_API_KEY": secret}},
		{"helpscout no secret", "CX_HELPSCOUT_APP_SECRET", map[string]string{"CX_HELPSCOUT_APP_ID": "app"}},
		{"helpscout url", "CX_HELPSCOUT_URL", map[string]string{"CX_HELPSCOUT_APP_ID": "app", "CX_HELPSCOUT_APP_SECRET": secret, "CX_HELPSCOUT_URL": "api.helpscout.net"}},
		{"intercom url", "CX_INTERCOM_URL", map[string]string{"CX_INTERCOM_TOKEN": secret, "CX_INTERCOM_URL": "gopher://x"}},
		{"stripe key shape", "CX_STRIPE_API_KEY", map[string]string{"CX_STRIPE_API_KEY": "pk_live_" + secret}},
		{"stripe page size", "CX_STRIPE_PAGE_SIZE", map[string]string{"CX_STRIPE_API_KEY": "sk_test_" + secret, "CX_STRIPE_PAGE_SIZE": "101"}},
		{"stripe url", "CX_STRIPE_URL", map[string]string{"CX_STRIPE_API_KEY": "sk_test_" + secret, "CX_STRIPE_URL": "stripe"}},
		{"chargebee no key", "CX_CHARGEBEE_API_KEY", map[string]string{"CX_CHARGEBEE_SITE": "acme"}},
		{"chargebee site", "CX_CHARGEBEE_SITE", map[string]string{"CX_CHARGEBEE_SITE": "Acme.evil/x", "CX_CHARGEBEE_API_KEY": secret}},
		{"url with userinfo", "CX_CHARGEBEE_URL", map[string]string{"CX_CHARGEBEE_URL": "ftp://user:" + secret + "@host", "CX_CHARGEBEE_API_KEY": secret}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			clearEnv(t)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := exporter.Load(false)
			if err == nil {
				t.Fatalf("accepted, want an error naming %s", tc.variable)
			}
			if !strings.Contains(err.Error(), tc.variable) {
				t.Errorf("error does not name %s: %v", tc.variable, err)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error quotes a secret: %v", err)
			}
		})
	}
}

// TestConfigDemo checks that demo mode points the chosen simulated
// vendors at their fakes (no placeholder URL) and leaves a real account
// alone.
func TestConfigDemo(t *testing.T) {
	clearEnv(t)
	t.Setenv("CX_DEMO_HELPDESK", "intercom")
	t.Setenv("CX_STRIPE_API_KEY", "sk_test_real_account_fixture")
	t.Setenv("CX_STRIPE_URL", "https://stripe-proxy.example.invalid")
	cfg, err := exporter.Load(true)
	if err != nil {
		t.Fatal(err)
	}
	defer cfg.StopDemo()
	var on []string
	for _, v := range source.Vendors() {
		if v.Enabled(cfg.Vendors[v.Kind]) {
			on = append(on, v.Kind)
		}
	}
	if got := strings.Join(on, ","); got != "intercom,stripe,survey" {
		t.Errorf("demo enables %s, want intercom,stripe,survey", got)
	}
	ic := cfg.Vendors["intercom"]
	if u := reflectString(ic, "URL"); !strings.HasPrefix(u, "http://127.0.0.1:") {
		t.Errorf("demo Intercom URL %q, want the fake's address", u)
	}
	if u := reflectString(cfg.Vendors["stripe"], "URL"); u != "https://stripe-proxy.example.invalid" {
		t.Errorf("demo replaced the configured Stripe account: %q", u)
	}
	if reflectString(cfg.Vendors["zendesk"], "URL") != "" {
		t.Error("demo started Zendesk although CX_DEMO_HELPDESK=intercom")
	}
}

// TestConfigDemoLabels: demo mode shows the demo team (group and assignee)
// unless the user chose the ticket labels.
func TestConfigDemoLabels(t *testing.T) {
	for _, c := range []struct{ set, want string }{{"", "priority,group,assignee"}, {"channel", "channel"}} {
		clearEnv(t)
		if c.set != "" {
			t.Setenv("CX_TICKET_LABELS", c.set)
		}
		cfg, err := exporter.Load(true)
		if err != nil {
			t.Fatal(err)
		}
		cfg.StopDemo()
		if got := strings.Join(cfg.Labels.Names(), ","); got != c.want {
			t.Errorf("CX_TICKET_LABELS=%q: demo labels %s, want %s", c.set, got, c.want)
		}
	}
}

// TestUsageListsEveryVendor checks that -h is read from the registry.
func TestUsageListsEveryVendor(t *testing.T) {
	var b strings.Builder
	exporter.Usage(&b)
	for _, v := range []string{"CX_STATE_DIR", "CX_ZENDESK_API_TOKEN", "CX_FRESHDESK_API_KEY", "CX_HELPSCOUT_APP_SECRET",
		"CX_INTERCOM_TOKEN", "CX_STRIPE_API_KEY", "CX_CHARGEBEE_SITE", "CX_SURVEY_TOKEN", "CX_DEMO_BILLING"} {
		if !strings.Contains(b.String(), v+" ") {
			t.Errorf("-h does not list %s", v)
		}
	}
	if !strings.Contains(b.String(), "(or CX_INTERCOM_TOKEN_FILE)") {
		t.Error("-h does not offer _FILE for a vendor's secret")
	}
}

func reflectString(cfg any, field string) string {
	return reflect.ValueOf(cfg).Elem().FieldByName(field).String()
}
