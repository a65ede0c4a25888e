package main_test

import (
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
)

const (
	e2eEmail = "agent@example.invalid"
	e2eToken = "e2e-fixture-token-q7w3" // a fixture, shaped like no real key
)

// zendeskE2E: Zendesk reports business-hours durations, and wait and
// hold times, itself in its metric sets.
var zendeskE2E = helpdeskVendor{
	source: "zendesk",
	labels: map[group][2]string{gFresh: {"normal", "web"}, gUrgent: {"urgent", "email"}, gNew: {"high", "chat"},
		gWaiting: {"normal", "phone"}, gRejected: {"low", "email"}, gBatch: {"low", "web"}},
	ownBusinessHours: true,
	waitTimes:        true,
	driver:           func(t *testing.T) helpdeskDriver { return newZendeskDriver(t) },
}

type zendeskDriver struct {
	noAfter
	zd   *fakezendesk.Server
	life fakezendesk.Ticket
}

func newZendeskDriver(t *testing.T) *zendeskDriver {
	zd := fakezendesk.NewServer(fakezendesk.Options{Email: e2eEmail, APIToken: e2eToken, NoRateLimit: true})
	t.Cleanup(zd.Close)
	return &zendeskDriver{zd: zd}
}

func (d *zendeskDriver) env() []string {
	return []string{
		"CX_ZENDESK_URL=" + d.zd.URL,
		"CX_ZENDESK_EMAIL=" + e2eEmail,
		"CX_ZENDESK_API_TOKEN=" + e2eToken,
		"CX_ZENDESK_PAGE_SIZE=5",
		"CX_ZENDESK_EXPORT_RATE=120", // 0.5 s a page: the kill lands mid-sync
	}
}

func (d *zendeskDriver) waiter() (string, func() []time.Time) {
	return "export request", e2e.ServedBy(d.zd.Requests,
		func(r fakezendesk.Request) (time.Time, bool) { return r.At, r.Status == 200 })
}

func (d *zendeskDriver) backfill(now time.Time) {
	d.zd.Put(fakezendesk.Ticket{ID: 1, Status: "closed", Priority: "low", Channel: "email",
		CreatedAt: now.Add(-48 * time.Hour), Satisfaction: "good",
		Metrics: fakezendesk.Metrics{Replies: 1, SolvedAt: now.Add(-24 * time.Hour),
			ReplyTime: &fakezendesk.MinutePair{Calendar: 30, Business: 30}, FullResolutionTime: &fakezendesk.MinutePair{Calendar: 1440, Business: 480}}})
	d.zd.Put(fakezendesk.Ticket{ID: 2, Status: "open", Priority: "normal", Channel: "web", CreatedAt: now.Add(-3 * time.Hour)})
	d.zd.Put(fakezendesk.Ticket{ID: 3, Status: "open", Priority: "urgent", Channel: "email", CreatedAt: now.Add(-7 * time.Hour)})
	d.zd.Put(fakezendesk.Ticket{ID: 4, Status: "new", Priority: "high", Channel: "chat", CreatedAt: now.Add(-210 * time.Minute)})
	d.zd.Put(fakezendesk.Ticket{ID: 5, Status: "pending", Priority: "normal", Channel: "phone", CreatedAt: now.Add(-7 * time.Hour),
		Metrics: fakezendesk.Metrics{Replies: 1, ReplyTime: &fakezendesk.MinutePair{Calendar: 60, Business: 60}}})
}

// step changes the life ticket and puts it as a new change.
func (d *zendeskDriver) step(mut func(*fakezendesk.Ticket)) {
	mut(&d.life)
	d.life.UpdatedAt = time.Time{}
	d.zd.Put(d.life)
}

func (d *zendeskDriver) create(at time.Time) {
	d.life = fakezendesk.Ticket{ID: 100, Status: "new", Priority: "urgent", Channel: "email", CreatedAt: at}
	d.step(func(*fakezendesk.Ticket) {})
}

func (d *zendeskDriver) reply() {
	d.step(func(t *fakezendesk.Ticket) {
		t.Status, t.Metrics.Replies = "open", 1
		t.Metrics.ReplyTime = &fakezendesk.MinutePair{Calendar: 30, Business: 20}
	})
}

