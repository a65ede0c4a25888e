package gen

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/yaml"
)

// Thresholds are the numbers the rules alert on. Every field can be
// overridden with -thresholds FILE, a JSON object whose keys are the field
// names below (for example {"CSATMin": 0.85, "OldestTicketMaxAge": "3d"});
// fields left out keep their defaults. Durations are strings in Prometheus
// notation ("90s", "15m", "1h30m", "7d", "1w").
type Thresholds struct {
	// Selector is a list of label matchers added to every selector of an
	// exporter metric, e.g. `job="cx-exporter"` or
	// `job="cx-exporter", namespace="support"`: it keeps the rules on the
	// series of one deployment when Prometheus scrapes several. Empty: no
	// matcher (every series of the exporter's metrics). The Helm chart
	// fills it with its own job and namespace when left empty.
	Selector string `json:"Selector"`
	// AggregateBy are the labels every aggregation keeps besides its own
	// (source, currency, hours…), so that deployments, namespaces or
	// clusters are never summed together; labels a series lacks are
	// harmless. Not "instance": a restarted pod is a new instance, and the
	// counters carry on across restarts.
	AggregateBy []string `json:"AggregateBy"`
	// RunbookBaseURL is the page of the runbooks; each alert's runbook_url
	// is it plus "#" and the alert's name in lower case.
	RunbookBaseURL string `json:"RunbookBaseURL"`
	// ExtraLabels are added to every alert, e.g. {"team": "support-sre"},
	// for Alertmanager routing. Every alert also has category (support,
	// billing or exporter) and severity.
	ExtraLabels map[string]string `json:"ExtraLabels"`

	// BacklogSpikeRatio: HelpdeskBacklogSpike fires when the backlog is more
	// than this many times the backlog at the same time a week earlier.
	BacklogSpikeRatio float64 `json:"BacklogSpikeRatio"`
	// BacklogSpikeFloor: HelpdeskBacklogSpike never fires at or below this
	// many unresolved tickets. When there is no backlog a week earlier (a new
	// install), the alert fires above BacklogSpikeRatio × BacklogSpikeFloor:
	// a missing baseline counts as the floor.
	BacklogSpikeFloor float64  `json:"BacklogSpikeFloor"`
	BacklogSpikeFor   Duration `json:"BacklogSpikeFor"`
	// BacklogSpikeSeverity: a business alert, "warning" (a ticket) by
	// default; "critical" to page.
	BacklogSpikeSeverity string `json:"BacklogSpikeSeverity"`

	// FirstReplySLO is the objective: this share of tickets gets its first
	// reply within its priority's target. The targets and their hours are
	// the exporter's (CX_FIRST_REPLY_TARGETS, CX_SLA_HOURS), so the SLO, the
	// SLA gauges and the achievement panels share one truth.
	FirstReplySLO float64 `json:"FirstReplySLO"`
	// ResolutionSLO is the same for the first solve against
	// CX_RESOLUTION_TARGETS.
	ResolutionSLO float64 `json:"ResolutionSLO"`
	// SLOFastBurnSeverity is the severity of the 1h/5m and 6h/30m burn-rate
	// alerts (the workbook's pages), SLOSlowBurnSeverity that of the 1d/2h
	// and 3d/6h ones. Business alerts: "warning" by default.
	SLOFastBurnSeverity string `json:"SLOFastBurnSeverity"`
	SLOSlowBurnSeverity string `json:"SLOSlowBurnSeverity"`

	// SLABreachedMax: HelpdeskFirstReplySLABreached fires when more tickets
	// than this await a first reply past their CX_FIRST_REPLY_TARGETS target
	// (a floor: one forgotten ticket is the SLO burn alerts' business, not a
	// reason to open a ticket).
	SLABreachedMax float64  `json:"SLABreachedMax"`
	SLABreachedFor Duration `json:"SLABreachedFor"`

	// OldestTicketMaxAge: HelpdeskOldestTicketTooOld fires when an
	// unresolved ticket is older than this.
	OldestTicketMaxAge Duration `json:"OldestTicketMaxAge"`
	OldestTicketFor    Duration `json:"OldestTicketFor"`

	// CSATMin: HelpdeskCSATDrop fires when CSAT (good / (good + neutral +
	// bad)) over 7 days is below this and at least CSATMinRatings ratings
	// arrived in those 7 days.
	CSATMin        float64  `json:"CSATMin"`
	CSATMinRatings float64  `json:"CSATMinRatings"`
	CSATDropFor    Duration `json:"CSATDropFor"`

	// ReopenRateMax: HelpdeskReopenRateHigh fires when reopens / solves over
	// 7 days is above this and at least ReopenMinSolves solves happened in
	// those 7 days.
	ReopenRateMax   float64  `json:"ReopenRateMax"`
	ReopenMinSolves float64  `json:"ReopenMinSolves"`
	ReopenRateFor   Duration `json:"ReopenRateFor"`

	// ChurnMax: BillingChurnSpike fires when the 30-day customer churn ratio
	// is above this and the source has at least ChurnMinCustomers active
	// customers (billing_active_customers summed over currencies: a
	// customer paying in two currencies counts twice). Below that floor
	// one cancellation is a large share, and the alert stays silent.
	ChurnMax          float64  `json:"ChurnMax"`
	ChurnMinCustomers float64  `json:"ChurnMinCustomers"`
	ChurnSpikeFor     Duration `json:"ChurnSpikeFor"`
	// ChurnSpikeSeverity is BillingChurnSpike's severity label
	// ("critical", "warning" or "info").
	ChurnSpikeSeverity string `json:"ChurnSpikeSeverity"`

	// MRRDropMax: BillingMRRDrop fires when the MRR of a currency is lower
	// than a day earlier by more than this share of it, and that MRR a day
	// earlier was at least MRRDropMinMRR (major units of the currency):
	// below that floor one cancellation is a large share, and the alert
	// stays silent.
	MRRDropMax    float64  `json:"MRRDropMax"`
	MRRDropMinMRR float64  `json:"MRRDropMinMRR"`
	MRRDropFor    Duration `json:"MRRDropFor"`
	// MRRDropSeverity is BillingMRRDrop's severity label ("critical",
	// "warning" or "info").
	MRRDropSeverity string `json:"MRRDropSeverity"`

	// SourceDownFor: how long a source's syncs must keep failing before
	// CxExporterSourceDown fires.
	SourceDownFor Duration `json:"SourceDownFor"`
	// SourceDownSeverity: CxExporterSourceDown's severity ("critical" pages
	// whoever runs the exporter).
	SourceDownSeverity string `json:"SourceDownSeverity"`
	// SyncStaleAfter: CxExporterSyncStale fires when the last successful
	// sync is older than this, or when a source has had no successful sync
	// for this long since the exporter started.
	SyncStaleAfter Duration `json:"SyncStaleAfter"`
	// RateLimitedFor: how long upstream must keep answering 429 before
	// CxExporterRateLimited fires.
	RateLimitedFor Duration `json:"RateLimitedFor"`
	// RecordsRejectedMax: CxExporterRecordsRejected fires when more records
	// than this were rejected in the last hour, for RecordsRejectedFor (one
	// bad record is logged and counted, and is no reason to open a ticket).
	RecordsRejectedMax float64  `json:"RecordsRejectedMax"`
	RecordsRejectedFor Duration `json:"RecordsRejectedFor"`
}

