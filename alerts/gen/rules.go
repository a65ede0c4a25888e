package gen

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// runbookBase is where the runbooks are published; each alert links to the
// heading named after it.
const runbookBase = "https://github.com/cx-exporter/cx-exporter/blob/main/docs/runbooks.md"

type group struct {
	Name  string
	Rules []rule
}

// rule is a recording rule (Record set) or an alerting rule (Alert set).
type rule struct {
	Record, Alert string
	Expr          string
	For           Duration
	Labels        []kv
	Annotations   []kv
}

type kv struct{ Key, Value string }

// num writes a threshold the way a person would ("0.95", "50", "604800").
func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// leMatcher selects the bucket with upper bound seconds. Prometheus 3
// normalises le values to floats on ingestion ("3600" becomes "3600.0"), so
// the matcher accepts both spellings.
func leMatcher(seconds float64) string {
	plain := strconv.FormatFloat(seconds, 'f', -1, 64)
	norm := strconv.FormatFloat(seconds, 'g', -1, 64)
	if !strings.ContainsAny(norm, ".eE") {
		norm += ".0"
	}
	return "le=~" + strconv.Quote(regexp.QuoteMeta(plain)+"|"+regexp.QuoteMeta(norm))
}

func alert(name, severity, expr string, forDur Duration, summary, description string, extraLabels ...kv) rule {
	return rule{
		Alert:  name,
		Expr:   expr,
		For:    forDur,
		Labels: append([]kv{{"severity", severity}}, extraLabels...),
		Annotations: []kv{
			{"summary", summary},
			{"description", description},
			{"runbook_url", runbookBase + "#" + strings.ToLower(name)},
		},
	}
}

func record(name, expr string) rule { return rule{Record: name, Expr: expr} }

// sloWindows are the windows of the first-reply SLO compliance ratios: the
// long and short windows of the burn-rate alerts.
var sloWindows = []string{"5m", "30m", "1h", "2h", "6h", "1d", "3d"}

// burnRates are the multi-window, multi-burn-rate alerts of the Google SRE
// workbook ("Alerting on SLOs", table 5-8): 2% of a 30-day error budget spent
// in 1 hour or 5% in 6 hours pages; 10% in 3 days opens a ticket, and so does
// a budget burning 3 times too fast for a day.
var burnRates = []struct {
	long, short string
	factor      float64
	fast        bool // the workbook's pages: SLOFastBurnSeverity, else SLOSlowBurnSeverity
	forDur      string
}{
	{"1h", "5m", 14.4, true, "2m"},
	{"6h", "30m", 6, true, "15m"},
	{"1d", "2h", 3, false, "1h"},
	{"3d", "6h", 1, false, "3h"},
}

