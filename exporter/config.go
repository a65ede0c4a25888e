package exporter

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
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

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk/businesshours"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/state"
)

// Prefix of every environment variable.
const Prefix = "CX"

// Config is the exporter's whole configuration, read from CX_* variables.
// Fields tagged secret also accept <NAME>_FILE.
type Config struct {
	ListenAddress string        `envconfig:"LISTEN_ADDRESS" flag:"web.listen-address" default:":9860" desc:"HTTP listen address"`
	WebConfigFile string        `envconfig:"WEB_CONFIG_FILE" flag:"web.config.file" desc:"exporter-toolkit web config file (TLS, basic auth)"`
	TelemetryPath string        `envconfig:"TELEMETRY_PATH" flag:"web.telemetry-path" default:"/metrics" desc:"path under which the metrics are served"`
	StateDir      string        `envconfig:"STATE_DIR" flag:"state.dir" default:"./data" desc:"directory of the persistent state store"`
	PollInterval  time.Duration `envconfig:"POLL_INTERVAL" default:"60s" desc:"time between syncs of each source"`
	SyncTimeout   time.Duration `envconfig:"SYNC_TIMEOUT" default:"10m" desc:"longest one sync may take before it is abandoned"`
	HTTPTimeout   time.Duration `envconfig:"HTTP_TIMEOUT" default:"30s" desc:"timeout of one upstream HTTP request"`
	HTTPRetries   int           `envconfig:"HTTP_RETRIES" default:"4" desc:"retries of a failed upstream request (transport errors, 5xx, 429)"`
	Demo          bool          `envconfig:"DEMO" default:"false" desc:"run built-in simulated vendor APIs and poll them (also -demo)"`
	LogLevel      string        `envconfig:"LOG_LEVEL" flag:"log.level" default:"info" desc:"debug, info, warn or error"`
	LogFormat     string        `envconfig:"LOG_FORMAT" flag:"log.format" default:"logfmt" desc:"logfmt or json"`

	DemoHelpdesk string `envconfig:"DEMO_HELPDESK" default:"zendesk" desc:"which simulated helpdesk demo mode runs (a helpdesk vendor with a demo)"`
	DemoBilling  string `envconfig:"DEMO_BILLING" default:"stripe" desc:"which simulated billing system demo mode runs (a billing vendor with a demo)"`

	BusinessHours     string `envconfig:"BUSINESS_HOURS" default:"Mon-Fri 09:00-17:00" desc:"weekly working hours for hours=\"business\" durations"`
	Timezone          string `envconfig:"TIMEZONE" default:"UTC" desc:"IANA time zone of the business hours"`
	Holidays          string `envconfig:"HOLIDAYS" desc:"comma-separated dates (2026-12-25) excluded from business hours"`
	FirstReplyTargets string `envconfig:"FIRST_REPLY_TARGETS" default:"urgent=1h,high=4h,normal=8h,low=24h,none=8h" desc:"first-reply SLA target per priority"`
	ResolutionTargets string `envconfig:"RESOLUTION_TARGETS" default:"urgent=4h,high=1d,normal=3d,low=7d,none=3d" desc:"resolution (first solve) SLA target per priority"`
	SupportCost       string `envconfig:"SUPPORT_COST_MONTHLY" desc:"monthly support cost and its ISO 4217 currency, e.g. 25000 USD (cost per solved ticket, cost vs MRR)"`
	SLAHours          string `envconfig:"SLA_HOURS" default:"business" desc:"whether SLA targets count business or calendar time"`
	TicketLabels      string `envconfig:"TICKET_LABELS" default:"priority,channel" desc:"ticket labels to export, from priority,channel,group,ticket_type,brand,assignee"`
	MaxLabelValues    int    `envconfig:"MAX_LABEL_VALUES" default:"50" desc:"distinct values per label; further values are exported as other (assignee keeps the most active agents of the last 30 days)"`
	AgentLabel        string `envconfig:"AGENT_LABEL" default:"name" desc:"assignee label value: name (the agent's display name) or id (the vendor's id, for teams that must not export names)"`

	// Parsed forms, set by Load.
	Labels   helpdesk.LabelSet        `ignored:"true"`
	Calendar *businesshours.Calendar  `ignored:"true"`
	Targets  map[string]time.Duration `ignored:"true"`
	// ResTargets are the parsed CX_RESOLUTION_TARGETS.
	ResTargets map[string]time.Duration `ignored:"true"`
	// Cost is the parsed CX_SUPPORT_COST_MONTHLY; zero Currency when unset.
	Cost SupportCost `ignored:"true"`
	// Vendors holds each registered vendor's configuration, by kind.
	Vendors map[string]any `ignored:"true"`
	// demos are the simulated accounts demo mode started, by kind.
	demos map[string]*source.DemoRun
}

