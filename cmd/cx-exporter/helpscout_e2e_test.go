package main_test

import (
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakehelpscout "github.com/cx-exporter/cx-exporter/internal/fake/helpscout"
)

const (
	hsE2EAppID  = "e2e-app"
	hsE2ESecret = "e2e-fixture-secret-m4x8" // a fixture, shaped like no real secret
)

// helpScoutE2E: Help Scout has no priority (every conversation is
// "none", whose first-reply target is 8h and resolution target 3d) and no
// "new" status; a deleted conversation is one marked spam.
var helpScoutE2E = helpdeskVendor{
	source: "helpscout",
	labels: map[group][2]string{gFresh: {"none", "chat"}, gUrgent: {"none", "email"}, gNew: {"none", "phone"},
		gWaiting: {"none", "web"}, gRejected: {"none", "social"}, gBatch: {"none", "api"}},
	status:        map[string]string{"new": "pending"},
	sla:           map[group]string{gUrgent: "at_risk", gNew: "within"}, // 7h and 3.5h of 8h
	resolutionSLA: map[group]string{gUrgent: "within"},                  // 7h of 3d
	driver:        func(t *testing.T) helpdeskDriver { return newHelpScoutDriver(t) },
}

type helpScoutDriver struct {
	hs      *fakehelpscout.Server
	life    fakehelpscout.Conversation
	created time.Time
}

func newHelpScoutDriver(t *testing.T) *helpScoutDriver {
	// Short-lived tokens: the exporter refreshes them during the test.
	hs := fakehelpscout.NewServer(fakehelpscout.Options{AppID: hsE2EAppID, AppSecret: hsE2ESecret, NoRateLimit: true,
		PageSize: 5, TokenTTL: 5 * time.Second})
	t.Cleanup(hs.Close)
	return &helpScoutDriver{hs: hs}
}

func (d *helpScoutDriver) env() []string {
	return []string{
		"CX_HELPSCOUT_URL=" + d.hs.URL,
		"CX_HELPSCOUT_APP_ID=" + hsE2EAppID,
		"CX_HELPSCOUT_APP_SECRET=" + hsE2ESecret,
	}
}

// waiter: a sync is waited on through the conversations listing only.
func (d *helpScoutDriver) waiter() (string, func() []time.Time) {
	return "listing request", e2e.ServedBy(d.hs.Requests,
		func(r fakehelpscout.Request) (time.Time, bool) {
			return r.At, r.Path == "/v2/conversations" && r.Status == 200
		})
}

func (d *helpScoutDriver) backfill(now time.Time) {
	d.hs.Put(fakehelpscout.Conversation{ID: 1, Status: "closed", Source: "email", MailboxID: 7,
		CreatedAt: now.Add(-48 * time.Hour), ClosedAt: now.Add(-24 * time.Hour),
		Threads: []fakehelpscout.Thread{{Type: "customer", CreatedBy: "customer", CreatedAt: now.Add(-48 * time.Hour)},
			{CreatedAt: now.Add(-48*time.Hour + 30*time.Minute)}}})
	d.hs.RateAt(1, "great", now.Add(-24*time.Hour))
	d.hs.Put(fakehelpscout.Conversation{ID: 2, Status: "active", Source: "chat", MailboxID: 7, CreatedAt: now.Add(-3 * time.Hour)})
	d.hs.Put(fakehelpscout.Conversation{ID: 3, Status: "active", Source: "email", MailboxID: 7, CreatedAt: now.Add(-7 * time.Hour)})
	d.hs.Put(fakehelpscout.Conversation{ID: 4, Status: "pending", Source: "phone", MailboxID: 7, CreatedAt: now.Add(-210 * time.Minute)})
	d.hs.Put(fakehelpscout.Conversation{ID: 5, Status: "pending", Source: "web", MailboxID: 7, CreatedAt: now.Add(-7 * time.Hour),
		Threads: []fakehelpscout.Thread{{Type: "customer", CreatedBy: "customer", CreatedAt: now.Add(-7 * time.Hour)},
			{CreatedAt: now.Add(-6 * time.Hour)}}})
}

