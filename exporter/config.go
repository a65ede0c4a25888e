package exporter

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/kelseyhightower/envconfig"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/cx-exporter/cx-exporter/collectors/chargebee"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk/businesshours"
)

// Prefix of every environment variable.
const Prefix = "CX"

// Config is the exporter's whole configuration, read from CX_* variables.
// Fields tagged secret also accept <NAME>_FILE.
type Config struct {
	ListenAddress string        `envconfig:"LISTEN_ADDRESS" default:":9860" desc:"HTTP listen address"`
	WebConfigFile string        `envconfig:"WEB_CONFIG_FILE" desc:"exporter-toolkit web config file (TLS, basic auth)"`
	StateDir      string        `envconfig:"STATE_DIR" default:"./data" desc:"directory of the persistent state store"`
	PollInterval  time.Duration `envconfig:"POLL_INTERVAL" default:"60s" desc:"time between syncs of each source"`
	SyncTimeout   time.Duration `envconfig:"SYNC_TIMEOUT" default:"10m" desc:"longest one sync may take before it is abandoned"`
	HTTPTimeout   time.Duration `envconfig:"HTTP_TIMEOUT" default:"30s" desc:"timeout of one upstream HTTP request"`
	HTTPRetries   int           `envconfig:"HTTP_RETRIES" default:"4" desc:"retries of a failed upstream request (transport errors, 5xx, 429)"`
	Demo          bool          `envconfig:"DEMO" default:"false" desc:"run built-in simulated vendor APIs and poll them (also -demo)"`
	LogLevel      string        `envconfig:"LOG_LEVEL" default:"info" desc:"debug, info, warn or error"`
	LogFormat     string        `envconfig:"LOG_FORMAT" default:"logfmt" desc:"logfmt or json"`

	ZendeskSubdomain  string `envconfig:"ZENDESK_SUBDOMAIN" desc:"enables the Zendesk collector (acme: https://acme.zendesk.com)"`
	ZendeskURL        string `envconfig:"ZENDESK_URL" desc:"Zendesk base URL override (proxies, tests)"`
	ZendeskEmail      string `envconfig:"ZENDESK_EMAIL" desc:"Zendesk agent email for API-token auth"`
	ZendeskAPIToken   string `envconfig:"ZENDESK_API_TOKEN" secret:"true" desc:"Zendesk API token (email/token auth)"`
	ZendeskOAuthToken string `envconfig:"ZENDESK_OAUTH_TOKEN" secret:"true" desc:"Zendesk OAuth bearer token, instead of an API token"`
	ZendeskPageSize   int    `envconfig:"ZENDESK_PAGE_SIZE" default:"1000" desc:"tickets per export page (1-1000)"`
	ZendeskExportRate int    `envconfig:"ZENDESK_EXPORT_RATE" default:"10" desc:"incremental export requests per minute (10; 30 with High Volume)"`

	StripeAPIKey   string `envconfig:"STRIPE_API_KEY" secret:"true" desc:"enables the Stripe collector: a secret (sk_...) or restricted (rk_..., read access to subscriptions, events and coupons) API key"`
	StripeURL      string `envconfig:"STRIPE_URL" default:"https://api.stripe.com" desc:"Stripe API base URL override (proxies, tests)"`
	StripePageSize int    `envconfig:"STRIPE_PAGE_SIZE" default:"100" desc:"objects per Stripe list page (1-100)"`

	FreshdeskDomain string `envconfig:"FRESHDESK_DOMAIN" desc:"enables the Freshdesk collector (acme: https://acme.freshdesk.com)"`
	FreshdeskURL    string `envconfig:"FRESHDESK_URL" desc:"Freshdesk base URL override (proxies, tests)"`
	FreshdeskAPIKey string `envconfig:"FRESHDESK_API_KEY" secret:"true" desc:"Freshdesk API key"`

	HelpScoutAppID     string `envconfig:"HELPSCOUT_APP_ID" desc:"enables the Help Scout collector: OAuth2 client-credentials app id"`
	HelpScoutAppSecret string `envconfig:"HELPSCOUT_APP_SECRET" secret:"true" desc:"Help Scout OAuth2 app secret"`
	HelpScoutURL       string `envconfig:"HELPSCOUT_URL" desc:"Help Scout API base URL override (default https://api.helpscout.net)"`

	IntercomToken string `envconfig:"INTERCOM_TOKEN" secret:"true" desc:"enables the Intercom collector: access token"`
	IntercomURL   string `envconfig:"INTERCOM_URL" desc:"Intercom API base URL override (default https://api.intercom.io; api.eu.intercom.io, api.au.intercom.io by region)"`

	SurveyToken string `envconfig:"SURVEY_TOKEN" secret:"true" desc:"enables POST /api/v1/survey-responses (NPS and CSAT from survey tools) with this bearer token"`

	DemoHelpdesk string `envconfig:"DEMO_HELPDESK" default:"zendesk" desc:"which simulated helpdesk demo mode runs: zendesk, freshdesk, helpscout or intercom"`

	ChargebeeSite   string `envconfig:"CHARGEBEE_SITE" desc:"enables the Chargebee collector (acme: https://acme.chargebee.com)"`
	ChargebeeURL    string `envconfig:"CHARGEBEE_URL" desc:"Chargebee base URL override (proxies, tests)"`
	ChargebeeAPIKey string `envconfig:"CHARGEBEE_API_KEY" secret:"true" desc:"Chargebee API key (read-only key is enough)"`

	BusinessHours     string `envconfig:"BUSINESS_HOURS" default:"Mon-Fri 09:00-17:00" desc:"weekly working hours for hours=\"business\" durations"`
	Timezone          string `envconfig:"TIMEZONE" default:"UTC" desc:"IANA time zone of the business hours"`
	Holidays          string `envconfig:"HOLIDAYS" desc:"comma-separated dates (2026-12-25) excluded from business hours"`
	FirstReplyTargets string `envconfig:"FIRST_REPLY_TARGETS" default:"urgent=1h,high=4h,normal=8h,low=24h,none=8h" desc:"first-reply SLA target per priority"`
	ResolutionTargets string `envconfig:"RESOLUTION_TARGETS" default:"urgent=4h,high=1d,normal=3d,low=7d,none=3d" desc:"resolution (first solve) SLA target per priority"`
	SupportCost       string `envconfig:"SUPPORT_COST_MONTHLY" desc:"monthly support cost and its ISO 4217 currency, e.g. 25000 USD (cost per solved ticket, cost vs MRR)"`
	SLAHours          string `envconfig:"SLA_HOURS" default:"business" desc:"whether SLA targets count business or calendar time"`
	TicketLabels      string `envconfig:"TICKET_LABELS" default:"priority,channel" desc:"ticket labels to export, from priority,channel,group,ticket_type,brand"`
	MaxLabelValues    int    `envconfig:"MAX_LABEL_VALUES" default:"50" desc:"distinct values per label; further values are exported as other"`

	// Parsed forms, set by Load.
	Labels   helpdesk.LabelSet        `ignored:"true"`
	Calendar *businesshours.Calendar  `ignored:"true"`
	Targets  map[string]time.Duration `ignored:"true"`
	// ResTargets are the parsed CX_RESOLUTION_TARGETS.
	ResTargets map[string]time.Duration `ignored:"true"`
	// Cost is the parsed CX_SUPPORT_COST_MONTHLY; zero Currency when unset.
	Cost SupportCost `ignored:"true"`
	// demoHelpdesk is set when demo mode runs the simulated helpdesk.
	demoHelpdesk bool
}

