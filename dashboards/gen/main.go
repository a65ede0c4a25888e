// Package gen writes cx-exporter's Grafana dashboards as JSON. The binary
// runs it as a subcommand, so the dashboards can be written without a Go
// toolchain:
//
//	cx-exporter dashboards -dir DIR
//
// The dashboards are built with github.com/grafana/grafana-foundation-sdk so
// that they stay typed and reviewable; the JSON it writes is committed and a
// test in package dashboards fails when the two drift apart. The output is
// deterministic: the same code always writes the same bytes.
//
// Every dashboard follows grafana/dashboard-linter's rules: one `datasource`
// variable used by every panel and every query, a `source` selector variable
// used by every query, `$__rate_interval` in every rate() and increase()
// (except explicit [1d], [7d] and [30d] windows of ratio panels), a unit on
// every panel, and stable UIDs. Every query also carries the multi-select
// `job` and `instance` variables (added to every dashboard by run, after the
// datasource), and ratios are kept apart per job.
package gen

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/gauge"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
	"github.com/grafana/grafana-foundation-sdk/go/units"
)

// Tag shared by every cx-exporter dashboard; the dashboard links use it too.
const tag = "cx-exporter"

// Label matchers. Every query carries jobSel (the job and instance
// variables) and sourceSel; queries on ticket metrics also carry the ticket
// label variables.
const (
	jobSel    = `job=~"$job", instance=~"$instance"`
	sourceSel = jobSel + `, source=~"$source"`
	ticketSel = sourceSel + `, priority=~"$priority", channel=~"$channel", group=~"$group", ticket_type=~"$ticket_type"`
	// keep are the labels every ratio keeps besides its own, so that two
	// deployments (jobs) with a source of the same name are never blended.
	keep = "job"
)

// oneReplyBucket selects the le="1" bucket of helpdesk_replies_per_solved_ticket.
// Prometheus 3 normalises le values of classic histograms to floats ("1.0");
// Prometheus 2 keeps what the exporter wrote ("1").
const oneReplyBucket = `le=~"1(\\.0)?"`

// Rate multipliers that turn per-second rates into friendlier units.
const (
	perHour = " * 3600"
	perDay  = " * 86400"
)

// Main is `cx-exporter dashboards ARGS`: it returns the exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("cx-exporter dashboards", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".", "directory to write the dashboard JSON files into")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) { // -h: the usage, on stdout
			fmt.Fprintln(stdout, "Usage: cx-exporter dashboards [-dir DIR]\n\nWrites cx-exporter's Grafana dashboards as JSON files.\n\nFlags:")
			fs.SetOutput(stdout)
			fs.PrintDefaults()
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cx-exporter dashboards: unexpected arguments %q\n", fs.Args())
		return 2
	}
	if err := run(*dir); err != nil {
		fmt.Fprintln(stderr, "cx-exporter dashboards:", err)
		return 1
	}
	fmt.Fprintf(stdout, "wrote the dashboards into %s\n", *dir)
	return 0
}

// output is one dashboard file.
type output struct {
	file    string
	builder *dashboard.DashboardBuilder
}