func mustDuration(s string) Duration {
	d, err := ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

// ruleGroups builds every rule group with thresholds t. Each alert sits in
// the group of the recording rules it reads, after them: rules in a group
// run in order, so an alert sees the values recorded in the same
// evaluation, not those of the previous one.
func ruleGroups(t Thresholds) []group {
	helpdesk := helpdeskRecording()
	helpdesk.Rules = append(helpdesk.Rules, helpdeskAlerts(t)...)
	slo := sloRecording(t)
	slo.Rules = append(slo.Rules, sloAlerts(t)...)
	billing := billingRecording()
	billing.Rules = append(billing.Rules, billingKPIs()...)
	billing.Rules = append(billing.Rules, billingAlerts(t)...)
	return []group{helpdesk, slo, billing, exporterAlerts(t), agentsRecording()}
}

func helpdeskRecording() group {
	g := group{Name: "cx-exporter-helpdesk"}
	g.Rules = append(g.Rules,
		record("source:helpdesk_open_tickets:sum",
			`sum by (source) (helpdesk_open_tickets)`),
		record("source:helpdesk_tickets_created:rate1h",
			`sum by (source) (rate(helpdesk_tickets_created_total[1h]))`),
		record("source:helpdesk_tickets_solved:rate1h",
			`sum by (source) (rate(helpdesk_tickets_solved_total[1h]))`),
	)
	for _, metric := range []string{"helpdesk_first_reply_seconds", "helpdesk_resolution_seconds"} {
		for _, window := range []string{"1h", "1d"} {
			for _, q := range []struct {
				name string
				q    float64
			}{{"p50", 0.5}, {"p90", 0.9}} {
				g.Rules = append(g.Rules, record(
					fmt.Sprintf("source_hours:%s:%s_rate%s", metric, q.name, window),
					histogramQuantile(num(q.q), metric, "source, hours", window)))
			}
		}
	}
	// Means next to the quantiles: how targets are usually stated ("average
	// first response under 30 minutes").
	for _, metric := range []string{"helpdesk_first_reply_seconds", "helpdesk_resolution_seconds"} {
		for _, window := range []string{"1h", "1d"} {
			g.Rules = append(g.Rules, record(
				fmt.Sprintf("source_hours:%s:mean_rate%s", metric, window),
				histogramSum(metric, "source, hours", window)+"\n/\n"+histogramCount(metric, "source, hours", window)))
		}
	}
	g.Rules = append(g.Rules,
		// FCR and one-touch are per ticket: over first solves only (the
		// replies histogram is observed at a ticket's first solve).
		record("source:helpdesk_first_contact_resolution:ratio_rate7d", `
sum by (source) (rate(helpdesk_tickets_solved_first_contact_total[7d]))
/
sum by (source) (rate(helpdesk_tickets_first_solved_total[7d]))`),
		record("source:helpdesk_one_touch_resolution:ratio_rate7d",
			histogramFractionBelow("helpdesk_replies_per_solved_ticket", 1, "source", "7d")),
		record("source:helpdesk_reopen:ratio_rate7d", `
sum by (source) (rate(helpdesk_tickets_reopened_total[7d]))
/
sum by (source) (rate(helpdesk_tickets_solved_total[7d]))`),
		record("source:helpdesk_resolution_rate:ratio_rate7d", `
sum by (source) (rate(helpdesk_tickets_solved_total[7d]))
/
sum by (source) (rate(helpdesk_tickets_created_total[7d]))`),
		// CSAT as the industry counts it: good / all ratings, neutral
		// answers included in the denominator.
		record("source:helpdesk_csat:ratio_rate7d", `
sum by (source) (rate(helpdesk_satisfaction_ratings_total{rating="good"}[7d]))
/
sum by (source) (rate(helpdesk_satisfaction_ratings_total[7d]))`),
		record("source:helpdesk_customer_effort_score:mean_rate7d",
			histogramSum("helpdesk_customer_effort_score", "source", "7d")+"\n/\n"+histogramCount("helpdesk_customer_effort_score", "source", "7d")),
		// The monthly cost over the solves of the last 30 days, and as a
		// share of the MRR in the same currency (never across currencies).
		record("currency:helpdesk_cost_per_solved_ticket:ratio30d", `
sum by (currency) (helpdesk_support_cost_monthly)
/ on () group_left
sum(increase(helpdesk_tickets_solved_total[30d]))`),
		record("currency:helpdesk_support_cost_mrr:ratio", `
sum by (currency) (helpdesk_support_cost_monthly)
/
sum by (currency) (billing_mrr)`),
		// A category nobody has answered yet may have no series: count it
		// as zero rather than losing the score.
		record("source:helpdesk_nps:score30d", `
100 * (
    (
        sum by (source) (increase(helpdesk_nps_responses_total{category="promoter"}[30d]))
      or
        0 * sum by (source) (increase(helpdesk_nps_responses_total[30d]))
    )
  -
    (
        sum by (source) (increase(helpdesk_nps_responses_total{category="detractor"}[30d]))
      or
        0 * sum by (source) (increase(helpdesk_nps_responses_total[30d]))
    )
)
/
sum by (source) (increase(helpdesk_nps_responses_total[30d]))`),
	)
	return g
}

// slos are the SLAs whose counters the SLO ratios and burn-rate alerts
// read: the fraction of tickets that met their per-priority target, the
// same truth as the SLA gauges and the achievement panels.
var slos = []struct {
	name, metric, alert, what, targets string
	objective                          func(Thresholds) float64
}{
	{"first_reply", "helpdesk_first_reply_sla_total", "HelpdeskFirstReplySLOBurn", "first replies", "CX_FIRST_REPLY_TARGETS",
		func(t Thresholds) float64 { return t.FirstReplySLO }},
	{"resolution", "helpdesk_resolution_sla_total", "HelpdeskResolutionSLOBurn", "first solves", "CX_RESOLUTION_TARGETS",
		func(t Thresholds) float64 { return t.ResolutionSLO }},
}

func sloRecording(Thresholds) group {
	g := group{Name: "cx-exporter-helpdesk-slo"}
	for _, s := range slos {
		for _, w := range sloWindows {
			g.Rules = append(g.Rules, record("source:helpdesk_"+s.name+"_slo:ratio_rate"+w, fmt.Sprintf(`
sum by (source) (rate(%[1]s{result="met"}[%[2]s]))
/
sum by (source) (rate(%[1]s[%[2]s]))`, s.metric, w)))
		}
	}
	return g
}

func billingRecording() group {
	return group{Name: "cx-exporter-billing", Rules: []rule{
		record("source:billing_customer_churn:ratio30d",
			`max by (source) (billing_customer_churn_ratio{window="30d"})`),
		// Differences of the sums, not sums of per-plan deltas: a plan
		// created or emptied during the window still counts from or to zero.
		record("source_currency:billing_mrr:delta1d", `
sum by (source, currency) (billing_mrr)
-
sum by (source, currency) (billing_mrr offset 1d)`),
		record("source_currency:billing_mrr:ratio_delta30d", `
(
    sum by (source, currency) (billing_mrr)
  -
    sum by (source, currency) (billing_mrr offset 30d)
)
/
sum by (source, currency) (billing_mrr offset 30d)`),
	}}
}

// billingKPIs are the subscription-analytics figures of Stripe's and
// ChartMogul's first row, per source and currency (money is never summed
// across currencies). They read the recorded churn ratio, so they follow
// billingRecording in the group.
func billingKPIs() []rule {
	return []rule{
		// ARR: annual run rate, 12 × MRR.
		record("source_currency:billing_arr:sum",
			`12 * sum by (source, currency) (billing_mrr)`),
		// ARPA: average revenue per account, MRR / active customers of
		// the currency; absent without one.
		record("source_currency:billing_arpa:ratio", `
sum by (source, currency) (billing_mrr)
/
(sum by (source, currency) (billing_active_customers) > 0)`),
		// LTV: ARPA / the monthly (30-day) customer churn ratio; absent
		// while nobody churned (it would be infinite).
		record("source_currency:billing_ltv:ratio", `
source_currency:billing_arpa:ratio
/ on (source) group_left ()
(source:billing_customer_churn:ratio30d > 0)`),
		// Quick ratio: MRR gained (new, expansion, reactivation) / MRR
		// lost (contraction, churn) over 30 days; absent while nothing
		// was lost.
		record("source_currency:billing_mrr_quick:ratio_increase30d", `
sum by (source, currency) (increase(billing_mrr_movements_total{kind=~"new|expansion|reactivation"}[30d]))
/
(sum by (source, currency) (increase(billing_mrr_movements_total{kind=~"contraction|churn"}[30d])) > 0)`),
		// Trial conversion: trials that converted / trials that ended
		// (converted or canceled) over 30 days; absent while none ended.
		record("source:billing_trial_conversion:ratio_increase30d", `
sum by (source) (increase(billing_trials_converted_total[30d]))
/
(
    (
        sum by (source) (increase(billing_trials_converted_total[30d]))
      +
        sum by (source) (increase(billing_trials_canceled_total[30d]))
    )
  > 0
)`),
	}
}

func helpdeskAlerts(t Thresholds) []rule {
	ratio, floor := num(t.BacklogSpikeRatio), num(t.BacklogSpikeFloor)
	rules := []rule{alert("HelpdeskBacklogSpike", t.BacklogSpikeSeverity, fmt.Sprintf(`
source:helpdesk_open_tickets:sum > %[2]s
and on (source)
(
    source:helpdesk_open_tickets:sum > %[1]s * sum by (source) (helpdesk_open_tickets offset 1w)
  or
    (
        source:helpdesk_open_tickets:sum > %[1]s * %[2]s
      unless on (source)
        sum by (source) (helpdesk_open_tickets offset 1w)
    )
)`, ratio, floor),
		t.BacklogSpikeFor,
		"The helpdesk backlog grew far beyond last week's.",
		fmt.Sprintf(`{{ $labels.source }} has {{ $value | humanize }} unresolved tickets; at the same time last week it had {{ with printf "sum(helpdesk_open_tickets{source=%%q, job=%%q} offset 1w)" $labels.source $labels.job | query }}{{ . | first | value | humanize }}{{ else }}no data (new install: the alert fires above %[1]s × %[2]s){{ end }}. The alert fires above %[1]s × last week's backlog when that is above %[2]s.`, ratio, floor))}

	rules = append(rules,
		alert("HelpdeskFirstReplySLABreached", "warning",
			fmt.Sprintf(`sum by (source) (helpdesk_first_reply_sla_tickets{state="breached"}) > %s`, num(t.SLABreachedMax)),
			t.SLABreachedFor,
			"Tickets are waiting for a first reply past their SLA target.",
			fmt.Sprintf(`{{ $value | humanize }} tickets of {{ $labels.source }} are still waiting for a first reply past their target in CX_FIRST_REPLY_TARGETS (alert above %s).`, num(t.SLABreachedMax))),
		alert("HelpdeskOldestTicketTooOld", "warning",
			fmt.Sprintf(`max by (source) (helpdesk_open_ticket_oldest_age_seconds) > %s`, num(t.OldestTicketMaxAge.Seconds())),
			t.OldestTicketFor,
			"An unresolved ticket is very old.",
			fmt.Sprintf(`The oldest unresolved ticket of {{ $labels.source }} was created {{ $value | humanizeDuration }} ago (alert above %s).`, t.OldestTicketMaxAge)),
		alert("HelpdeskCSATDrop", "warning", fmt.Sprintf(`
source:helpdesk_csat:ratio_rate7d < %s
and on (source)
sum by (source) (increase(helpdesk_satisfaction_ratings_total[7d])) >= %s`,
			num(t.CSATMin), num(t.CSATMinRatings)),
			t.CSATDropFor,
			"Customer satisfaction dropped.",
			fmt.Sprintf(`CSAT of {{ $labels.source }} over the last 7 days is {{ $value | humanizePercentage }}: good ratings of all ratings, neutral ones included (alert below %s with at least %s ratings).`,
				humanPercent(t.CSATMin), num(t.CSATMinRatings))),
		alert("HelpdeskReopenRateHigh", "warning", fmt.Sprintf(`
source:helpdesk_reopen:ratio_rate7d > %s
and on (source)
sum by (source) (increase(helpdesk_tickets_solved_total[7d])) >= %s`,
			num(t.ReopenRateMax), num(t.ReopenMinSolves)),
			t.ReopenRateFor,
			"Many solved tickets are reopened.",
			fmt.Sprintf(`{{ $labels.source }} reopened {{ $value | humanizePercentage }} as many tickets as it solved over the last 7 days (alert above %s with at least %s solves).`,
				humanPercent(t.ReopenRateMax), num(t.ReopenMinSolves))),
	)
	return rules
}

func sloAlerts(t Thresholds) []rule {
	var rules []rule
	for _, s := range slos {
		slo := num(s.objective(t))
		sloPercent := humanPercent(s.objective(t))
		for _, b := range burnRates {
			severity := t.SLOSlowBurnSeverity
			if b.fast {
				severity = t.SLOFastBurnSeverity
			}
			rules = append(rules, alert(s.alert, severity, fmt.Sprintf(`
(1 - source:helpdesk_%[5]s_slo:ratio_rate%[1]s) / (1 - %[3]s) > %[4]s
and on (source)
(1 - source:helpdesk_%[5]s_slo:ratio_rate%[2]s) / (1 - %[3]s) > %[4]s`, b.long, b.short, slo, num(b.factor), s.name),
				mustDuration(b.forDur),
				strings.ToUpper(s.what[:1])+s.what[1:]+" are burning the SLO's error budget too fast.",
				fmt.Sprintf(`{{ $labels.source }} misses the %[3]s targets of too many tickets: over the last %[1]s and %[2]s, the error budget of the %[4]s SLO (%[4]s of %[6]s within target) burned {{ $value | humanize }} times as fast as a 30-day budget allows (alert above %[5]s).`,
					b.long, b.short, s.targets, sloPercent, num(b.factor), s.what),
				kv{"window", b.long}))
		}
	}
	return rules
}

func billingAlerts(t Thresholds) []rule {
	return []rule{
		alert("BillingChurnSpike", t.ChurnSpikeSeverity, fmt.Sprintf(`
source:billing_customer_churn:ratio30d > %s
and on (source)
sum by (source) (billing_active_customers) >= %s`, num(t.ChurnMax), num(t.ChurnMinCustomers)),
			t.ChurnSpikeFor,
			"Customer churn is high.",
			fmt.Sprintf(`{{ $labels.source }} lost {{ $value | humanizePercentage }} of its customers (those active 30 days ago and those new since) over the last 30 days (alert above %s with at least %s active customers).`,
				humanPercent(t.ChurnMax), num(t.ChurnMinCustomers))),
		alert("BillingMRRDrop", t.MRRDropSeverity, fmt.Sprintf(`
-source_currency:billing_mrr:delta1d
/
(sum by (source, currency) (billing_mrr offset 1d) >= %s)
> %s`, num(t.MRRDropMinMRR), num(t.MRRDropMax)),
			t.MRRDropFor,
			"Monthly recurring revenue fell sharply.",
			fmt.Sprintf(`{{ $labels.currency }} MRR of {{ $labels.source }} fell by {{ $value | humanizePercentage }} in the last day (alert above %s when it was at least %s a day earlier).`,
				humanPercent(t.MRRDropMax), num(t.MRRDropMinMRR))),
	}
}

func exporterAlerts(t Thresholds) group {
	stale := t.SyncStaleAfter.String()
	return group{Name: "cx-exporter-exporter", Rules: []rule{
		// A healthy backfill never fires it: a sync that runs out of
		// CX_SYNC_TIMEOUT after committing pages keeps cx_exporter_source_up
		// at 1, and before the first sync ends there is no sync duration.
		// A backfill whose syncs fail (bad credentials, no progress) does.
		alert("CxExporterSourceDown", t.SourceDownSeverity, `
cx_exporter_source_up == 0
and ignoring (kind)
cx_exporter_last_sync_duration_seconds`,
			t.SourceDownFor,
			"A cx-exporter source keeps failing to sync.",
			fmt.Sprintf(`cx_exporter_source_up is {{ $value }} for {{ $labels.source }} ({{ $labels.kind }}) on {{ $labels.instance }}: its syncs have failed for %s, so its metrics are frozen. Last success: {{ with printf "time() - cx_exporter_last_sync_success_timestamp_seconds{source=%%q, instance=%%q, job=%%q}" $labels.source $labels.instance $labels.job | query }}{{ . | first | value | humanizeDuration }} ago{{ else }}none since the exporter started{{ end }}.`, t.SourceDownFor)),
		// Two rules, told apart by cause: a last success that is too old,
		// and no success at all since the exporter started.
		alert("CxExporterSyncStale", "warning",
			fmt.Sprintf(`time() - cx_exporter_last_sync_success_timestamp_seconds > %s`, num(t.SyncStaleAfter.Seconds())),
			0,
			"A cx-exporter source has not synced recently.",
			fmt.Sprintf(`The last successful sync of {{ $labels.source }} on {{ $labels.instance }} ended {{ $value | humanizeDuration }} ago (alert after %s); its metrics are stale.`, stale),
			kv{"cause", "stale"}),
		// Never synced and not up: the first sync keeps failing or has
		// not ended. A first backfill that makes progress (up, with
		// cx_exporter_backfill_in_progress 1) is not stale.
		alert("CxExporterSyncStale", "warning", `
cx_exporter_source_up == 0
unless ignoring (kind)
cx_exporter_last_sync_success_timestamp_seconds`,
			t.SyncStaleAfter,
			"A cx-exporter source has not synced recently.",
			fmt.Sprintf(`{{ $labels.source }} ({{ $labels.kind }}) on {{ $labels.instance }} has had no successful sync for %s since the exporter started (cx_exporter_source_up is {{ $value }}): its first sync is still running or keeps failing.`, stale),
			kv{"cause", "never_synced"}),
		alert("CxExporterRateLimited", "warning",
			`60 * rate(cx_exporter_api_retries_total{reason="rate_limited"}[15m]) > 0`,
			t.RateLimitedFor,
			"The upstream API keeps rate-limiting cx-exporter.",
			fmt.Sprintf(`{{ $labels.source }} on {{ $labels.instance }} retried {{ $value | humanize }} requests per minute after HTTP 429 over the last 15m, for %s now; syncs slow down and may fall behind.`, t.RateLimitedFor)),
		alert("CxExporterRecordsRejected", "warning",
			fmt.Sprintf(`increase(cx_exporter_records_rejected_total[1h]) > %s`, num(t.RecordsRejectedMax)),
			t.RecordsRejectedFor,
			"cx-exporter dropped invalid upstream records.",
			fmt.Sprintf(`{{ $labels.source }} on {{ $labels.instance }} rejected {{ $value | humanize }} records as {{ $labels.reason }} in the last hour (alert above %s for %s); they are missing from every metric.`, num(t.RecordsRejectedMax), t.RecordsRejectedFor)),
	}}
}

// humanPercent writes a ratio as a percentage for descriptions ("80%").
func humanPercent(r float64) string { return strconv.FormatFloat(r*100, 'g', 10, 64) + "%" }

// agentLevel is the aggregation level of the agents and teams rules: per
// source, group and assignee (the opt-in ticket labels; without them each
// source has one series with neither).
const agentLevel = "source, group, assignee"

// agentsRecording are the leaderboard aggregates of the agents and teams
// dashboard: the counters and the first-reply histogram summed per agent
// and group at a 5-minute rate, so that a table over any range reads a few
// series per agent (avg_over_time × the range) instead of every label
// combination of every agent.
func agentsRecording() group {
	g := group{Name: "cx-exporter-agents"}
	level := strings.ReplaceAll(agentLevel, ", ", "_")
	for _, c := range []struct{ metric, extra string }{
		{"helpdesk_tickets_solved", ""},
		{"helpdesk_tickets_reopened", ""},
		{"helpdesk_tickets_first_solved", ""},
		{"helpdesk_tickets_solved_first_contact", ""},
		{"helpdesk_satisfaction_ratings", "rating"},
		{"helpdesk_first_reply_sla", "result"},
		{"helpdesk_resolution_sla", "result"},
	} {
		by, lvl := agentLevel, level
		if c.extra != "" {
			by, lvl = by+", "+c.extra, lvl+"_"+c.extra
		}
		g.Rules = append(g.Rules, record(
			fmt.Sprintf("%s:%s:rate5m", lvl, c.metric),
			fmt.Sprintf("sum by (%s) (rate(%s_total[5m]))", by, c.metric)))
	}
	g.Rules = append(g.Rules, record(
		level+"_hours_le:helpdesk_first_reply_seconds_bucket:rate5m",
		fmt.Sprintf("sum by (%s, hours, le) (rate(helpdesk_first_reply_seconds_bucket[5m]))", agentLevel)),
		// The same as a native histogram, when the exporter is scraped
		// with native histograms (empty on classic-only scrapes).
		record(level+"_hours:helpdesk_first_reply_seconds:rate5m",
			fmt.Sprintf("sum by (%s, hours) (rate(helpdesk_first_reply_seconds[5m]))", agentLevel)))
	return g
}