// Load reads the environment and validates it; demo is the -demo flag.
// Every error names the variable at fault; none quotes a secret. In demo
// mode it starts the simulated vendor APIs (idle until StartDemo) and
// points their vendors' configuration at them.
func Load(demo bool) (*Config, error) { return LoadWith(demo, nil) }

// LoadWith is Load with command-line flags: flags maps a flag's name (see
// Flags) to the value given on the command line, which wins over the
// variable.
func LoadWith(demo bool, flags map[string]string) (*Config, error) {
	c := Config{Vendors: map[string]any{}}
	if err := processEnv(&c); err != nil {
		return nil, err
	}
	if err := applyFlags(&c, flags); err != nil {
		return nil, err
	}
	for _, v := range source.Vendors() {
		vc := v.NewConfig()
		if err := processEnv(vc); err != nil {
			return nil, err
		}
		c.Vendors[v.Kind] = vc
	}
	c.Demo = c.Demo || demo
	if c.Demo {
		if err := c.startDemoAPIs(); err != nil {
			c.closeDemo()
			return nil, err
		}
	}
	if err := c.validate(); err != nil {
		c.closeDemo()
		return nil, err
	}
	return &c, nil
}

// CheckState checks the state file in CX_STATE_DIR without opening it
// for writing (`cx-exporter state check`), writing its verdict to w.
func CheckState(w io.Writer) error {
	var c Config
	if err := processEnv(&c); err != nil {
		return err
	}
	return state.CheckFile(w, c.StateDir)
}

// processEnv fills one configuration struct from CX_* variables, then its
// secrets from <NAME>_FILE variables.
func processEnv(spec any) error {
	if err := envconfig.Process(Prefix, spec); err != nil {
		return envError(err)
	}
	return readSecretFiles(spec)
}

// envError rewrites envconfig's message to lead with the variable name.
func envError(err error) error {
	var pe *envconfig.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: cannot parse %q as %s", pe.KeyName, pe.Value, pe.TypeName)
	}
	return err
}