func run(dir string) error {
	outputs := []output{
		{"support-operations.json", supportOperations()},
		{"subscriptions-churn.json", subscriptionsChurn()},
		{"exporter-health.json", exporterHealth()},
		{"agents-teams.json", agentsTeams()},
	}
	for _, o := range outputs {
		d, err := o.builder.Build()
		if err != nil {
			return fmt.Errorf("%s: %w", o.file, err)
		}
		numberPanels(&d)
		addJobVariables(&d)
		b, err := json.MarshalIndent(d, "", "  ")
		if err != nil {
			return fmt.Errorf("%s: %w", o.file, err)
		}
		b = append(b, '\n')
		if err := os.WriteFile(filepath.Join(dir, o.file), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// numberPanels gives every panel and row an id from its position, so ids are
// stable across regenerations.
func numberPanels(d *dashboard.Dashboard) {
	var id uint32
	for _, p := range d.Panels {
		id++
		switch {
		case p.Panel != nil:
			p.Panel.Id = cog.ToPtr(id)
		case p.RowPanel != nil:
			p.RowPanel.Id = id
			for i := range p.RowPanel.Panels {
				id++
				p.RowPanel.Panels[i].Id = cog.ToPtr(id)
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Dashboards

func newDashboard(uid, title, description string) *dashboard.DashboardBuilder {
	return dashboard.NewDashboardBuilder(title).
		Uid(uid).
		Description(description).
		Tags([]string{tag}).
		Readonly().
		Refresh("1m").
		Time("now-24h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashboard.NewDashboardLinkBuilder("CX dashboards").
			Type(dashboard.DashboardLinkTypeDashboards).
			Tags([]string{tag}).
			AsDropdown(true).
			IncludeVars(true).
			KeepTime(true))
}

func supportOperations() *dashboard.DashboardBuilder {
	return newDashboard("cx-support-ops", "CX / Support operations",
		"Helpdesk KPIs from cx-exporter: backlog, SLAs, first reply, resolution, FCR, CSAT, CES, NPS and support cost, vendor-neutral.").
		WithVariable(datasourceVariable()).
		WithVariable(sourceVariable()).
		WithVariable(ticketLabelVariable("priority")).
		WithVariable(ticketLabelVariable("channel")).
		WithVariable(ticketLabelVariable("group")).
		WithVariable(ticketLabelVariable("ticket_type")).
		WithVariable(hoursVariable()).
		WithRow(dashboard.NewRowBuilder("Overview")).
		WithPanel(statPanel("Open tickets",
			"Unresolved tickets now (new, open, pending, on hold).",
			units.Short, true,
			query("A", fmt.Sprintf(`sum(%s)`, ticketMetric("helpdesk_open_tickets")), "open")).
			Thresholds(thresholds("green"))).
		WithPanel(statPanel("Oldest open ticket",
			"Age of the oldest unresolved ticket.",
			units.Seconds, true,
			query("A", fmt.Sprintf(`max(%s)`, ticketMetric("helpdesk_open_ticket_oldest_age_seconds")), "oldest")).
			Thresholds(thresholds("green", 86400, "orange", 259200, "red"))).
		WithPanel(statPanel("Awaiting first reply",
			"Unresolved tickets with no public agent reply yet.",
			units.Short, true,
			query("A", fmt.Sprintf(`sum(%s)`, ticketMetric("helpdesk_awaiting_first_reply_tickets")), "awaiting")).
			Thresholds(thresholds("green"))).
		WithPanel(statPanel("Oldest awaiting first reply",
			"Age of the oldest ticket that has had no agent reply yet.",
			units.Seconds, true,
			query("A", fmt.Sprintf(`max(%s)`, ticketMetric("helpdesk_awaiting_first_reply_oldest_age_seconds")), "oldest")).
			Thresholds(thresholds("green", 14400, "orange", 28800, "red"))).
		WithPanel(statPanel("First-contact resolution (7d)",
			"Per source: tickets first solved in the last 7 days with exactly one agent reply and no reopen / tickets first solved (helpdesk_tickets_solved_first_contact_total / helpdesk_tickets_first_solved_total): each ticket counts once, re-solves do not. Absent for vendors that count no replies (Freshdesk).",
			units.PercentUnit, false,
			instant("A", ratioBy("source",
				increase(ticketMetric("helpdesk_tickets_solved_first_contact_total"), "7d"),
				increase(ticketMetric("helpdesk_tickets_first_solved_total"), "7d")), "{{source}}")).
			Min(0).Max(1).Thresholds(thresholds("red", 0.5, "orange", 0.7, "green"))).
		WithPanel(statPanel("CSAT (7d)",
			"Per source, never blended across sources: good ratings / all ratings (good + neutral + bad) received in the last 7 days. Survey answers on 1-5 count 4-5 good, 3 neutral, 1-2 bad.",
			units.PercentUnit, false,
			instant("A", ratioBy("source",
				increase(ticketMetric("helpdesk_satisfaction_ratings_total", `rating="good"`), "7d"),
				increase(ticketMetric("helpdesk_satisfaction_ratings_total"), "7d")), "{{source}}")).
			Min(0).Max(1).Thresholds(thresholds("red", 0.8, "orange", 0.9, "green"))).
		WithPanel(statPanel("One-touch resolution (7d)",
			`Per source: tickets first solved in the last 7 days with at most one agent reply / tickets first solved (the le="1" bucket of helpdesk_replies_per_solved_ticket, observed at each ticket's first solve), Zendesk's "one-touch" tickets. Absent for vendors that count no replies.`,
			units.PercentUnit, false,
			instant("A", fractionAtMost("helpdesk_replies_per_solved_ticket", oneReplyBucket, "1", ticketSel, "7d", "source"), "{{source}}")).
			Min(0).Max(1).Span(8).Thresholds(thresholds("blue"))).
		WithPanel(statPanel("Reopen ratio (7d)",
			"Reopens / solves in the last 7 days.",
			units.PercentUnit, false,
			instant("A", ratio(
				increase(ticketMetric("helpdesk_tickets_reopened_total"), "7d"),
				increase(ticketMetric("helpdesk_tickets_solved_total"), "7d")), "reopen ratio")).
			Min(0).Span(8).Thresholds(thresholds("green", 0.05, "orange", 0.1, "red"))).
		WithPanel(gauge.NewPanelBuilder().
			Title("NPS (30d)").
			Description("Net Promoter Score of the survey answers received in the last 30 days: (promoters - detractors) / all answers * 100, from -100 to 100. Survey answers carry no ticket labels, so this panel ignores the priority and channel filters.").
			Datasource(datasourceRef()).
			Unit(units.NoUnit).
			Decimals(0).
			Min(-100).Max(100).
			Span(8).Height(5).
			Orientation(common.VizOrientationAuto).
			Thresholds(thresholds("red", 0, "orange", 30, "green")).
			ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
			WithTarget(instant("A", npsExpr(), "NPS"))).
		WithPanel(statPanel("Resolution rate (7d)",
			"Per source: solves / tickets created in the last 7 days (helpdesk_tickets_solved_total / helpdesk_tickets_created_total). Below 100% the backlog grows.",
			units.PercentUnit, false,
			instant("A", ratioBy("source",
				increase(ticketMetric("helpdesk_tickets_solved_total"), "7d"),
				increase(ticketMetric("helpdesk_tickets_created_total"), "7d")), "{{source}}")).
			Min(0).Span(6).Thresholds(thresholds("orange", 0.9, "green"))).
		WithPanel(statPanel("Customer effort score (7d)",
			"Mean CES of the survey answers received in the last 7 days, on the 1 (very easy) to 7 (very difficult) scale: helpdesk_customer_effort_score_sum / _count. Lower is better.",
			units.NoUnit, false,
			instant("A", histSum("helpdesk_customer_effort_score", ticketSel, "7d", keep+", source")+" / "+
				histCount("helpdesk_customer_effort_score", ticketSel, "7d", keep+", source"), "{{source}}")).
			Decimals(2).Min(1).Max(7).Span(6).Thresholds(thresholds("green", 3, "orange", 5, "red"))).
		WithPanel(statPanel("Cost per solved ticket (30d)",
			"CX_SUPPORT_COST_MONTHLY (helpdesk_support_cost_monthly) / solves in the last 30 days of the selected sources, in the cost's currency (the series name). Empty when no support cost is configured.",
			units.Short, false,
			instant("A", fmt.Sprintf(`sum by (job, currency) (%s) / on (job) group_left sum by (job) (%s)`,
				selector("helpdesk_support_cost_monthly", jobSel, nil), increase(ticketMetric("helpdesk_tickets_solved_total"), "30d")), "{{currency}}")).
			Decimals(2).Span(6).Thresholds(thresholds("blue"))).
		WithPanel(statPanel("Support cost share of MRR",
			"CX_SUPPORT_COST_MONTHLY / MRR of the selected billing sources in the same currency (never across currencies); a common rule of thumb keeps it under 10%. Empty without a support cost or MRR in its currency.",
			units.PercentUnit, false,
			instant("A", fmt.Sprintf(`sum by (job, currency) (%s) / sum by (job, currency) (%s)`,
				selector("helpdesk_support_cost_monthly", jobSel, nil), sourceMetric("billing_mrr")), "{{currency}}")).
			Span(6).Thresholds(thresholds("green", 0.1, "orange", 0.2, "red"))).
		WithRow(dashboard.NewRowBuilder("SLAs")).
		WithPanel(statPanel("First-reply SLA achievement by priority (7d)",
			"Per priority: tickets whose first reply met their CX_FIRST_REPLY_TARGETS target / tickets judged (met + breached) in the last 7 days, from helpdesk_first_reply_sla_total. Each ticket counts once: met at a reply within target, breached when the target passed unanswered. The same counters feed the SLO burn alerts.",
			units.PercentUnit, false,
			instant("A", ratioBy("priority",
				increase(ticketMetric("helpdesk_first_reply_sla_total", `result="met"`), "7d"),
				increase(ticketMetric("helpdesk_first_reply_sla_total"), "7d")), "{{priority}}")).
			Min(0).Max(1).Span(12).Thresholds(thresholds("red", 0.9, "orange", 0.95, "green"))).
		WithPanel(statPanel("Resolution SLA achievement by priority (7d)",
			"Per priority: tickets first solved within their CX_RESOLUTION_TARGETS target / tickets judged (met + breached) in the last 7 days, from helpdesk_resolution_sla_total. Each ticket counts once: met at a first solve within target, breached when the target passed unsolved.",
			units.PercentUnit, false,
			instant("A", ratioBy("priority",
				increase(ticketMetric("helpdesk_resolution_sla_total", `result="met"`), "7d"),
				increase(ticketMetric("helpdesk_resolution_sla_total"), "7d")), "{{priority}}")).
			Min(0).Max(1).Span(12).Thresholds(thresholds("red", 0.9, "orange", 0.95, "green"))).
		WithPanel(timeseriesPanel("SLA results per hour",
			"Tickets judged per hour by SLA and result (helpdesk_first_reply_sla_total, helpdesk_resolution_sla_total): met at the reply or first solve within target, breached when the target passed (counted at the first sync after it, even with no change upstream).",
			units.Short,
			query("A", fmt.Sprintf(`sum by (result) (%s)%s`, rate(ticketMetric("helpdesk_first_reply_sla_total")), perHour), "first reply {{result}}"),
			query("B", fmt.Sprintf(`sum by (result) (%s)%s`, rate(ticketMetric("helpdesk_resolution_sla_total")), perHour), "resolution {{result}}")).
			AxisLabel("tickets / hour")).
		WithPanel(timeseriesPanel("Resolution SLA states",
			"Unresolved tickets not solved yet by resolution-SLA state against CX_RESOLUTION_TARGETS (helpdesk_resolution_sla_tickets): within, at_risk (under 25% of the target left) or breached.",
			units.Short,
			query("A", fmt.Sprintf(`sum by (state) (%s)`, ticketMetric("helpdesk_resolution_sla_tickets")), "{{state}}")).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			FillOpacity(30).
			OverrideByName("within", fixedColor("green")).
			OverrideByName("at_risk", fixedColor("orange")).
			OverrideByName("breached", fixedColor("red"))).
		WithRow(dashboard.NewRowBuilder("Backlog")).
		WithPanel(timeseriesPanel("Backlog by status",
			"Unresolved tickets by status.",
			units.Short,
			query("A", fmt.Sprintf(`sum by (status) (%s)`, ticketMetric("helpdesk_open_tickets")), "{{status}}")).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			FillOpacity(30)).
		WithPanel(timeseriesPanel("Backlog ageing",
			"Unresolved tickets created longer ago than each age (1h, 4h, 1d, 3d, 7d). The series are nested, not stacked: 'older than 1d' includes 'older than 3d'.",
			units.Short,
			query("A", fmt.Sprintf(`sum by (age) (%s)`, ticketMetric("helpdesk_open_tickets_older_than")), "older than {{age}}"))).
		WithPanel(timeseriesPanel("First-reply SLA states",
			"Tickets awaiting a first reply by SLA state against CX_FIRST_REPLY_TARGETS: within, at_risk (under 25% of the target left) or breached.",
			units.Short,
			query("A", fmt.Sprintf(`sum by (state) (%s)`, ticketMetric("helpdesk_first_reply_sla_tickets")), "{{state}}")).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			FillOpacity(30).
			OverrideByName("within", fixedColor("green")).
			OverrideByName("at_risk", fixedColor("orange")).
			OverrideByName("breached", fixedColor("red"))).
		WithPanel(timeseriesPanel("Backlog by priority",
			"Unresolved tickets by priority.",
			units.Short,
			query("A", fmt.Sprintf(`sum by (priority) (%s)`, ticketMetric("helpdesk_open_tickets")), "{{priority}}")).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			FillOpacity(30)).
		WithPanel(timeseriesPanel("Backlog by group",
			"Unresolved tickets by group (exported when CX_TICKET_LABELS includes group; otherwise one series without a group).",
			units.Short,
			query("A", fmt.Sprintf(`sum by (group) (%s)`, ticketMetric("helpdesk_open_tickets")), "{{group}}")).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			FillOpacity(30)).
		WithPanel(timeseriesPanel("Created by ticket type",
			"Tickets created per hour by type: question, incident, problem, task or none (exported when CX_TICKET_LABELS includes ticket_type).",
			units.Short,
			query("A", fmt.Sprintf(`sum by (ticket_type) (%s)%s`, rate(ticketMetric("helpdesk_tickets_created_total")), perHour), "{{ticket_type}}")).
			AxisLabel("tickets / hour")).
		WithRow(dashboard.NewRowBuilder("Flow")).
		WithPanel(timeseriesPanel("Created vs solved per hour",
			"Tickets created, solves and first solves per hour. A ticket solved again after a reopen counts again as a solve, never again as a first solve (helpdesk_tickets_first_solved_total).",
			units.Short,
			query("A", fmt.Sprintf(`sum(%s)%s`, rate(ticketMetric("helpdesk_tickets_created_total")), perHour), "created"),
			query("B", fmt.Sprintf(`sum(%s)%s`, rate(ticketMetric("helpdesk_tickets_solved_total")), perHour), "solved"),
			query("C", fmt.Sprintf(`sum(%s)%s`, rate(ticketMetric("helpdesk_tickets_first_solved_total")), perHour), "first solves")).
			AxisLabel("tickets / hour")).
		WithPanel(timeseriesPanel("Reopens per hour",
			"Transitions from solved back to unresolved, per hour.",
			units.Short,
			query("A", fmt.Sprintf(`sum(%s)%s`, rate(ticketMetric("helpdesk_tickets_reopened_total")), perHour), "reopens")).
			AxisLabel("reopens / hour")).
		WithPanel(timeseriesPanel("Created by channel",
			"Tickets created per hour by channel.",
			units.Short,
			query("A", fmt.Sprintf(`sum by (channel) (%s)%s`, rate(ticketMetric("helpdesk_tickets_created_total")), perHour), "{{channel}}")).
			AxisLabel("tickets / hour")).
		WithPanel(timeseriesPanel("Replies per resolution",
			"Average number of public agent replies on a ticket at its first solve. Absent for vendors that count no replies.",
			units.Short,
			query("A", histSum("helpdesk_replies_per_solved_ticket", ticketSel, "$__rate_interval", "")+" / "+
				histCount("helpdesk_replies_per_solved_ticket", ticketSel, "$__rate_interval", ""), "replies per solve")).
			Decimals(2).
			AxisLabel("replies")).
		WithRow(dashboard.NewRowBuilder("Response times ($hours hours)")).
		WithPanel(timeseriesPanel("First reply time p50 / p90",
			"Time from ticket creation to the first public agent reply, in $hours hours. Classic buckets first, native histogram as fallback.",
			units.Seconds,
			query("A", quantile("0.5", "helpdesk_first_reply_seconds"), "p50"),
			query("B", quantile("0.9", "helpdesk_first_reply_seconds"), "p90"))).
		WithPanel(timeseriesPanel("Resolution time p50 / p90",
			"Time from ticket creation to solve, in $hours hours, observed at each solve. Classic buckets first, native histogram as fallback.",
			units.Seconds,
			query("A", quantile("0.5", "helpdesk_resolution_seconds"), "p50"),
			query("B", quantile("0.9", "helpdesk_resolution_seconds"), "p90"))).
		WithPanel(timeseriesPanel("Mean first reply and resolution time",
			"Means, as targets are usually stated (\"average first response under 30 minutes\"): helpdesk_first_reply_seconds_sum / _count and helpdesk_resolution_seconds_sum / _count, in $hours hours. Means exceed medians when a few tickets wait long.",
			units.Seconds,
			query("A", mean("helpdesk_first_reply_seconds"), "first reply"),
			query("B", mean("helpdesk_resolution_seconds"), "resolution"))).
		WithPanel(timeseriesPanel("Wait and hold times (mean at solve)",
			"Mean per solve, in $hours hours, of the vendor's own totals: time the requester waited on agents (helpdesk_requester_wait_seconds), time agents waited on the requester (helpdesk_agent_wait_seconds) and time on hold (helpdesk_on_hold_seconds). Only vendors that report them (Zendesk) have data.",
			units.Seconds,
			query("A", mean("helpdesk_requester_wait_seconds"), "requester wait"),
			query("B", mean("helpdesk_agent_wait_seconds"), "agent wait"),
			query("C", mean("helpdesk_on_hold_seconds"), "on hold"))).
		WithRow(dashboard.NewRowBuilder("Satisfaction")).
		WithPanel(timeseriesPanel("Satisfaction ratings by rating",
			"Satisfaction ratings received per hour, by rating.",
			units.Short,
			query("A", fmt.Sprintf(`sum by (rating) (%s)%s`, rate(ticketMetric("helpdesk_satisfaction_ratings_total")), perHour), "{{rating}}")).
			AxisLabel("ratings / hour").
			OverrideByName("good", fixedColor("green")).
			OverrideByName("neutral", fixedColor("yellow")).
			OverrideByName("bad", fixedColor("red"))).
		WithPanel(timeseriesPanel("NPS responses by category",
			"NPS survey answers received per day, by category (promoter 9-10, passive 7-8, detractor 0-6). Survey answers carry no ticket labels, so this panel ignores the priority and channel filters.",
			units.Short,
			query("A", fmt.Sprintf(`sum by (category) (%s)%s`, rate(sourceMetric("helpdesk_nps_responses_total")), perDay), "{{category}}")).
			AxisLabel("answers / day").
			OverrideByName("promoter", fixedColor("green")).
			OverrideByName("passive", fixedColor("yellow")).
			OverrideByName("detractor", fixedColor("red"))).
		WithPanel(timeseriesPanel("CSAT by source (7d)",
			"Per source, never blended: good ratings / all ratings (good + neutral + bad) over the trailing 7 days.",
			units.PercentUnit,
			query("A", ratioBy("source",
				increase(ticketMetric("helpdesk_satisfaction_ratings_total", `rating="good"`), "7d"),
				increase(ticketMetric("helpdesk_satisfaction_ratings_total"), "7d")), "{{source}}")).
			Min(0).Max(1)).
		WithPanel(timeseriesPanel("Customer effort score answers",
			"CES survey answers per day by score (helpdesk_customer_effort_score, 1 very easy to 7 very difficult).",
			units.Short,
			query("A", fmt.Sprintf(`sum by (le) (%s)%s`, rate(ticketMetric("helpdesk_customer_effort_score_bucket")), perDay), "≤ {{le}}")).
			AxisLabel("answers / day"))
}

func subscriptionsChurn() *dashboard.DashboardBuilder {
	d := newDashboard("cx-subscriptions", "CX / Subscriptions and churn",
		"Billing KPIs from cx-exporter: MRR, ARR, ARPA, LTV, quick ratio, revenue retention, trials, MRR movements, active customers, subscriptions and churn. Money is in major units of each currency and never summed across currencies.").
		WithVariable(datasourceVariable()).
		WithVariable(sourceVariable()).
		WithRow(dashboard.NewRowBuilder("Overview")).
		WithPanel(statPanel("Active customers",
			"Customers with at least one paying subscription (active or past_due with MRR > 0), per currency they pay in: a customer paying in two currencies counts in each.",
			units.Short, true,
			query("A", fmt.Sprintf(`sum by (currency) (%s)`, sourceMetric("billing_active_customers")), "{{currency}}")).
			Span(6).Thresholds(thresholds("green"))).
		WithPanel(statPanel("Customer churn (30d)",
			"Stripe's subscriber churn rate: customers churned in the last 30 days / (customers active 30 days ago + customers paying for the first time since). Reactivated customers are not new; a customer counts once however often it churns, so the ratio never exceeds 100%. Computed by each source from its stored history.",
			units.PercentUnit, false,
			instant("A", fmt.Sprintf(`max by (source) (%s)`, sourceMetric("billing_customer_churn_ratio", `window="30d"`)), "{{source}}")).
			Min(0).Span(6).Thresholds(thresholds("green", 0.03, "orange", 0.05, "red"))).
		WithPanel(statPanel("MRR churn (30d)",
			"(Churned + contraction MRR in the last 30 days) / MRR 30 days ago, per source and currency.",
			units.PercentUnit, false,
			instant("A", fmt.Sprintf(`max by (source, currency) (%s)`, sourceMetric("billing_mrr_churn_ratio", `window="30d"`)), "{{source}} {{currency}}")).
			Min(0).Span(6).Thresholds(thresholds("green", 0.03, "orange", 0.05, "red"))).
		WithPanel(statPanel("Scheduled churn MRR",
			"MRR of paying subscriptions set to cancel at the end of their period, in major units of each currency (the series name shows the currency).",
			units.Short, false,
			instant("A", fmt.Sprintf(`sum by (currency) (%s)`, sourceMetric("billing_scheduled_churn_mrr")), "{{currency}}")).
			Span(6).Thresholds(thresholds("blue")))
	d = billingAnalytics(d)
	return d.
		WithRow(dashboard.NewRowBuilder("Revenue")).
		WithPanel(timeseriesPanel("MRR by currency",
			"Monthly recurring revenue in major units of each currency (Stripe's billing-analytics definition). One series per currency; currencies are never summed.",
			units.Short,
			query("A", fmt.Sprintf(`sum by (currency) (%s)`, sourceMetric("billing_mrr")), "{{currency}}")).
			AxisLabel("MRR (major units)")).
		WithPanel(timeseriesPanel("MRR movements by kind",
			"MRR moved in each interval by kind (new, expansion, contraction, churn, reactivation) and currency, in major units, always positive.",
			units.Short,
			query("A", fmt.Sprintf(`sum by (kind, currency) (%s)`, increase(sourceMetric("billing_mrr_movements_total"), "$__rate_interval")), "{{kind}} ({{currency}})")).
			DrawStyle(common.GraphDrawStyleBars).
			FillOpacity(60).
			AxisLabel("MRR moved (major units)")).
		WithRow(dashboard.NewRowBuilder("Subscriptions")).
		WithPanel(timeseriesPanel("Subscriptions by status",
			"Subscriptions by status, not counting canceled or ended ones.",
			units.Short,
			query("A", fmt.Sprintf(`sum by (status) (%s)`, sourceMetric("billing_subscriptions")), "{{status}}")).
			Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
			FillOpacity(30)).
		WithPanel(timeseriesPanel("Started vs churned subscriptions",
			"Subscriptions that became paying for the first time, and paying subscriptions that ended or were canceled by reason (voluntary, involuntary), per day.",
			units.Short,
			query("A", fmt.Sprintf(`sum(%s)%s`, rate(sourceMetric("billing_subscriptions_started_total")), perDay), "started"),
			query("B", fmt.Sprintf(`sum by (reason) (%s)%s`, rate(sourceMetric("billing_subscriptions_churned_total")), perDay), "churned ({{reason}})")).
			AxisLabel("subscriptions / day")).
		WithPanel(timeseriesPanel("Active and churned customers",
			"Customers with at least one paying subscription per currency they pay in (a customer paying in two currencies counts in each), and customers that lost their last paying subscription per day.",
			units.Short,
			query("A", fmt.Sprintf(`sum by (currency) (%s)`, sourceMetric("billing_active_customers")), "active ({{currency}})"),
			query("B", fmt.Sprintf(`sum(%s)%s`, rate(sourceMetric("billing_customers_churned_total")), perDay), "churned / day"))).
		WithPanel(timeseriesPanel("Churn ratios (30d)",
			"Customer churn (customers churned / (customers active 30 days ago + customers new since), Stripe's subscriber churn rate) and MRR churn over the trailing 30 days, as computed by each source from its stored history.",
			units.PercentUnit,
			query("A", fmt.Sprintf(`max by (source) (%s)`, sourceMetric("billing_customer_churn_ratio", `window="30d"`)), "customers {{source}}"),
			query("B", fmt.Sprintf(`max by (source, currency) (%s)`, sourceMetric("billing_mrr_churn_ratio", `window="30d"`)), "MRR {{source}} {{currency}}")).
			Min(0))
}

// billingAnalytics is the row of figures subscription-analytics tools
// (Stripe's billing analytics, ChartMogul) open with: ARR, ARPA, LTV,
// quick ratio, revenue retention and trials. The per-source figures come
// from the recording rules in alerts/, each per source and currency.
func billingAnalytics(d *dashboard.DashboardBuilder) *dashboard.DashboardBuilder {
	// Recorded series keep job but not instance (the rules aggregate it
	// away, so that a restarted pod does not split them).
	rule := func(name string) string { return name + `{job=~"$job", source=~"$source"}` }
	return d.
		WithRow(dashboard.NewRowBuilder("Analytics")).
		WithPanel(statPanel("ARR",
			"Annual run rate: 12 × MRR, in major units of each currency (recording rule source_currency:billing_arr:sum).",
			units.Short, true,
			query("A", fmt.Sprintf(`sum by (currency) (%s)`, rule("source_currency:billing_arr:sum")), "{{currency}}")).
			Span(6).Thresholds(thresholds("blue"))).
		WithPanel(statPanel("ARPA",
			"Average revenue per account: MRR / active customers of the currency, in major units, per source and currency (recording rule source_currency:billing_arpa:ratio).",
			units.Short, true,
			query("A", rule("source_currency:billing_arpa:ratio"), "{{source}} {{currency}}")).
			Span(6).Thresholds(thresholds("blue"))).
		WithPanel(statPanel("LTV",
			"Customer lifetime value: ARPA / the 30-day customer churn ratio, in major units, per source and currency (recording rule source_currency:billing_ltv:ratio). No value while no customer churned in the last 30 days.",
			units.Short, false,
			instant("A", rule("source_currency:billing_ltv:ratio"), "{{source}} {{currency}}")).
			Span(6).Thresholds(thresholds("blue"))).
		WithPanel(statPanel("Quick ratio (30d)",
			"MRR gained (new + expansion + reactivation) / MRR lost (contraction + churn) over the last 30 days, per source and currency (recording rule source_currency:billing_mrr_quick:ratio_increase30d). Above 1 the MRR grows; 4 is the usual mark of efficient growth. No value while nothing was lost.",
			units.Short, false,
			instant("A", rule("source_currency:billing_mrr_quick:ratio_increase30d"), "{{source}} {{currency}}")).
			Span(6).Thresholds(thresholds("red", 1, "orange", 4, "green"))).
		WithPanel(timeseriesPanel("Revenue retention (30d)",
			"Net revenue retention: (MRR 30 days ago of the customers active then + their expansion − contraction − churn since) / that MRR. Gross leaves out expansion (at most 100%). New and reactivated customers are left out. Per source and currency, computed by each source from its stored history.",
			units.PercentUnit,
			query("A", fmt.Sprintf(`max by (source, currency, kind) (%s)`, sourceMetric("billing_revenue_retention_ratio", `window="30d"`)), "{{kind}} {{source}} {{currency}}")).
			Min(0)).
		WithPanel(timeseriesPanel("Trials",
			"Trials begun, converted (their first paid period began) and canceled (ended without paying) per day, and the share of the trials ended in the last 30 days that converted (recording rule source:billing_trial_conversion:ratio_increase30d, right axis).",
			units.Short,
			query("A", fmt.Sprintf(`sum(%s)%s`, rate(sourceMetric("billing_trials_started_total")), perDay), "started / day"),
			query("B", fmt.Sprintf(`sum(%s)%s`, rate(sourceMetric("billing_trials_converted_total")), perDay), "converted / day"),
			query("C", fmt.Sprintf(`sum(%s)%s`, rate(sourceMetric("billing_trials_canceled_total")), perDay), "canceled / day"),
			query("D", rule("source:billing_trial_conversion:ratio_increase30d"), "conversion (30d) {{source}}")).
			AxisLabel("trials / day").
			OverrideByQuery("D", []dashboard.DynamicConfigValue{
				{Id: "unit", Value: units.PercentUnit},
				{Id: "custom.axisPlacement", Value: "right"},
			}))
}

func exporterHealth() *dashboard.DashboardBuilder {
	return newDashboard("cx-exporter-health", "CX / Exporter health",
		"cx-exporter's own health: source syncs, upstream API requests, retries, rate limits and rejected records.").
		WithVariable(datasourceVariable()).
		WithVariable(sourceVariable()).
		WithRow(dashboard.NewRowBuilder("Sources")).
		WithPanel(statPanel("Sources up",
			"1 when the last sync of the source succeeded. A source is down from start-up until its first sync succeeds.",
			units.NoUnit, false,
			instant("A", fmt.Sprintf(`max by (source, kind) (%s)`, sourceMetric("cx_exporter_source_up")), "{{source}} ({{kind}})")).
			Span(12).Height(8).
			TextMode(common.BigValueTextModeValueAndName).
			ColorMode(common.BigValueColorModeBackground).
			Thresholds(thresholds("red", 1, "green")).
			Mappings([]dashboard.ValueMapping{upDownMapping()})).
		WithPanel(timeseriesPanel("Time since last successful sync",
			"Seconds since the last successful sync of each source ended. A growing line means syncs are failing or stuck.",
			units.Seconds,
			query("A", fmt.Sprintf(`time() - max by (source) (%s)`, sourceMetric("cx_exporter_last_sync_success_timestamp_seconds")), "{{source}}"))).
		WithPanel(timeseriesPanel("Last sync duration",
			"How long the last sync of each source took, whether it succeeded or failed.",
			units.Seconds,
			query("A", fmt.Sprintf(`max by (source) (%s)`, sourceMetric("cx_exporter_last_sync_duration_seconds")), "{{source}}"))).
		WithPanel(timeseriesPanel("Rate-limit remaining",
			"Upstream API quota left, from the vendor's rate-limit headers on the last response.",
			units.Short,
			query("A", fmt.Sprintf(`min by (source) (%s)`, sourceMetric("cx_exporter_api_rate_limit_remaining")), "{{source}}")).
			Min(0)).
		WithRow(dashboard.NewRowBuilder("Upstream API")).
		WithPanel(timeseriesPanel("API requests by code",
			"Upstream HTTP attempts per second, retries included, by status code (error for transport failures).",
			units.RequestsPerSecond,
			query("A", fmt.Sprintf(`sum by (source, code) (%s)`, rate(sourceMetric("cx_exporter_api_requests_total"))), "{{source}} {{code}}"))).
		WithPanel(timeseriesPanel("Retries by reason",
			"Retried upstream requests per second by reason: rate_limited (429), server_error (5xx) or transport.",
			units.RequestsPerSecond,
			query("A", fmt.Sprintf(`sum by (source, reason) (%s)`, rate(sourceMetric("cx_exporter_api_retries_total"))), "{{source}} {{reason}}"))).
		WithPanel(timeseriesPanel("Rejected records by reason",
			"Upstream records dropped as invalid per second, by reason.",
			units.CountsPerSecond,
			query("A", fmt.Sprintf(`sum by (source, reason) (%s)`, rate(sourceMetric("cx_exporter_records_rejected_total"))), "{{source}} {{reason}}"))).
		WithPanel(table.NewPanelBuilder().
			Title("Build info").
			Description("Version, revision and Go version of the cx-exporter instances that serve the selected sources (cx_exporter_build_info carries no source label, so it is joined on job and instance).").
			Datasource(datasourceRef()).
			Unit(units.NoUnit).
			Span(12).Height(8).
			WithTarget(instant("A",
				fmt.Sprintf(`max by (instance, version, revision, goversion) (%s and on (job, instance) %s)`, selector("cx_exporter_build_info", jobSel, nil), sourceMetric("cx_exporter_source_up")), "").
				Format(prometheus.PromQueryFormatTable)).
			WithTransformation(dashboard.DataTransformerConfig{
				Id: "organize",
				Options: map[string]any{
					"excludeByName": map[string]bool{"Time": true, "Value": true},
					"indexByName":   map[string]int{"instance": 0, "version": 1, "revision": 2, "goversion": 3},
				},
			}))
}

// ---------------------------------------------------------------------------
// Variables

func datasourceRef() common.DataSourceRef {
	return common.DataSourceRef{
		Type: cog.ToPtr("prometheus"),
		Uid:  cog.ToPtr("${datasource}"),
	}
}

func datasourceVariable() *dashboard.DatasourceVariableBuilder {
	return dashboard.NewDatasourceVariableBuilder("datasource").
		Label("Data source").
		Type("prometheus").
		Current(dashboard.VariableOption{
			Selected: cog.ToPtr(true),
			Text:     dashboard.StringOrArrayOfString{String: cog.ToPtr("default")},
			Value:    dashboard.StringOrArrayOfString{String: cog.ToPtr("default")},
		})
}

func allOption() dashboard.VariableOption {
	return dashboard.VariableOption{
		Selected: cog.ToPtr(true),
		Text:     dashboard.StringOrArrayOfString{ArrayOfString: []string{"All"}},
		Value:    dashboard.StringOrArrayOfString{ArrayOfString: []string{"$__all"}},
	}
}

// addJobVariables puts the job and instance variables after the datasource
// variable of d, whoever built it: every query's selector uses them.
func addJobVariables(d *dashboard.Dashboard) {
	var vars []dashboard.VariableModel
	for _, b := range []*dashboard.QueryVariableBuilder{
		selectorVariable("job", "Job", "Prometheus job scraping cx-exporter (one per deployment).",
			`label_values(cx_exporter_build_info, job)`),
		selectorVariable("instance", "Instance", "cx-exporter instance (cx_exporter_build_info's instance label).",
			`label_values(cx_exporter_build_info{job=~"$job"}, instance)`),
	} {
		v, err := b.Build()
		if err != nil {
			panic(err)
		}
		vars = append(vars, v)
	}
	list := d.Templating.List
	at := 0
	for i, v := range list {
		if v.Type == "datasource" {
			at = i + 1
		}
	}
	d.Templating.List = append(append(append([]dashboard.VariableModel(nil), list[:at]...), vars...), list[at:]...)
}

// selectorVariable is a multi-select query variable with All (".+", as
// dashboard-linter wants of selector variables; every series Prometheus
// scrapes has a job and an instance).
func selectorVariable(name, label, description, q string) *dashboard.QueryVariableBuilder {
	return dashboard.NewQueryVariableBuilder(name).
		Label(label).
		Description(description).
		Datasource(datasourceRef()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(q)}).
		Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".+").
		Current(allOption())
}

// sourceVariable selects the collector instances. Every metric carries
// source, so "All" is ".+" as dashboard-linter wants of selector variables.
func sourceVariable() *dashboard.QueryVariableBuilder {
	q := `label_values(cx_exporter_source_up{` + jobSel + `}, source)`
	return dashboard.NewQueryVariableBuilder("source").
		Label("Source").
		Description("Collector instance (cx_exporter_source_up's source label).").
		Datasource(datasourceRef()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(q)}).
		Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".+").
		Current(allOption())
}

// ticketLabelVariable selects values of a ticket label. Ticket labels are
// chosen by CX_TICKET_LABELS, so a deployment may not export this label at
// all: "All" is ".*", which also matches series without the label.
func ticketLabelVariable(label string) *dashboard.QueryVariableBuilder {
	q := fmt.Sprintf(`label_values(helpdesk_tickets_created_total{%s}, %s)`, sourceSel, label)
	return dashboard.NewQueryVariableBuilder(label).
		Label(strings.ToUpper(label[:1]) + label[1:]).
		Description(fmt.Sprintf("Ticket %s (exported when CX_TICKET_LABELS includes it).", label)).
		Datasource(datasourceRef()).
		Query(dashboard.StringOrMap{String: cog.ToPtr(q)}).
		Definition(q).
		Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
		Sort(dashboard.VariableSortAlphabeticalAsc).
		Multi(true).
		IncludeAll(true).
		AllValue(".*").
		Current(allOption())
}

// hoursVariable picks which clock the duration histograms use.
func hoursVariable() *dashboard.CustomVariableBuilder {
	option := func(v string, selected bool) dashboard.VariableOption {
		return dashboard.VariableOption{
			Selected: cog.ToPtr(selected),
			Text:     dashboard.StringOrArrayOfString{String: cog.ToPtr(v)},
			Value:    dashboard.StringOrArrayOfString{String: cog.ToPtr(v)},
		}
	}
	return dashboard.NewCustomVariableBuilder("hours").
		Label("Hours").
		Description("Count durations in business hours (CX_BUSINESS_HOURS) or calendar time.").
		Values(dashboard.StringOrMap{String: cog.ToPtr("business,calendar")}).
		Multi(false).
		IncludeAll(false).
		Options([]dashboard.VariableOption{option("business", true), option("calendar", false)}).
		Current(option("business", true))
}

// ---------------------------------------------------------------------------
// PromQL

// ticketMetric is a selector on a helpdesk ticket metric, filtered by source
// and the ticket label variables.
func ticketMetric(name string, matchers ...string) string {
	return selector(name, ticketSel, matchers)
}

// sourceMetric is a selector filtered by source only.
func sourceMetric(name string, matchers ...string) string {
	return selector(name, sourceSel, matchers)
}

func selector(name, base string, matchers []string) string {
	return name + "{" + strings.Join(append([]string{base}, matchers...), ", ") + "}"
}

func rate(sel string) string {
	return "rate(" + sel + "[$__rate_interval])"
}

func increase(sel, window string) string {
	return "increase(" + sel + "[" + window + "])"
}

// ratio is a ratio per job: two deployments are never blended.
func ratio(num, den string) string {
	return "sum by (" + keep + ") (" + num + ") / sum by (" + keep + ") (" + den + ")"
}

// ratioBy is a ratio per value of label and per job (per source: never a
// blend, not even of two deployments' sources of the same name).
func ratioBy(label, num, den string) string {
	return "sum by (" + keep + ", " + label + ") (" + num + ") / sum by (" + keep + ", " + label + ") (" + den + ")"
}

// The histogram helpers read a histogram whichever way Prometheus stored
// it (as alerts/gen's do): the classic _sum, _count and _bucket series
// first, the native histogram where those are missing (Prometheus 3 keeps
// only the native form on protobuf scrapes unless
// always_scrape_classic_histograms is set).

// histSum is the observations' sum over window ("$__rate_interval" for a
// rate, else an increase over the window), summed by by ("" for all).
func histSum(metric, sel, window, by string) string {
	return histAgg(metric, "_sum", "histogram_sum", sel, window, by)
}

// histCount is the same for the number of observations.
func histCount(metric, sel, window, by string) string {
	return histAgg(metric, "_count", "histogram_count", sel, window, by)
}

func histAgg(metric, suffix, fn, sel, window, by string) string {
	f := "increase"
	if window == "$__rate_interval" {
		f = "rate"
	}
	agg := "sum"
	if by != "" {
		agg = "sum by (" + by + ")"
	}
	return fmt.Sprintf(`(%[1]s (%[2]s(%[3]s%[4]s{%[5]s}[%[6]s])) or %[1]s (%[7]s(%[2]s(%[3]s{%[5]s}[%[6]s]))))`,
		agg, f, metric, suffix, sel, window, fn)
}

// mean is the mean of a duration histogram in the selected hours.
func mean(metric string) string {
	sel := ticketSel + `, hours="$hours"`
	return histSum(metric, sel, "$__rate_interval", "") + " / " + histCount(metric, sel, "$__rate_interval", "")
}

// quantile is the q-quantile of a duration histogram in the selected hours.
// The classic buckets come first; the native histogram is the fallback for
// Prometheus servers that scrape protobuf and keep only native histograms.
func quantile(q, metric string) string {
	sel := ticketSel + `, hours="$hours"`
	return fmt.Sprintf(`histogram_quantile(%s, sum by (le) (rate(%s_bucket{%s}[$__rate_interval])))`, q, metric, sel) +
		fmt.Sprintf(` or histogram_quantile(%s, sum(rate(%s{%s}[$__rate_interval])))`, q, metric, sel)
}

// fractionAtMost is the share of observations at or below upper (a bound
// of the classic buckets, matched by bucket, and a power of two, a bucket
// boundary of every native schema) over window, per by and job.
func fractionAtMost(metric, bucket, upper, sel, window, by string) string {
	return fmt.Sprintf(`(sum by (%[6]s, %[5]s) (increase(%[1]s_bucket{%[3]s, %[2]s}[%[4]s])) / sum by (%[6]s, %[5]s) (increase(%[1]s_count{%[3]s}[%[4]s])))`,
		metric, bucket, sel, window, by, keep) +
		fmt.Sprintf(` or histogram_fraction(-1, %[5]s, sum by (%[6]s, %[4]s) (increase(%[1]s{%[2]s}[%[3]s])))`, metric, sel, window, by, upper, keep)
}

// npsExpr is the Net Promoter Score of the last 30 days. Survey answers are not
// tickets, so only source filters them.
func npsExpr() string {
	count := func(matchers ...string) string {
		return "sum(" + increase(sourceMetric("helpdesk_nps_responses_total", matchers...), "30d") + ")"
	}
	return fmt.Sprintf(`100 * ((%s or vector(0)) - (%s or vector(0))) / %s`,
		count(`category="promoter"`), count(`category="detractor"`), count())
}

// ---------------------------------------------------------------------------
// Panels

func query(refID, expr, legend string) *prometheus.DataqueryBuilder {
	q := prometheus.NewDataqueryBuilder().
		Datasource(datasourceRef()).
		RefId(refID).
		Expr(expr).
		Range()
	if legend != "" {
		q.LegendFormat(legend)
	}
	return q
}

// instant is a query evaluated once, at the end of the time range; ratio
// panels over long windows use it so they do not evaluate [7d] or [30d] at
// every step.
func instant(refID, expr, legend string) *prometheus.DataqueryBuilder {
	return query(refID, expr, legend).Instant()
}

func timeseriesPanel(title, description, unit string, targets ...*prometheus.DataqueryBuilder) *timeseries.PanelBuilder {
	p := timeseries.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasourceRef()).
		Unit(unit).
		Span(12).Height(8).
		LineWidth(1).
		FillOpacity(10).
		ShowPoints(common.VisibilityModeNever).
		Legend(common.NewVizLegendOptionsBuilder().
			ShowLegend(true).
			DisplayMode(common.LegendDisplayModeTable).
			Placement(common.LegendPlacementBottom).
			Calcs([]string{"lastNotNull", "max"})).
		Tooltip(common.NewVizTooltipOptionsBuilder().
			Mode(common.TooltipDisplayModeMulti).
			Sort(common.SortOrderDescending))
	for _, t := range targets {
		p.WithTarget(t)
	}
	return p
}

func statPanel(title, description, unit string, sparkline bool, target *prometheus.DataqueryBuilder) *stat.PanelBuilder {
	graph := common.BigValueGraphModeNone
	if sparkline {
		graph = common.BigValueGraphModeArea
	}
	return stat.NewPanelBuilder().
		Title(title).
		Description(description).
		Datasource(datasourceRef()).
		Unit(unit).
		Span(4).Height(5).
		GraphMode(graph).
		ColorMode(common.BigValueColorModeValue).
		TextMode(common.BigValueTextModeAuto).
		Orientation(common.VizOrientationAuto).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"}).Values(false)).
		WithTarget(target)
}

// thresholds builds absolute thresholds from a base color followed by
// (value, color) pairs.
func thresholds(base string, steps ...any) *dashboard.ThresholdsConfigBuilder {
	list := []dashboard.Threshold{{Color: base}}
	for i := 0; i+1 < len(steps); i += 2 {
		var v float64
		switch n := steps[i].(type) {
		case int:
			v = float64(n)
		case float64:
			v = n
		default:
			panic(fmt.Sprintf("threshold value %v is not a number", steps[i]))
		}
		list = append(list, dashboard.Threshold{Value: cog.ToPtr(v), Color: steps[i+1].(string)})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(list)
}

func fixedColor(color string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{{
		Id:    "color",
		Value: map[string]string{"mode": "fixed", "fixedColor": color},
	}}
}

func upDownMapping() dashboard.ValueMapping {
	return dashboard.ValueMapping{ValueMap: &dashboard.ValueMap{
		Type: dashboard.MappingTypeValueToText,
		Options: map[string]dashboard.ValueMappingResult{
			"0": {Text: cog.ToPtr("Down"), Color: cog.ToPtr("red"), Index: cog.ToPtr[int32](0)},
			"1": {Text: cog.ToPtr("Up"), Color: cog.ToPtr("green"), Index: cog.ToPtr[int32](1)},
		},
	}}
}
