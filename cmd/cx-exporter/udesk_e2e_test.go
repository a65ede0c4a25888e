package main_test

import (
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakeudesk "github.com/cx-exporter/cx-exporter/internal/fake/udesk"
)

const (
	udE2EEmail = "admin@udesk-e2e.example"
	udE2EToken = "ud-e2e-fixture-token-w5n3" // a fixture, shaped like no real token
)

// Udesk codes used below.
const (
	udOpen, udResolved, udClosed, udSolving = 1, 2, 3, 4
	udUrgent, udHigh, udMedium, udLow       = 1, 2, 3, 4
)

// udeskE2E: Udesk has no "new" status (a new work order is open), gives no
// reply counts, never lists a deleted work order, and its status is a
// field of the work order, so an unknown one stays unknown. Its "solving"
// (taken up, not yet resolved) is the storyline's pending.
var udeskE2E = helpdeskVendor{
	source: "udesk",
	labels: map[group][2]string{gFresh: {"normal", "web"}, gUrgent: {"urgent", "email"}, gNew: {"high", "chat"},
		gWaiting: {"normal", "phone"}, gRejected: {"low", "email"}, gBatch: {"low", "web"}},
	status:            map[string]string{"new": "open"},
	noReplyCounts:     true,
	noDeletes:         true,
	rejectionPersists: true,
	driver:            func(t *testing.T) helpdeskDriver { return newUdeskDriver(t) },
}

type udeskDriver struct {
	noAfter
	ud      *fakeudesk.Server
	life    fakeudesk.Ticket
	created time.Time
}

func newUdeskDriver(t *testing.T) *udeskDriver {
	// Pages of 5 make the kill land mid-sync.
	ud := fakeudesk.NewServer(fakeudesk.Options{Email: udE2EEmail, Token: udE2EToken, PageSize: 5, NoRateLimit: true})
	t.Cleanup(ud.Close)
	return &udeskDriver{ud: ud}
}

func (d *udeskDriver) env() []string {
	return []string{"CX_UDESK_URL=" + d.ud.URL, "CX_UDESK_EMAIL=" + udE2EEmail, "CX_UDESK_API_TOKEN=" + udE2EToken,
		"CX_UDESK_REQUESTS_PER_MINUTE=6000"}
}

func (d *udeskDriver) waiter() (string, func() []time.Time) {
	return "request", e2e.ServedBy(d.ud.Requests,
		func(r fakeudesk.Request) (time.Time, bool) { return r.At, r.Status == 200 })
}

func (d *udeskDriver) backfill(now time.Time) {
	d.ud.Put(fakeudesk.Ticket{ID: 1, StatusID: udClosed, PriorityID: udLow, Platform: "email", CreatedAt: now.Add(-48 * time.Hour),
		UpdatedAt: now.Add(-23 * time.Hour), FirstReplyAt: now.Add(-47 * time.Hour), ResolvedAt: now.Add(-24 * time.Hour),
		ClosedAt: now.Add(-24 * time.Hour), Satisfaction: &fakeudesk.Satisfaction{Score: 5, CreatedAt: now.Add(-23 * time.Hour)}})
	d.ud.Put(fakeudesk.Ticket{ID: 2, StatusID: udOpen, PriorityID: udMedium, Platform: "hc", CreatedAt: now.Add(-3 * time.Hour), UpdatedAt: now.Add(-3 * time.Hour)})
	d.ud.Put(fakeudesk.Ticket{ID: 3, StatusID: udOpen, PriorityID: udUrgent, Platform: "email", CreatedAt: now.Add(-7 * time.Hour), UpdatedAt: now.Add(-7 * time.Hour)})
	d.ud.Put(fakeudesk.Ticket{ID: 4, StatusID: udOpen, PriorityID: udHigh, Platform: "im", CreatedAt: now.Add(-210 * time.Minute), UpdatedAt: now.Add(-200 * time.Minute)})
	d.ud.Put(fakeudesk.Ticket{ID: 5, StatusID: udSolving, PriorityID: udMedium, Platform: "call", CreatedAt: now.Add(-7 * time.Hour), UpdatedAt: now.Add(-6 * time.Hour),
		FirstReplyAt: now.Add(-6 * time.Hour)})
}

func (d *udeskDriver) step(mut func(*fakeudesk.Ticket)) {
	mut(&d.life)
	d.life.UpdatedAt = time.Time{}
	d.ud.Put(d.life)
}

func (d *udeskDriver) at(minutes int) time.Time {
	return d.created.Add(time.Duration(minutes) * time.Minute)
}

func (d *udeskDriver) create(at time.Time) {
	d.created = at
	d.life = fakeudesk.Ticket{ID: 100, StatusID: udOpen, PriorityID: udUrgent, Platform: "email", CreatedAt: at}
	d.step(func(*fakeudesk.Ticket) {})
}

