package billing

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type descs struct {
	subs, active, mrr, scheduled                        *prometheus.Desc
	started, churned, customersChurned, movements       *prometheus.Desc
	trialsStarted, trialsConverted, trialsCanceled      *prometheus.Desc
	customerChurnRatio, mrrChurnRatio, revenueRetention *prometheus.Desc
}

func newDescs(source string) descs {
	src := prometheus.Labels{"source": source}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, src)
	}
	return descs{
		subs:               d("billing_subscriptions", "Subscriptions now, not counting canceled or ended ones.", "status", "plan", "currency"),
		active:             d("billing_active_customers", "Customers with a paying (active or past_due, MRR above zero) subscription in the currency; a customer paying in two currencies counts in each.", "currency"),
		mrr:                d("billing_mrr", "Monthly recurring revenue, major units of the currency.", "currency", "plan"),
		scheduled:          d("billing_scheduled_churn_mrr", "MRR of paying subscriptions set to cancel at period end, major units.", "currency"),
		started:            d("billing_subscriptions_started_total", "Subscriptions that became paying for the first time.", "plan"),
		churned:            d("billing_subscriptions_churned_total", "Paying subscriptions that were canceled, ended or became unpaid.", "plan", "reason"),
		customersChurned:   d("billing_customers_churned_total", "Active customers that lost their last paying subscription."),
		movements:          d("billing_mrr_movements_total", "MRR moved, major units of the currency, always positive.", "currency", "kind"),
		trialsStarted:      d("billing_trials_started_total", "Trials begun by subscriptions that never paid.", "plan"),
		trialsConverted:    d("billing_trials_converted_total", "Trials whose first paid period began.", "plan"),
		trialsCanceled:     d("billing_trials_canceled_total", "Trials that ended without paying.", "plan"),
		customerChurnRatio: d("billing_customer_churn_ratio", "Customers churned in the window / (customers active at its start + customers paying for the first time in it).", "window"),
		mrrChurnRatio:      d("billing_mrr_churn_ratio", "Churn and contraction MRR in the window / MRR at its start.", "window", "currency"),
		revenueRetention:   d("billing_revenue_retention_ratio", "(MRR at the window's start of the customers active then + their expansion (net only) - contraction - churn in it) / that MRR.", "window", "currency", "kind"),
	}
}

// collector renders a Tracker's gauges and aggregates as the billing_*
// metrics. It never calls upstream: a scrape reads memory only.
type collector struct {
	tr  *Tracker
	d   descs
	now func() time.Time
}

// Collector returns the tracker's collector for source; now is the clock
// the 30-day ratio window ends at. Every metric carries the const label
// source. Amounts are in major units of their currency (see MinorPerMajor);
// billing_subscriptions and billing_mrr have a series for every plan and
// currency ever tracked, the per-currency metrics one for every currency
// seen, at zero if need be.
//
// The ratios come from the daily history in the aggregates (see
// Aggregates.ratios): billing_customer_churn_ratio{window="30d"} is the
// customers churned since 00:00 UTC 30 days ago over the customers active
// then plus those paying for the first time since (Stripe's subscriber
// churn rate, never above 1), billing_mrr_churn_ratio{window="30d",currency}
// the churn and contraction MRR over the MRR then, and
// billing_revenue_retention_ratio{window="30d",currency,kind="net|gross"}
// what the customers active then kept of their MRR; before 30 days of
// history exist the window starts at the oldest day recorded.
func (tr *Tracker) Collector(source string, now func() time.Time) prometheus.Collector {
	return &collector{tr: tr, d: newDescs(source), now: now}
}

// Describe implements prometheus.Collector.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.d.subs, c.d.active, c.d.mrr, c.d.scheduled, c.d.started, c.d.churned,
		c.d.customersChurned, c.d.movements, c.d.trialsStarted, c.d.trialsConverted, c.d.trialsCanceled,
		c.d.customerChurnRatio, c.d.mrrChurnRatio, c.d.revenueRetention} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	today := dayOf(c.now())
	c.tr.mu.RLock()
	defer c.tr.mu.RUnlock()
	g, a := c.tr.g, c.tr.agg
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- constMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- constMetric(d, prometheus.CounterValue, v, labels...)
	}
	currencies := map[string]bool{}
	for cur := range a.Movements {
		currencies[cur] = true
	}
	for _, e := range g.series {
		currencies[e.Currency] = true
		for _, st := range liveStatuses {
			gauge(c.d.subs, float64(e.Subs[st.index()]), string(st), e.Plan, e.Currency)
		}
		gauge(c.d.mrr, Major(e.Currency, e.MRRMinor), e.Currency, e.Plan)
	}
	for p, pc := range a.Plans {
		counter(c.d.started, float64(pc.Started), p)
		for i, r := range churnReasons {
			counter(c.d.churned, float64(pc.Churned[i]), p, r)
		}
		counter(c.d.trialsStarted, float64(pc.TrialsStarted), p)
		counter(c.d.trialsConverted, float64(pc.TrialsConverted), p)
		counter(c.d.trialsCanceled, float64(pc.TrialsCanceled), p)
	}
	counter(c.d.customersChurned, float64(a.CustomersChurned))
	r := a.ratios(today)
	gauge(c.d.customerChurnRatio, r.Customers, windowLabel)
	for cur := range currencies {
		gauge(c.d.active, float64(g.activeIn[cur]), cur)
		if v, ok := r.NetRetention[cur]; ok {
			gauge(c.d.revenueRetention, v, windowLabel, cur, "net")
			gauge(c.d.revenueRetention, r.GrossRetention[cur], windowLabel, cur, "gross")
		}
		gauge(c.d.scheduled, Major(cur, g.scheduled[cur]), cur)
		m := a.Movements[cur]
		for i, k := range MovementKinds {
			var v int64
			if m != nil {
				v = m[i]
			}
			counter(c.d.movements, Major(cur, v), cur, string(k))
		}
		gauge(c.d.mrrChurnRatio, r.MRR[cur], windowLabel, cur)
	}
}