// DefaultThresholds are the thresholds of the committed rules file.
func DefaultThresholds() Thresholds {
	return Thresholds{
		Selector:       "",
		AggregateBy:    []string{"namespace", "job"},
		RunbookBaseURL: "https://github.com/cx-exporter/cx-exporter/blob/main/docs/runbooks.md",
		ExtraLabels:    map[string]string{},

		BacklogSpikeRatio:    1.5,
		BacklogSpikeFloor:    50,
		BacklogSpikeFor:      Duration(15 * time.Minute),
		BacklogSpikeSeverity: "warning",

		FirstReplySLO:       0.95,
		ResolutionSLO:       0.95,
		SLOFastBurnSeverity: "warning",
		SLOSlowBurnSeverity: "warning",

		SLABreachedMax: 5,
		SLABreachedFor: Duration(15 * time.Minute),

		OldestTicketMaxAge: Duration(7 * 24 * time.Hour),
		OldestTicketFor:    Duration(15 * time.Minute),

		CSATMin:        0.8,
		CSATMinRatings: 20,
		CSATDropFor:    Duration(time.Hour),

		ReopenRateMax:   0.1,
		ReopenMinSolves: 20,
		ReopenRateFor:   Duration(time.Hour),

		ChurnMax:           0.05,
		ChurnMinCustomers:  20,
		ChurnSpikeFor:      Duration(time.Hour),
		ChurnSpikeSeverity: "warning",

		MRRDropMax:      0.1,
		MRRDropMinMRR:   1000,
		MRRDropFor:      Duration(15 * time.Minute),
		MRRDropSeverity: "warning",

		SourceDownFor:      Duration(10 * time.Minute),
		SourceDownSeverity: "critical",
		SyncStaleAfter:     Duration(15 * time.Minute),
		RateLimitedFor:     Duration(30 * time.Minute),
		RecordsRejectedMax: 10,
		RecordsRejectedFor: Duration(15 * time.Minute),
	}
}