// readSecretFiles fills the secrets of spec (a pointer to a configuration
// struct) from <NAME>_FILE variables.
func readSecretFiles(spec any) error {
	v := reflect.ValueOf(spec).Elem()
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

// secrets lists every configured secret (the fields tagged secret:"true"
// of the vendors' configurations) of at least 4 bytes, longest first. The
// exporter redacts them from any error text it logs or shows, whatever
// produced that text.
func (c *Config) secrets() []string {
	var out []string
	for _, vc := range c.Vendors {
		v := reflect.ValueOf(vc).Elem()
		for i := range v.NumField() {
			f := v.Type().Field(i)
			if f.Tag.Get("secret") == "true" && f.Type.Kind() == reflect.String && len(v.Field(i).String()) >= 4 {
				out = append(out, v.Field(i).String())
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// enabled returns the vendors that the configuration turns on.
func (c *Config) enabled() []source.Registered {
	var out []source.Registered
	for _, v := range source.Vendors() {
		if vc, ok := c.Vendors[v.Kind]; ok && v.Enabled(vc) {
			out = append(out, v)
		}
	}
	return out
}

func (c *Config) validate() error {
	p := &source.Problems{Prefix: Prefix}
	bad := p.Bad
	if c.WebConfigFile != "" {
		if err := web.Validate(c.WebConfigFile); err != nil {
			bad("WEB_CONFIG_FILE", "%v", err)
		}
	}
	if !strings.HasPrefix(c.TelemetryPath, "/") || c.TelemetryPath == "/" || strings.HasPrefix(c.TelemetryPath, "/-/") ||
		strings.ContainsAny(c.TelemetryPath, " {}") {
		bad("TELEMETRY_PATH", "%q: want a path such as /metrics (not /, not under /-/)", c.TelemetryPath)
	}
	if c.PollInterval < time.Second {
		bad("POLL_INTERVAL", "%s is too short, want at least 1s", c.PollInterval)
	}
	if c.HTTPTimeout < time.Second {
		bad("HTTP_TIMEOUT", "%s is too short, want at least 1s", c.HTTPTimeout)
	}
	p.Range("HTTP_RETRIES", c.HTTPRetries, 0, 20)
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
	if c.AgentLabel != source.AgentLabelName && c.AgentLabel != source.AgentLabelID {
		bad("AGENT_LABEL", "%q: want name or id", c.AgentLabel)
	}
	if c.MaxLabelValues < 1 {
		bad("MAX_LABEL_VALUES", "%d: want at least 1", c.MaxLabelValues)
	}
	for _, role := range []struct{ name, role, chosen string }{
		{"DEMO_HELPDESK", source.RoleHelpdesk, c.DemoHelpdesk},
		{"DEMO_BILLING", source.RoleBilling, c.DemoBilling},
	} {
		if names := demoNames(role.role); !slices.Contains(names, role.chosen) {
			bad(role.name, "%q: want one of %s", role.chosen, strings.Join(names, ", "))
		}
	}
	enabled := c.enabled()
	for _, v := range enabled {
		v.Validate(c.Vendors[v.Kind], p)
	}
	if len(p.Errs) == 0 && !c.Demo && len(enabled) == 0 {
		var vars []string
		for _, v := range source.Vendors() {
			vars = append(vars, enablingVariable(v))
		}
		p.Errs = append(p.Errs, fmt.Errorf("no source configured: set one of %s (with its credentials), or run with -demo / CX_DEMO=true", strings.Join(vars, ", ")))
	}
	return errors.Join(p.Errs...)
}

// enablingVariable is the first variable of a vendor's configuration: the
// one that turns it on.
func enablingVariable(v source.Registered) string {
	t := reflect.TypeOf(v.NewConfig()).Elem()
	if t.NumField() == 0 {
		return v.Kind
	}
	return Prefix + "_" + t.Field(0).Tag.Get("envconfig")
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

// Variable is one environment variable the exporter reads.
type Variable struct {
	Name, Default, Desc string
	Secret              bool   // also read from <Name>_FILE
	Flag                string // the command-line flag that sets it too, if any
}

// Flags lists the variables that a command-line flag also sets (the
// Prometheus ecosystem's --web.listen-address, --web.config.file,
// --web.telemetry-path, --log.level, --log.format and --state.dir).
func Flags() []Variable {
	var out []Variable
	for _, v := range structVariables(reflect.TypeFor[Config]()) {
		if v.Flag != "" {
			out = append(out, v)
		}
	}
	return out
}

// applyFlags sets the fields of c named by flags (flag name → value).
func applyFlags(c *Config, flags map[string]string) error {
	if len(flags) == 0 {
		return nil
	}
	flags = maps.Clone(flags)
	v := reflect.ValueOf(c).Elem()
	t := v.Type()
	for i := range t.NumField() {
		name := t.Field(i).Tag.Get("flag")
		val, ok := flags[name]
		if name == "" || !ok {
			continue
		}
		if v.Field(i).Kind() != reflect.String {
			return fmt.Errorf("--%s: not a string option", name)
		}
		v.Field(i).SetString(val)
		delete(flags, name)
	}
	for name := range flags {
		return fmt.Errorf("--%s: unknown flag", name)
	}
	return nil
}

// Variables lists every variable: the process's own, then each registered
// vendor's, by vendor kind.
func Variables() []Variable {
	out := structVariables(reflect.TypeFor[Config]())
	for _, v := range source.Vendors() {
		out = append(out, structVariables(reflect.TypeOf(v.NewConfig()).Elem())...)
	}
	return out
}

func structVariables(t reflect.Type) []Variable {
	var out []Variable
	for i := range t.NumField() {
		f := t.Field(i)
		name, ok := f.Tag.Lookup("envconfig")
		if !ok || f.Tag.Get("ignored") == "true" || !f.IsExported() {
			continue
		}
		out = append(out, Variable{
			Name: Prefix + "_" + name, Default: f.Tag.Get("default"), Desc: f.Tag.Get("desc"),
			Secret: f.Tag.Get("secret") == "true", Flag: f.Tag.Get("flag"),
		})
	}
	return out
}

// Usage writes every variable with its default and description.
func Usage(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VARIABLE\tDEFAULT\tDESCRIPTION")
	for _, v := range Variables() {
		desc := v.Desc
		if v.Secret {
			desc += " (or " + v.Name + "_FILE)"
		}
		if v.Flag != "" {
			desc += " (or --" + v.Flag + ", which wins)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Name, v.Default, desc)
	}
	tw.Flush()
}