// put puts the life conversation as a new change; its Threads are added.
func (d *helpScoutDriver) put(mut func(*fakehelpscout.Conversation)) {
	mut(&d.life)
	d.life.ModifiedAt = time.Time{}
	d.hs.Put(d.life)
	d.life.Threads = nil
}

func (d *helpScoutDriver) at(minutes int) time.Time {
	return d.created.Add(time.Duration(minutes) * time.Minute)
}

func (d *helpScoutDriver) create(at time.Time) {
	d.created = at
	d.life = fakehelpscout.Conversation{ID: 100, Status: "active", Source: "email", MailboxID: 7, CreatedAt: at}
	d.put(func(*fakehelpscout.Conversation) {})
}

func (d *helpScoutDriver) reply() { d.hs.AddThread(100, fakehelpscout.Thread{CreatedAt: d.at(30)}) }

func (d *helpScoutDriver) solve() {
	d.put(func(c *fakehelpscout.Conversation) { c.Status, c.ClosedAt = "closed", d.at(90) })
}

// reopen: the customer writes again.
func (d *helpScoutDriver) reopen() {
	d.put(func(c *fakehelpscout.Conversation) {
		c.Status, c.ClosedAt = "active", time.Time{}
		c.Threads = []fakehelpscout.Thread{{Type: "customer", CreatedBy: "customer"}}
	})
}

func (d *helpScoutDriver) resolve() {
	d.put(func(c *fakehelpscout.Conversation) {
		c.Status, c.ClosedAt = "closed", d.at(120)
		c.Threads = []fakehelpscout.Thread{{CreatedAt: d.at(100)}}
	})
}

func (d *helpScoutDriver) rate(good bool) {
	d.hs.Rate(100, map[bool]string{true: "great", false: "not_good"}[good])
}

func (d *helpScoutDriver) remove() {
	c2, _ := d.hs.Get(2)
	c2.Status, c2.ModifiedAt = "spam", time.Time{}
	d.hs.Put(c2)
}

func (d *helpScoutDriver) touch() { d.hs.Touch(1) } // a change that is no event: the old conversation comes back unchanged

// reject: the fault reports the last conversation of the next page,
// 200, with status "bogus".
func (d *helpScoutDriver) reject() {
	d.hs.InjectFault(fakehelpscout.FaultUnknownStatus, 1)
	d.hs.PutAll(fakehelpscout.Conversation{ID: 201, Status: "active", Source: "chat", CreatedAt: time.Now().UTC()},
		fakehelpscout.Conversation{ID: 200, Status: "active", Source: "twitter", CreatedAt: time.Now().UTC()})
}

func (d *helpScoutDriver) retry() { d.hs.Touch(200) }

func (d *helpScoutDriver) batch(n int) {
	d.hs.ResetRequests()
	d.hs.SetListDelay(500 * time.Millisecond)
	var batch []fakehelpscout.Conversation
	c0 := time.Now().UTC().Truncate(time.Second)
	for i := range n {
		batch = append(batch, fakehelpscout.Conversation{ID: int64(1000 + i), Status: "closed", Source: "api", CreatedAt: c0,
			ClosedAt: c0.Add(time.Hour), Threads: []fakehelpscout.Thread{{CreatedAt: c0.Add(10 * time.Minute)}}})
	}
	d.hs.PutAll(batch...)
}

func (d *helpScoutDriver) requests() int {
	n := 0
	for _, r := range d.hs.Requests() {
		if r.Path == "/v2/conversations" {
			n++
		}
	}
	return n
}

func (d *helpScoutDriver) fast() []string {
	d.hs.SetListDelay(0)
	return nil
}

func (d *helpScoutDriver) secrets() []string { return []string{hsE2ESecret, "fake-access-"} }

// after: the restarted exporter asked for a token of its own.
func (d *helpScoutDriver) after(t *testing.T) {
	for _, r := range d.hs.Requests() {
		if r.Path == "/v2/oauth2/token" {
			return
		}
	}
	t.Error("no token request after the restart")
}
