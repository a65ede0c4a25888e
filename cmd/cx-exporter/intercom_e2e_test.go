package main_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakeintercom "github.com/cx-exporter/cx-exporter/internal/fake/intercom"
)

const icE2EToken = "ic-e2e-fixture-token-k2p9" // a fixture, shaped like no real key

// intercomE2E: Intercom has two priorities (priority is high, else
// normal), snoozes instead of new or pending (on_hold), never returns a
// deleted conversation, and its state is a field of the conversation, so
// an unknown one stays unknown.
var intercomE2E = helpdeskVendor{
	source: "intercom",
	labels: map[group][2]string{gFresh: {"normal", "chat"}, gUrgent: {"high", "email"}, gNew: {"high", "chat"},
		gWaiting: {"normal", "phone"}, gRejected: {"normal", "email"}, gBatch: {"normal", "social"}},
	status:            map[string]string{"new": "on_hold", "pending": "on_hold"},
	resolutionSLA:     map[group]string{gUrgent: "within"}, // high: 7h of 1d
	noDeletes:         true,
	rejectionPersists: true,
	driver:            func(t *testing.T) helpdeskDriver { return newIntercomDriver(t) },
}

type intercomDriver struct {
	noAfter
	ic        *fakeintercom.Server
	life      fakeintercom.Conversation
	created   time.Time
	closedOld fakeintercom.Conversation
	rejected  fakeintercom.Conversation
}

func newIntercomDriver(t *testing.T) *intercomDriver {
	// Pages of 5 (the fake caps per_page) make the kill land mid-sync.
	ic := fakeintercom.NewServer(fakeintercom.Options{Token: icE2EToken, MaxPageSize: 5, NoRateLimit: true})
	t.Cleanup(ic.Close)
	return &intercomDriver{ic: ic}
}

func (d *intercomDriver) env() []string {
	return []string{"CX_INTERCOM_URL=" + d.ic.URL, "CX_INTERCOM_TOKEN=" + icE2EToken}
}

func (d *intercomDriver) waiter() (string, func() []time.Time) {
	return "search request", e2e.ServedBy(d.ic.Requests,
		func(r fakeintercom.Request) (time.Time, bool) { return r.At, r.Status == 200 })
}

func (d *intercomDriver) backfill(now time.Time) {
	d.closedOld = fakeintercom.Conversation{ID: "1", State: "closed", Priority: "not_priority", SourceType: "email",
		CreatedAt: now.Add(-48 * time.Hour), FirstAdminReplyAt: now.Add(-47 * time.Hour), LastAdminReplyAt: now.Add(-47 * time.Hour),
		FirstCloseAt: now.Add(-24 * time.Hour), LastCloseAt: now.Add(-24 * time.Hour), Rating: 5, RatingAt: now.Add(-23 * time.Hour),
		UpdatedAt: now.Add(-23 * time.Hour)}
	d.ic.Put(d.closedOld)
	d.ic.Put(fakeintercom.Conversation{ID: "2", State: "open", Priority: "not_priority", SourceType: "conversation", CreatedAt: now.Add(-3 * time.Hour), UpdatedAt: now.Add(-3 * time.Hour)})
	d.ic.Put(fakeintercom.Conversation{ID: "3", State: "open", Priority: "priority", SourceType: "email", CreatedAt: now.Add(-7 * time.Hour), UpdatedAt: now.Add(-7 * time.Hour)})
	d.ic.Put(fakeintercom.Conversation{ID: "4", State: "snoozed", Priority: "priority", SourceType: "conversation", CreatedAt: now.Add(-210 * time.Minute), UpdatedAt: now.Add(-200 * time.Minute)})
	d.ic.Put(fakeintercom.Conversation{ID: "5", State: "snoozed", Priority: "not_priority", SourceType: "phone_call", CreatedAt: now.Add(-7 * time.Hour),
		FirstAdminReplyAt: now.Add(-6 * time.Hour), LastAdminReplyAt: now.Add(-6 * time.Hour), UpdatedAt: now.Add(-6 * time.Hour)})
}

func (d *intercomDriver) step(mut func(*fakeintercom.Conversation)) {
	mut(&d.life)
	d.life.UpdatedAt = time.Time{}
	d.ic.Put(d.life)
}

func (d *intercomDriver) at(minutes int) time.Time {
	return d.created.Add(time.Duration(minutes) * time.Minute)
}

func (d *intercomDriver) create(at time.Time) {
	d.created = at
	d.life = fakeintercom.Conversation{ID: "100", State: "open", Priority: "priority", SourceType: "email", CreatedAt: at}
	d.step(func(*fakeintercom.Conversation) {})
}

func (d *intercomDriver) reply() {
	d.step(func(c *fakeintercom.Conversation) { c.FirstAdminReplyAt, c.LastAdminReplyAt = d.at(30), d.at(30) })
}

func (d *intercomDriver) solve() {
	d.step(func(c *fakeintercom.Conversation) {
		c.State, c.FirstCloseAt, c.LastCloseAt = "closed", d.at(90), d.at(90)
	})
}

func (d *intercomDriver) reopen() {
	d.step(func(c *fakeintercom.Conversation) { c.State, c.CountReopens = "open", 1 })
}

// resolve: Intercom counts no replies; a later last reply means two.
func (d *intercomDriver) resolve() {
	d.step(func(c *fakeintercom.Conversation) {
		c.State, c.LastAdminReplyAt, c.LastCloseAt = "closed", d.at(100), d.at(120)
	})
}

func (d *intercomDriver) rate(good bool) {
	if good {
		d.step(func(c *fakeintercom.Conversation) { c.Rating, c.RatingAt = 5, d.at(122) })
	} else {
		d.step(func(c *fakeintercom.Conversation) { c.Rating, c.RatingAt = 1, d.at(124) })
	}
}

func (d *intercomDriver) remove() { panic("intercom: deletions are not observable") }

// touch: the old conversation comes back unchanged with a newer updated_at.
func (d *intercomDriver) touch() {
	d.closedOld.UpdatedAt = time.Time{}
	d.ic.Put(d.closedOld)
}

func (d *intercomDriver) reject() {
	d.rejected = fakeintercom.Conversation{ID: "200", State: "escalated", Priority: "not_priority", SourceType: "email"}
	d.ic.Put(d.rejected, fakeintercom.Conversation{ID: "201", State: "open", Priority: "not_priority", SourceType: "conversation"})
}

func (d *intercomDriver) retry() { d.ic.Put(d.rejected) }

func (d *intercomDriver) batch(n int) {
	d.ic.SetLatency(400 * time.Millisecond)
	time.Sleep(time.Second) // a new second: the rejected conversation leaves the re-read tail
	d.ic.ResetRequests()
	var batch []fakeintercom.Conversation
	for i := range n {
		c := time.Now().UTC().Truncate(time.Second)
		batch = append(batch, fakeintercom.Conversation{ID: strconv.Itoa(1000 + i), State: "closed", Priority: "not_priority", SourceType: "twitter", CreatedAt: c,
			FirstAdminReplyAt: c.Add(600 * time.Second), LastAdminReplyAt: c.Add(600 * time.Second), LastCloseAt: c.Add(3600 * time.Second)})
	}
	d.ic.Put(batch...)
}

func (d *intercomDriver) requests() int { return len(d.ic.Requests()) }

func (d *intercomDriver) fast() []string {
	d.ic.SetLatency(0)
	return nil
}

func (d *intercomDriver) secrets() []string { return []string{icE2EToken} }