// loadThresholds applies the JSON (or YAML) overrides in data to the
// defaults.
func loadThresholds(data []byte) (Thresholds, error) {
	t := DefaultThresholds()
	if !strings.HasPrefix(strings.TrimSpace(string(data)), "{") {
		var err error
		if data, err = yaml.YAMLToJSON(data); err != nil {
			return t, err
		}
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&t); err != nil {
		return t, err
	}
	if dec.More() {
		return t, errors.New("trailing data after the JSON object")
	}
	return t, nil
}

// Validate reports thresholds that would produce rules that never or always
// fire.
func (t Thresholds) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}
	finite := func(field string, v float64) bool {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			bad(field, "%v is not a number", v)
			return false
		}
		return true
	}
	ratio := func(field string, v float64) {
		if finite(field, v) && (v <= 0 || v >= 1) {
			bad(field, "%v is not a ratio between 0 and 1 (exclusive)", v)
		}
	}
	nonNegative := func(field string, v float64) {
		if finite(field, v) && v < 0 {
			bad(field, "%v is negative", v)
		}
	}
	positive := func(field string, d Duration) {
		if d <= 0 {
			bad(field, "%s is not a positive duration", d)
		}
	}
	if finite("BacklogSpikeRatio", t.BacklogSpikeRatio) && t.BacklogSpikeRatio <= 1 {
		bad("BacklogSpikeRatio", "%v is not above 1", t.BacklogSpikeRatio)
	}
	nonNegative("BacklogSpikeFloor", t.BacklogSpikeFloor)
	for field, slo := range map[string]float64{"FirstReplySLO": t.FirstReplySLO, "ResolutionSLO": t.ResolutionSLO} {
		ratio(field, slo)
		if fastest := burnRates[0].factor; slo > 0 && slo < 1 && fastest*(1-slo) >= 1 {
			bad(field, "%v leaves an error budget so large that a burn rate of %v can never happen (want above %.4f)",
				slo, fastest, 1-1/fastest)
		}
	}
	nonNegative("SLABreachedMax", t.SLABreachedMax)
	positive("OldestTicketMaxAge", t.OldestTicketMaxAge)
	ratio("CSATMin", t.CSATMin)
	nonNegative("CSATMinRatings", t.CSATMinRatings)
	ratio("ReopenRateMax", t.ReopenRateMax)
	nonNegative("ReopenMinSolves", t.ReopenMinSolves)
	ratio("ChurnMax", t.ChurnMax)
	nonNegative("ChurnMinCustomers", t.ChurnMinCustomers)
	ratio("MRRDropMax", t.MRRDropMax)
	nonNegative("MRRDropMinMRR", t.MRRDropMinMRR)
	for field, sev := range map[string]string{"ChurnSpikeSeverity": t.ChurnSpikeSeverity, "MRRDropSeverity": t.MRRDropSeverity,
		"BacklogSpikeSeverity": t.BacklogSpikeSeverity, "SLOFastBurnSeverity": t.SLOFastBurnSeverity,
		"SLOSlowBurnSeverity": t.SLOSlowBurnSeverity, "SourceDownSeverity": t.SourceDownSeverity} {
		if sev != "critical" && sev != "warning" && sev != "info" {
			bad(field, "%q is not critical, warning or info", sev)
		}
	}
	positive("SyncStaleAfter", t.SyncStaleAfter)
	nonNegative("RecordsRejectedMax", t.RecordsRejectedMax)
	for field, d := range map[string]Duration{
		"BacklogSpikeFor": t.BacklogSpikeFor, "SLABreachedFor": t.SLABreachedFor,
		"OldestTicketFor": t.OldestTicketFor, "CSATDropFor": t.CSATDropFor,
		"ReopenRateFor": t.ReopenRateFor, "ChurnSpikeFor": t.ChurnSpikeFor,
		"MRRDropFor": t.MRRDropFor, "SourceDownFor": t.SourceDownFor,
		"RateLimitedFor": t.RateLimitedFor, "RecordsRejectedFor": t.RecordsRejectedFor,
	} {
		if d < 0 {
			bad(field, "%s is negative", d)
		}
	}
	if len(t.AggregateBy) == 0 {
		bad("AggregateBy", "empty: want at least one label, e.g. [\"job\"]")
	}
	for _, l := range t.AggregateBy {
		if !labelNameRE.MatchString(l) || l == "source" || l == "le" {
			bad("AggregateBy", "%q is not a label name to keep (source and le are kept where they matter)", l)
		}
	}
	for k, v := range t.ExtraLabels {
		if !labelNameRE.MatchString(k) || k == "severity" || k == "category" || strings.HasPrefix(k, "__") {
			bad("ExtraLabels", "%q is not a label name an alert can take (severity and category are set by the rules)", k)
		}
		if strings.ContainsAny(v, "'{}") {
			bad("ExtraLabels", "%s: %q has a quote or brace", k, v)
		}
	}
	if t.Selector != "" && (!selectorRE.MatchString(t.Selector) || strings.Contains(t.Selector, "'")) {
		bad("Selector", "%q is not a list of label matchers such as job=\"cx-exporter\", namespace=~\"support|billing\"", t.Selector)
	}
	if !strings.HasPrefix(t.RunbookBaseURL, "http://") && !strings.HasPrefix(t.RunbookBaseURL, "https://") || strings.ContainsAny(t.RunbookBaseURL, "#'{} ") {
		bad("RunbookBaseURL", "%q is not an http(s) URL without a fragment", t.RunbookBaseURL)
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

var (
	labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	matcherRE   = `[a-zA-Z_][a-zA-Z0-9_]*\s*(=|!=|=~|!~)\s*"(?:[^"\\]|\\.)*"`
	selectorRE  = regexp.MustCompile(`^\s*` + matcherRE + `(\s*,\s*` + matcherRE + `)*\s*$`)
)

// Duration is a time.Duration written in Prometheus notation ("15m", "7d").
type Duration time.Duration

var durationRE = regexp.MustCompile(`^(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$`)

// ParseDuration parses Prometheus notation: whole weeks, days, hours,
// minutes and seconds, largest first ("1d12h", "90s").
func ParseDuration(s string) (Duration, error) {
	m := durationRE.FindStringSubmatch(s)
	if s == "" || m == nil {
		return 0, fmt.Errorf("invalid duration %q, want e.g. 90s, 15m, 1h30m, 7d", s)
	}
	var d time.Duration
	for i, unit := range []time.Duration{7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second} {
		if m[i+1] == "" {
			continue
		}
		n, err := strconv.ParseInt(m[i+1], 10, 64)
		if err != nil || n > int64(math.MaxInt64/unit) || d > math.MaxInt64-time.Duration(n)*unit {
			return 0, fmt.Errorf("duration %q is too long", s)
		}
		d += time.Duration(n) * unit
	}
	return Duration(d), nil
}

// String writes d in days, hours, minutes and seconds ("7d", "1h30m", "0s").
func (d Duration) String() string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		d = -d
	}
	rest := time.Duration(d).Round(time.Second)
	for _, u := range []struct {
		name string
		d    time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}} {
		if n := rest / u.d; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, u.name)
			rest -= n * u.d
		}
	}
	return b.String()
}

// Seconds is d in seconds.
func (d Duration) Seconds() float64 { return time.Duration(d).Seconds() }

// MarshalJSON writes d as a string in Prometheus notation.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a string in Prometheus notation.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"15m\": %w", err)
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}
