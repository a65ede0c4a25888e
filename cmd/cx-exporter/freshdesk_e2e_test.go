package main_test

import (
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakefreshdesk "github.com/cx-exporter/cx-exporter/internal/fake/freshdesk"
)

const fdE2EKey = "fd-e2e-fixture-key-m4p8" // a fixture, shaped like no real key

// Freshdesk codes used below.
const (
	fdOpen, fdPending, fdResolved, fdClosed = 2, 3, 4, 5
	fdLow, fdMedium, fdHigh, fdUrgent       = 1, 2, 3, 4
	fdEmail, fdPortal, fdPhone, fdChat      = 1, 2, 3, 7
)

// freshdeskE2E: Freshdesk has no "new" status (a new ticket waiting on
// the customer is pending), gives no reply counts (so no FCR and no
// replies per ticket), and its status is a field of the ticket, so an
// unknown one stays unknown.
var freshdeskE2E = helpdeskVendor{
	source: "freshdesk",
	labels: map[group][2]string{gFresh: {"normal", "web"}, gUrgent: {"urgent", "email"}, gNew: {"high", "chat"},
		gWaiting: {"normal", "phone"}, gRejected: {"low", "email"}, gBatch: {"low", "web"}},
	status:            map[string]string{"new": "pending"},
	noReplyCounts:     true,
	rejectionPersists: true,
	driver:            func(t *testing.T) helpdeskDriver { return newFreshdeskDriver(t) },
}

type freshdeskDriver struct {
	noAfter
	fd      *fakefreshdesk.Server
	life    fakefreshdesk.Ticket
	created time.Time
}

func newFreshdeskDriver(t *testing.T) *freshdeskDriver {
	fd := fakefreshdesk.NewServer(fakefreshdesk.Options{APIKey: fdE2EKey, PageSize: 5, NoRateLimit: true})
	t.Cleanup(fd.Close)
	return &freshdeskDriver{fd: fd}
}

func (d *freshdeskDriver) env() []string {
	return []string{"CX_FRESHDESK_URL=" + d.fd.URL, "CX_FRESHDESK_API_KEY=" + fdE2EKey}
}

func (d *freshdeskDriver) waiter() (string, func() []time.Time) {
	return "request", e2e.ServedBy(d.fd.Requests,
		func(r fakefreshdesk.Request) (time.Time, bool) { return r.At, r.Status == 200 })
}

func (d *freshdeskDriver) backfill(now time.Time) {
	d.fd.Put(fakefreshdesk.Ticket{ID: 1, Status: fdClosed, Priority: fdLow, Source: fdEmail, CreatedAt: now.Add(-48 * time.Hour),
		UpdatedAt: now.Add(-24 * time.Hour),
		Stats:     fakefreshdesk.Stats{FirstRespondedAt: now.Add(-47 * time.Hour), ResolvedAt: now.Add(-24 * time.Hour), ClosedAt: now.Add(-24 * time.Hour)}})
	d.fd.RateAt(1, 103, now.Add(-23*time.Hour))
	d.fd.Put(fakefreshdesk.Ticket{ID: 2, Status: fdOpen, Priority: fdMedium, Source: fdPortal, CreatedAt: now.Add(-3 * time.Hour), UpdatedAt: now.Add(-3 * time.Hour)})
	d.fd.Put(fakefreshdesk.Ticket{ID: 3, Status: fdOpen, Priority: fdUrgent, Source: fdEmail, CreatedAt: now.Add(-7 * time.Hour), UpdatedAt: now.Add(-7 * time.Hour)})
	d.fd.Put(fakefreshdesk.Ticket{ID: 4, Status: fdPending, Priority: fdHigh, Source: fdChat, CreatedAt: now.Add(-210 * time.Minute), UpdatedAt: now.Add(-200 * time.Minute)})
	d.fd.Put(fakefreshdesk.Ticket{ID: 5, Status: fdPending, Priority: fdMedium, Source: fdPhone, CreatedAt: now.Add(-7 * time.Hour), UpdatedAt: now.Add(-6 * time.Hour),
		Stats: fakefreshdesk.Stats{FirstRespondedAt: now.Add(-6 * time.Hour)}})
}

func (d *freshdeskDriver) step(mut func(*fakefreshdesk.Ticket)) {
	mut(&d.life)
	d.life.UpdatedAt = time.Time{}
	d.fd.Put(d.life)
}

func (d *freshdeskDriver) at(minutes int) time.Time {
	return d.created.Add(time.Duration(minutes) * time.Minute)
}

func (d *freshdeskDriver) create(at time.Time) {
	d.created = at
	d.life = fakefreshdesk.Ticket{ID: 100, Status: fdOpen, Priority: fdUrgent, Source: fdEmail, CreatedAt: at}
	d.step(func(*fakefreshdesk.Ticket) {})
}

func (d *freshdeskDriver) reply() {
	d.step(func(t *fakefreshdesk.Ticket) { t.Stats.FirstRespondedAt = d.at(30) })
}

func (d *freshdeskDriver) solve() {
	d.step(func(t *fakefreshdesk.Ticket) { t.Status, t.Stats.ResolvedAt = fdResolved, d.at(90) })
}

func (d *freshdeskDriver) reopen() {
	d.step(func(t *fakefreshdesk.Ticket) { t.Status, t.Stats.ReopenedAt = fdOpen, d.at(100) })
}

// resolve: Freshdesk records no second reply, only the new resolution.
func (d *freshdeskDriver) resolve() {
	d.step(func(t *fakefreshdesk.Ticket) { t.Status, t.Stats.ResolvedAt = fdResolved, d.at(120) })
}

func (d *freshdeskDriver) rate(good bool) {
	d.fd.Rate(100, map[bool]int{true: 103, false: -103}[good])
}

func (d *freshdeskDriver) remove() { d.fd.Delete(2) }
func (d *freshdeskDriver) touch()  { d.fd.Touch(1) } // a system update: the old ticket comes back unchanged

func (d *freshdeskDriver) reject() {
	d.fd.Put(fakefreshdesk.Ticket{ID: 200, Status: fdOpen, RawStatus: "escalated", Priority: fdLow, Source: fdEmail, CreatedAt: time.Now().UTC()})
	d.fd.Put(fakefreshdesk.Ticket{ID: 201, Status: fdOpen, Priority: fdMedium, Source: fdPortal, CreatedAt: time.Now().UTC()})
}

func (d *freshdeskDriver) retry() { d.fd.Touch(200) }

func (d *freshdeskDriver) batch(n int) {
	d.fd.SetLatency(300 * time.Millisecond)
	d.fd.ResetRequests()
	for i := range n {
		c := time.Now().UTC().Truncate(time.Second)
		d.fd.Put(fakefreshdesk.Ticket{ID: int64(1000 + i), Status: fdResolved, Priority: fdLow, Source: fdPortal, CreatedAt: c,
			Stats: fakefreshdesk.Stats{FirstRespondedAt: c.Add(10 * time.Minute), ResolvedAt: c.Add(time.Hour)}})
	}
}

func (d *freshdeskDriver) requests() int { return len(d.fd.Requests()) }

func (d *freshdeskDriver) fast() []string {
	d.fd.SetLatency(0)
	return nil
}

func (d *freshdeskDriver) secrets() []string { return []string{fdE2EKey} }