// Load reads the environment and validates it; demo is the -demo flag.
// Every error names the variable at fault; none quotes a secret.
func Load(demo bool) (*Config, error) {
	var c Config
	if err := envconfig.Process(Prefix, &c); err != nil {
		return nil, envError(err)
	}
	if err := c.readSecretFiles(); err != nil {
		return nil, err
	}
	c.Demo = c.Demo || demo
	if c.Demo {
		applyDemoDefaults(&c)
	}
	return &c, c.validate()
}

// envError rewrites envconfig's message to lead with the variable name.
func envError(err error) error {
	var pe *envconfig.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: cannot parse %q as %s", pe.KeyName, pe.Value, pe.TypeName)
	}
	return err
}

// readSecretFiles fills secrets from <NAME>_FILE variables.
func (c *Config) readSecretFiles() error {
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("secret") != "true" {
			continue
		}
		name := Prefix + "_" + f.Tag.Get("envconfig") + "_FILE"
		path := os.Getenv(name)
		if path == "" {
			continue
		}
		if v.Field(i).String() != "" {
			return fmt.Errorf("%s: set both %s and %s; set one", name, strings.TrimSuffix(name, "_FILE"), name)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		v.Field(i).SetString(strings.TrimSpace(string(b)))
	}
	return nil
}