func (d *zendeskDriver) solve() {
	d.step(func(t *fakezendesk.Ticket) {
		t.Status, t.Metrics.SolvedAt = "solved", time.Now().UTC()
		t.Metrics.FullResolutionTime = &fakezendesk.MinutePair{Calendar: 90, Business: 60}
		t.Metrics.RequesterWaitTime = &fakezendesk.MinutePair{Calendar: 40, Business: 30}
		t.Metrics.AgentWaitTime = &fakezendesk.MinutePair{Calendar: 30, Business: 20}
		t.Metrics.OnHoldTime = &fakezendesk.MinutePair{Calendar: 20, Business: 10}
	})
}

func (d *zendeskDriver) reopen() {
	d.step(func(t *fakezendesk.Ticket) { t.Status, t.Metrics.Reopens = "open", 1 })
}

func (d *zendeskDriver) resolve() {
	d.step(func(t *fakezendesk.Ticket) {
		t.Status, t.Metrics.Replies, t.Metrics.SolvedAt = "solved", 2, time.Now().UTC()
		t.Metrics.FullResolutionTime = &fakezendesk.MinutePair{Calendar: 120, Business: 80}
		t.Metrics.RequesterWaitTime = &fakezendesk.MinutePair{Calendar: 50, Business: 35}
		t.Metrics.AgentWaitTime = &fakezendesk.MinutePair{Calendar: 40, Business: 25}
		t.Metrics.OnHoldTime = &fakezendesk.MinutePair{Calendar: 30, Business: 20}
	})
}

func (d *zendeskDriver) rate(good bool) {
	d.step(func(t *fakezendesk.Ticket) { t.Satisfaction = map[bool]string{true: "good", false: "bad"}[good] })
}

func (d *zendeskDriver) remove() { d.zd.Delete(2) }
func (d *zendeskDriver) touch()  { d.zd.Touch(1) } // a system update: the old ticket comes back unchanged

// reject: the fault makes the first ticket of the next page "escalated".
func (d *zendeskDriver) reject() {
	d.zd.InjectFault(fakezendesk.FaultUnknownStatus, 1)
	d.zd.Put(fakezendesk.Ticket{ID: 200, Status: "open", Priority: "low", Channel: "email", CreatedAt: time.Now().UTC()})
	d.zd.Put(fakezendesk.Ticket{ID: 201, Status: "open", Priority: "normal", Channel: "web", CreatedAt: time.Now().UTC()})
}

func (d *zendeskDriver) retry() { d.zd.Touch(200) }

func (d *zendeskDriver) batch(n int) {
	d.zd.ResetRequests()
	for i := range n {
		d.zd.Put(fakezendesk.Ticket{ID: int64(1000 + i), Status: "solved", Priority: "low", Channel: "web", CreatedAt: time.Now().UTC(),
			Metrics: fakezendesk.Metrics{Replies: 1, SolvedAt: time.Now().UTC(),
				ReplyTime: &fakezendesk.MinutePair{Calendar: 10, Business: 10}, FullResolutionTime: &fakezendesk.MinutePair{Calendar: 60, Business: 60}}})
	}
}

func (d *zendeskDriver) requests() int     { return len(d.zd.Requests()) }
func (d *zendeskDriver) fast() []string    { return []string{"CX_ZENDESK_EXPORT_RATE=600"} }
func (d *zendeskDriver) secrets() []string { return []string{e2eToken} }

// scenario is the Zendesk storyline's set-up, for the Zendesk-only tests
// (faults, SIGTERM).
type scenario struct {
	*hdScenario
	zd *fakezendesk.Server
}

func newScenario(t *testing.T) *scenario {
	d := newZendeskDriver(t)
	return &scenario{hdScenario: newHelpdeskScenario(t, zendeskE2E, d), zd: d.zd}
}

// hd builds a zendesk helpdesk series key with the default labels.
func hd(name, priority, channel string, kv ...string) string {
	return e2e.HelpdeskKey("zendesk", name, priority, channel, kv...)
}
