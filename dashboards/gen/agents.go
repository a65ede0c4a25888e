package gen

import (
	"fmt"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/units"
)

// agentSel filters the agents and teams queries: the source and the two
// ticket labels of the dashboard (exported when CX_TICKET_LABELS includes
// group and assignee).
const agentSel = sourceSel + `, group=~"$group", assignee=~"$assignee"`

// agentRecSel filters the agents recording rules: recorded series keep
// job but not instance (the rules aggregate it away, so that a restarted
// pod does not split them).
const agentRecSel = `job=~"$job", source=~"$source", group=~"$group", assignee=~"$assignee"`

// agentMetric is a selector on a helpdesk metric, filtered by source,
// group and assignee.
func agentMetric(name string, matchers ...string) string {
	return selector(name, agentSel, matchers)
}

// agentRecorded is a selector on an agents recording rule.
func agentRecorded(name string, matchers ...string) string {
	return selector(name, agentRecSel, matchers)
}

// The recording rules of alerts/gen's agentsRecording the leaderboards read.
const (
	recSolved        = "source_group_assignee:helpdesk_tickets_solved:rate5m"
	recReopened      = "source_group_assignee:helpdesk_tickets_reopened:rate5m"
	recFirstSolved   = "source_group_assignee:helpdesk_tickets_first_solved:rate5m"
	recFirstContact  = "source_group_assignee:helpdesk_tickets_solved_first_contact:rate5m"
	recRatings       = "source_group_assignee_rating:helpdesk_satisfaction_ratings:rate5m"
	recFirstReplySLA = "source_group_assignee_result:helpdesk_first_reply_sla:rate5m"
	recFirstReplyLe  = "source_group_assignee_hours_le:helpdesk_first_reply_seconds_bucket:rate5m"
	recFirstReplyNat = "source_group_assignee_hours:helpdesk_first_reply_seconds:rate5m"
)

// overRange is the mean per-second rate of a recorded 5-minute rate over
// the dashboard's range, per value of by.
func overRange(by, rec string, matchers ...string) string {
	return fmt.Sprintf("sum by (%s) (avg_over_time(%s[$__range]))", by, agentRecorded(rec, matchers...))
}

// countOverRange is how many events the recorded rate adds up to over the
// range.
func countOverRange(by, rec string, matchers ...string) string {
	return overRange(by, rec, matchers...) + " * ${__range_s}"
}

// leaderboard is a table of one row per value of by (assignee or group)
// over the selected range: solved tickets, median first reply, CSAT, bad
// ratings, reopen rate, first-contact resolution and first-reply SLA met.
func leaderboard(title, by string) *table.PanelBuilder {
	cols := []struct {
		ref, name, unit, expr string
	}{
		{"A", "Solved", units.Short, "sort_desc(" + countOverRange(by, recSolved) + ")"},
		// Classic buckets, or the native histogram when only that is scraped.
		{"B", "Median first reply", units.Seconds, fmt.Sprintf("histogram_quantile(0.5, sum by (%[1]s, le) (avg_over_time(%[2]s[$__range])))"+
			" or histogram_quantile(0.5, sum by (%[1]s) (avg_over_time(%[3]s[$__range])))",
			by, agentRecorded(recFirstReplyLe, `hours="$hours"`), agentRecorded(recFirstReplyNat, `hours="$hours"`))},
		{"C", "CSAT", units.PercentUnit, overRange(by, recRatings, `rating="good"`) + " / " + overRange(by, recRatings)},
		{"D", "Bad ratings", units.Short, countOverRange(by, recRatings, `rating="bad"`)},
		{"E", "Reopen rate", units.PercentUnit, overRange(by, recReopened) + " / " + overRange(by, recSolved)},
		{"F", "First-contact resolution", units.PercentUnit, overRange(by, recFirstContact) + " / " + overRange(by, recFirstSolved)},
		{"G", "First-reply SLA met", units.PercentUnit, overRange(by, recFirstReplySLA, `result="met"`) + " / " + overRange(by, recFirstReplySLA)},
	}
	names := map[string]string{}
	order := map[string]int{by: 0}
	p := table.NewPanelBuilder().
		Title(title).
		Description(fmt.Sprintf("Per %s over the selected range, from the cx-exporter-agents recording rules (5-minute rates averaged over the range): "+
			"tickets solved, median first reply ($hours hours), CSAT (good / all ratings), bad ratings, reopens / solves, "+
			"first-contact resolution (one reply, no reopen, over first solves) and the share of first-reply SLA results that met the target. "+
			"Each event counts under the assignee and group of its time. First-contact resolution is empty for vendors that count no replies.", by)).
		Datasource(datasourceRef()).
		Unit(units.Short).
		Span(24).Height(10).
		CellHeight(common.TableCellHeightSm).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName("Solved").Desc(true)})
	for i, c := range cols {
		p.WithTarget(instant(c.ref, c.expr, "").Format(prometheus.PromQueryFormatTable))
		names["Value #"+c.ref] = c.name
		order["Value #"+c.ref] = i + 1
		p.OverrideByName("Value #"+c.ref, []dashboard.DynamicConfigValue{{Id: "unit", Value: c.unit}})
	}
	return p.
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(dashboard.DataTransformerConfig{
			Id: "organize",
			Options: map[string]any{
				"excludeByName": map[string]bool{"Time": true},
				"indexByName":   order,
				"renameByName":  names,
			},
		})
}