func (d *udeskDriver) reply() {
	d.step(func(t *fakeudesk.Ticket) { t.FirstReplyAt, t.StatusID = d.at(30), udSolving })
}

func (d *udeskDriver) solve() {
	d.step(func(t *fakeudesk.Ticket) { t.StatusID, t.ResolvedAt = udResolved, d.at(90) })
}

func (d *udeskDriver) reopen() {
	d.step(func(t *fakeudesk.Ticket) { t.StatusID = udOpen })
}

// resolve: Udesk records no second reply, only the new resolution.
func (d *udeskDriver) resolve() {
	d.step(func(t *fakeudesk.Ticket) { t.StatusID, t.ResolvedAt = udResolved, d.at(120) })
}

func (d *udeskDriver) rate(good bool) {
	score := map[bool]int{true: 5, false: 1}[good]
	d.step(func(t *fakeudesk.Ticket) {
		t.Satisfaction = &fakeudesk.Satisfaction{Score: score, CreatedAt: time.Now().UTC()}
	})
}

func (d *udeskDriver) remove() {} // noDeletes: Udesk lists no deleted work order
func (d *udeskDriver) touch()  { d.ud.Touch(1) }

func (d *udeskDriver) reject() {
	d.ud.Put(fakeudesk.Ticket{ID: 200, StatusID: 9, PriorityID: udLow, Platform: "email", CreatedAt: time.Now().UTC()})
	d.ud.Put(fakeudesk.Ticket{ID: 201, StatusID: udOpen, PriorityID: udMedium, Platform: "hc", CreatedAt: time.Now().UTC()})
}

func (d *udeskDriver) retry() { d.ud.Touch(200) }

func (d *udeskDriver) batch(n int) {
	d.ud.SetLatency(300 * time.Millisecond)
	d.ud.ResetRequests()
	for i := range n {
		c := time.Now().UTC().Truncate(time.Second)
		d.ud.Put(fakeudesk.Ticket{ID: int64(1000 + i), StatusID: udResolved, PriorityID: udLow, Platform: "hc", CreatedAt: c,
			FirstReplyAt: c.Add(10 * time.Minute), ResolvedAt: c.Add(time.Hour)})
	}
}

func (d *udeskDriver) requests() int { return len(d.ud.Requests()) }

func (d *udeskDriver) fast() []string {
	d.ud.SetLatency(0)
	return nil
}

func (d *udeskDriver) secrets() []string { return []string{udE2EToken} }

// TestE2EUdeskFaults: through the real binary, a 429 (Udesk's code 2004,
// no Retry-After) and a 500 are retried, each retry signed with a fresh
// nonce (the fake refuses a reused one), and each work order counts once.
func TestE2EUdeskFaults(t *testing.T) {
	t.Parallel()
	d := newUdeskDriver(t)
	s := newHelpdeskScenario(t, udeskE2E, d)
	s.start()
	s.Synced()
	retries := func(reason string) string {
		return e2e.Series("cx_exporter_api_retries_total", "source", "udesk", "reason", reason)
	}
	now := time.Now().UTC()
	d.ud.InjectFault(fakeudesk.Fault429, 1)
	d.ud.Put(fakeudesk.Ticket{ID: 1, StatusID: udOpen, PriorityID: udLow, Platform: "hc", CreatedAt: now})
	s.Synced()
	d.ud.InjectFault(fakeudesk.Fault500, 1)
	d.ud.Put(fakeudesk.Ticket{ID: 2, StatusID: udOpen, PriorityID: udLow, Platform: "hc", CreatedAt: now})
	m := s.Synced()
	if m[retries("rate_limited")] < 1 || m[retries("server_error")] < 1 {
		t.Errorf("retries: rate_limited %v, server_error %v; want both ≥ 1", m[retries("rate_limited")], m[retries("server_error")])
	}
	if got := m[udeskE2E.key(gBatch, "helpdesk_tickets_created_total")]; got != 2 {
		t.Errorf("created = %v, want 2", got)
	}
	if up := m[e2e.Series("cx_exporter_source_up", "source", "udesk", "kind", "udesk")]; up != 1 {
		t.Errorf("source_up = %v after the faults were retried", up)
	}
	var saw429, saw500 bool
	for _, r := range d.ud.Requests() {
		saw429 = saw429 || r.Code == fakeudesk.CodeRateLimited
		saw500 = saw500 || r.Code == fakeudesk.CodeServerError
		if r.Status == 401 {
			t.Errorf("a request was refused for its signature (nonce reused on retry?): %+v", r)
		}
	}
	if !saw429 || !saw500 {
		t.Errorf("the fake answered 429: %v, 500: %v", saw429, saw500)
	}
	if err := s.Exp.Stop(); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
}