func (c *Config) validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s_%s: %s", Prefix, name, fmt.Sprintf(format, args...)))
	}
	if c.WebConfigFile != "" {
		if err := web.Validate(c.WebConfigFile); err != nil {
			bad("WEB_CONFIG_FILE", "%v", err)
		}
	}
	if c.PollInterval < time.Second {
		bad("POLL_INTERVAL", "%s is too short, want at least 1s", c.PollInterval)
	}
	if c.HTTPTimeout < time.Second {
		bad("HTTP_TIMEOUT", "%s is too short, want at least 1s", c.HTTPTimeout)
	}
	if c.HTTPRetries < 0 || c.HTTPRetries > 20 {
		bad("HTTP_RETRIES", "%d: want 0 to 20", c.HTTPRetries)
	}
	if c.SyncTimeout < time.Second {
		bad("SYNC_TIMEOUT", "%s is too short, want at least 1s", c.SyncTimeout)
	}
	if err := promslog.NewLevel().Set(c.LogLevel); err != nil {
		bad("LOG_LEVEL", "%q: want debug, info, warn or error", c.LogLevel)
	}
	if err := promslog.NewFormat().Set(c.LogFormat); err != nil {
		bad("LOG_FORMAT", "%q: want logfmt or json", c.LogFormat)
	}
	holidays, err := businesshours.ParseHolidays(c.Holidays)
	if err != nil {
		bad("HOLIDAYS", "%v", err)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		bad("TIMEZONE", "unknown time zone %q", c.Timezone)
	} else if c.Calendar, err = businesshours.Parse(c.BusinessHours, c.Timezone, holidays); err != nil {
		bad("BUSINESS_HOURS", "%v", err)
	}
	if c.Labels, err = helpdesk.ParseLabelSet(c.TicketLabels); err != nil {
		bad("TICKET_LABELS", "%v", err)
	}
	if c.Targets, err = parseTargets(c.FirstReplyTargets); err != nil {
		bad("FIRST_REPLY_TARGETS", "%v", err)
	}
	if c.ResTargets, err = parseTargets(c.ResolutionTargets); err != nil {
		bad("RESOLUTION_TARGETS", "%v", err)
	}
	if c.Cost, err = parseSupportCost(c.SupportCost); err != nil {
		bad("SUPPORT_COST_MONTHLY", "%v", err)
	}
	if c.SLAHours != "business" && c.SLAHours != "calendar" {
		bad("SLA_HOURS", "%q: want business or calendar", c.SLAHours)
	}
	if c.MaxLabelValues < 1 {
		bad("MAX_LABEL_VALUES", "%d: want at least 1", c.MaxLabelValues)
	}
	if c.ZendeskPageSize < 1 || c.ZendeskPageSize > 1000 {
		bad("ZENDESK_PAGE_SIZE", "%d: want 1 to 1000", c.ZendeskPageSize)
	}
	if c.ZendeskExportRate < 1 {
		bad("ZENDESK_EXPORT_RATE", "%d: want at least 1", c.ZendeskExportRate)
	}
	if c.ZendeskSubdomain != "" || c.ZendeskURL != "" {
		if c.ZendeskAPIToken == "" && c.ZendeskOAuthToken == "" {
			bad("ZENDESK_API_TOKEN", "Zendesk needs CX_ZENDESK_API_TOKEN (with CX_ZENDESK_EMAIL) or CX_ZENDESK_OAUTH_TOKEN")
		} else if c.ZendeskOAuthToken == "" && c.ZendeskEmail == "" {
			bad("ZENDESK_EMAIL", "API-token auth needs the agent's email")
		}
		if c.ZendeskSubdomain != "" && strings.ContainsAny(c.ZendeskSubdomain, "./:") {
			bad("ZENDESK_SUBDOMAIN", "%q: want the subdomain only (acme for acme.zendesk.com)", c.ZendeskSubdomain)
		}
	}
	if c.StripeAPIKey != "" && !strings.HasPrefix(c.StripeAPIKey, "sk_") && !strings.HasPrefix(c.StripeAPIKey, "rk_") {
		bad("STRIPE_API_KEY", "not a Stripe secret (sk_...) or restricted (rk_...) key")
	}
	if c.StripePageSize < 1 || c.StripePageSize > 100 {
		bad("STRIPE_PAGE_SIZE", "%d: want 1 to 100", c.StripePageSize)
	}
	if u, err := url.Parse(c.StripeURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		if c.StripeURL != "demo" {
			bad("STRIPE_URL", "%q is not an http(s) URL", c.StripeURL)
		}
	}
	for _, v := range vendors {
		if v.validate != nil && v.enabled(c) {
			v.validate(c, bad)
		}
	}
	if _, ok := demoHelpdesks[c.DemoHelpdesk]; !ok {
		bad("DEMO_HELPDESK", "%q: want one of %s", c.DemoHelpdesk, strings.Join(demoHelpdeskNames(), ", "))
	}
	if c.ChargebeeSite != "" || c.ChargebeeURL != "" {
		if c.ChargebeeAPIKey == "" {
			bad("CHARGEBEE_API_KEY", "the Chargebee collector needs an API key")
		}
		if c.ChargebeeURL == "" {
			if _, err := chargebee.SiteURL(c.ChargebeeSite); err != nil {
				bad("CHARGEBEE_SITE", "%v", err)
			}
		}
	}
	if len(errs) == 0 && !c.Demo && len(enabledVendors(c)) == 0 {
		errs = append(errs, errors.New("no source configured: set CX_ZENDESK_SUBDOMAIN, CX_FRESHDESK_DOMAIN, CX_HELPSCOUT_APP_ID, CX_INTERCOM_TOKEN, CX_STRIPE_API_KEY or CX_CHARGEBEE_SITE (with their credentials), or run with -demo / CX_DEMO=true"))
	}
	return errors.Join(errs...)
}