// assigneeVariable selects agents. "All" is ".*": a deployment that does
// not export assignee has no such label.
func assigneeVariable() *dashboard.QueryVariableBuilder {
	return ticketLabelVariable("assignee").
		Description("Ticket assignee (exported when CX_TICKET_LABELS includes assignee: the agent's name, or id with CX_AGENT_LABEL=id; " +
			"the most active agents keep their own series, the rest are other, unassigned tickets none).")
}

func agentsTeams() *dashboard.DashboardBuilder {
	return newDashboard("cx-agents-teams", "CX / Agents and teams",
		"Who is carrying the queue: per-agent and per-group leaderboards, backlog and SLA state, from cx-exporter's group and assignee ticket labels.").
		WithVariable(datasourceVariable()).
		WithVariable(sourceVariable()).
		WithVariable(ticketLabelVariable("group")).
		WithVariable(assigneeVariable()).
		WithVariable(hoursVariable()).
		WithRow(dashboard.NewRowBuilder("Leaderboards (selected range)")).
		WithPanel(leaderboard("Agents leaderboard", "assignee")).
		WithPanel(leaderboard("Groups leaderboard", "group")).
		WithRow(dashboard.NewRowBuilder("Backlog and SLA now")).
		WithPanel(timeseriesPanel("Backlog by group",
			"Unresolved tickets per group now (new, open, pending, on hold), under each ticket's group at its last change.",
			units.Short,
			query("A", fmt.Sprintf(`sum by (group) (%s)`, agentMetric("helpdesk_open_tickets")), "{{group}}")).
			Min(0)).
		WithPanel(timeseriesPanel("Oldest open ticket by group",
			"Age of each group's oldest unresolved ticket.",
			units.Seconds,
			query("A", fmt.Sprintf(`max by (group) (%s)`, agentMetric("helpdesk_open_ticket_oldest_age_seconds")), "{{group}}")).
			Min(0)).
		WithPanel(timeseriesPanel("First-reply SLA state by group",
			"Tickets awaiting a first reply per group by SLA state (at_risk: under 25% of the target left; breached: past it). Which team is behind on first replies right now.",
			units.Short,
			query("A", fmt.Sprintf(`sum by (group, state) (%s)`, agentMetric("helpdesk_first_reply_sla_tickets", `state=~"at_risk|breached"`)), "{{group}} {{state}}")).
			Min(0)).
		WithPanel(timeseriesPanel("Resolution SLA state by group",
			"Unresolved tickets never solved yet per group by resolution-SLA state (at_risk, breached).",
			units.Short,
			query("A", fmt.Sprintf(`sum by (group, state) (%s)`, agentMetric("helpdesk_resolution_sla_tickets", `state=~"at_risk|breached"`)), "{{group}} {{state}}")).
			Min(0)).
		WithPanel(timeseriesPanel("Backlog by agent",
			"Unresolved tickets per assignee now; none is the unassigned queue.",
			units.Short,
			query("A", fmt.Sprintf(`sum by (assignee) (%s)`, agentMetric("helpdesk_open_tickets")), "{{assignee}}")).
			Min(0)).
		WithPanel(timeseriesPanel("Oldest open ticket by agent",
			"Age of each assignee's oldest unresolved ticket.",
			units.Seconds,
			query("A", fmt.Sprintf(`max by (assignee) (%s)`, agentMetric("helpdesk_open_ticket_oldest_age_seconds")), "{{assignee}}")).
			Min(0)).
		WithRow(dashboard.NewRowBuilder("Throughput")).
		WithPanel(timeseriesPanel("Solved per hour by agent",
			"Tickets solved per hour by each assignee (re-solves after a reopen count again).",
			units.Short,
			query("A", fmt.Sprintf(`sum by (assignee) (%s)`+perHour, agentRecorded(recSolved)), "{{assignee}}")).
			Min(0)).
		WithPanel(timeseriesPanel("CSAT by group",
			"Per group: good / all satisfaction ratings over the last 7 days.",
			units.PercentUnit,
			query("A", strings.Join([]string{
				fmt.Sprintf(`sum by (group) (avg_over_time(%s[7d]))`, agentRecorded(recRatings, `rating="good"`)),
				fmt.Sprintf(`sum by (group) (avg_over_time(%s[7d]))`, agentRecorded(recRatings)),
			}, " / "), "{{group}}")).
			Min(0).Max(1))
}