// parseTargets parses "urgent=1h,high=4h,...".
func parseTargets(s string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	for _, kv := range strings.Split(s, ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want priority=duration", kv)
		}
		k = strings.TrimSpace(k)
		if !slices.Contains(helpdesk.Priorities, k) {
			return nil, fmt.Errorf("unknown priority %q, want one of %s", k, strings.Join(helpdesk.Priorities, ","))
		}
		d, err := parseTargetDuration(strings.TrimSpace(v))
		if err != nil || d <= 0 {
			return nil, fmt.Errorf("%q: want a positive duration such as 4h, 90m or 3d", kv)
		}
		out[k] = d
	}
	return out, nil
}

// parseTargetDuration is time.ParseDuration plus whole days ("3d", "1d12h").
func parseTargetDuration(s string) (time.Duration, error) {
	days, rest, ok := strings.Cut(s, "d")
	if !ok {
		return time.ParseDuration(s)
	}
	n, err := strconv.ParseUint(days, 10, 16)
	if err != nil {
		return 0, err
	}
	d := time.Duration(n) * 24 * time.Hour
	if rest != "" {
		r, err := time.ParseDuration(rest)
		if err != nil || r < 0 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		d += r
	}
	return d, nil
}

// SupportCost is a monthly support cost in major units of one currency.
type SupportCost struct {
	Amount   float64
	Currency string // lower-case ISO 4217 code, as billing_mrr's currency label
}

// parseSupportCost parses "25000 USD" (empty: no cost configured).
func parseSupportCost(s string) (SupportCost, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return SupportCost{}, nil
	}
	amount, currency, ok := strings.Cut(s, " ")
	currency = strings.TrimSpace(currency)
	if !ok || len(currency) != 3 || strings.Trim(strings.ToLower(currency), "abcdefghijklmnopqrstuvwxyz") != "" {
		return SupportCost{}, fmt.Errorf("%q: want an amount and an ISO 4217 currency, e.g. 25000 USD", s)
	}
	v, err := strconv.ParseFloat(amount, 64)
	if err != nil || v < 0 || math.IsInf(v, 0) || math.IsNaN(v) {
		return SupportCost{}, fmt.Errorf("%q: the amount is not a non-negative number", amount)
	}
	return SupportCost{Amount: v, Currency: strings.ToLower(currency)}, nil
}

// Usage writes every variable with its default and description.
func Usage(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tDESCRIPTION")
	t := reflect.TypeOf(Config{})
	var rows []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("ignored") == "true" || !f.IsExported() {
			continue
		}
		name := Prefix + "_" + f.Tag.Get("envconfig")
		desc := f.Tag.Get("desc")
		if f.Tag.Get("secret") == "true" {
			desc += " (or " + name + "_FILE)"
		}
		rows = append(rows, fmt.Sprintf("%s\t%s\t%s", name, f.Tag.Get("default"), desc))
	}
	for _, r := range rows {
		fmt.Fprintln(tw, r)
	}
	tw.Flush()
}
