package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakeedesk "github.com/cx-exporter/cx-exporter/internal/fake/edesk"
)

const edE2EToken = "ed-e2e-fixture-token-w3n5" // a fixture, shaped like no real token

// eDesk channel ids of the fake's default channels.
const (
	edEmail, edForm, edChat, edPhone, edFacebook, edAmazon = 1, 2, 3, 4, 5, 6
)

// edeskE2E: eDesk has no priority (every ticket is "none", whose
// first-reply target is 8h) and no "new" status (a new ticket is Open);
// a deleted ticket is one marked Spam; the status is a field of the
// ticket, so an unknown one stays unknown.
var edeskE2E = helpdeskVendor{
	source: "edesk",
	labels: map[group][2]string{gFresh: {"none", "web"}, gUrgent: {"none", "email"}, gNew: {"none", "chat"},
		gWaiting: {"none", "phone"}, gRejected: {"none", "social"}, gBatch: {"none", "other"}},
	status:            map[string]string{"new": "open"},
	sla:               map[group]string{gUrgent: "at_risk", gNew: "within"}, // 7h and 3.5h of 8h
	resolutionSLA:     map[group]string{gUrgent: "within"},                  // 7h of 3d
	rejectionPersists: true,
	driver:            func(t *testing.T) helpdeskDriver { return newEdeskDriver(t) },
}

type edeskDriver struct {
	noAfter
	ed      *fakeedesk.Server
	created time.Time
}

func newEdeskDriver(t *testing.T) *edeskDriver {
	ed := fakeedesk.NewServer(fakeedesk.Options{Token: edE2EToken, PageSize: 5, NoRateLimit: true})
	t.Cleanup(ed.Close)
	return &edeskDriver{ed: ed}
}

func (d *edeskDriver) env() []string {
	return []string{"CX_EDESK_URL=" + d.ed.URL, "CX_EDESK_API_TOKEN=" + edE2EToken}
}

// waiter: a sync is waited on through the ticket listing only.
func (d *edeskDriver) waiter() (string, func() []time.Time) {
	return "listing request", e2e.ServedBy(d.ed.Requests,
		func(r fakeedesk.Request) (time.Time, bool) { return r.At, r.Path == "/v1/tickets" && r.Status == 200 })
}

func edCustomer(at time.Time) fakeedesk.Item {
	return fakeedesk.Item{Type: fakeedesk.TypeMessage, Direction: fakeedesk.Incoming, Body: "help", CreatedAt: at}
}

func edReply(at time.Time) fakeedesk.Item {
	return fakeedesk.Item{Type: fakeedesk.TypeMessage, Direction: fakeedesk.Outgoing, Body: "on it", CreatedAt: at}
}

func edStatus(status string, at time.Time) fakeedesk.Item {
	return fakeedesk.Item{Type: fakeedesk.TypeStatus, Direction: fakeedesk.Other, Body: status, CreatedAt: at}
}

func (d *edeskDriver) backfill(now time.Time) {
	old := now.Add(-48 * time.Hour)
	d.ed.Put(fakeedesk.Ticket{ID: 1, ChannelID: edEmail, Status: "Closed", CreatedAt: old, UpdatedAt: now.Add(-23 * time.Hour),
		Items: []fakeedesk.Item{edCustomer(old), edReply(old.Add(time.Hour)), edStatus("Closed", now.Add(-24*time.Hour)),
			{Type: fakeedesk.TypeRating, Direction: fakeedesk.Incoming, Body: "Good", CreatedAt: now.Add(-23 * time.Hour)}}})
	for _, t := range []struct {
		id, channel int64
		age         time.Duration
	}{{2, edForm, 3 * time.Hour}, {3, edEmail, 7 * time.Hour}, {4, edChat, 210 * time.Minute}} {
		c := now.Add(-t.age)
		d.ed.Put(fakeedesk.Ticket{ID: t.id, ChannelID: t.channel, Status: "Open", CreatedAt: c, UpdatedAt: c, Items: []fakeedesk.Item{edCustomer(c)}})
	}
	c5 := now.Add(-7 * time.Hour)
	d.ed.Put(fakeedesk.Ticket{ID: 5, ChannelID: edPhone, Status: "Pending", CreatedAt: c5, UpdatedAt: now.Add(-6 * time.Hour),
		Items: []fakeedesk.Item{edCustomer(c5), edReply(now.Add(-6 * time.Hour)), edStatus("Pending", now.Add(-6*time.Hour))}})
}

func (d *edeskDriver) at(minutes int) time.Time {
	return d.created.Add(time.Duration(minutes) * time.Minute)
}

func (d *edeskDriver) create(at time.Time) {
	d.created = at
	d.ed.Put(fakeedesk.Ticket{ID: 100, ChannelID: edEmail, Status: "Open", CreatedAt: at, Items: []fakeedesk.Item{edCustomer(at)}})
}

func (d *edeskDriver) reply() { d.ed.Reply(100, d.at(30)) }
func (d *edeskDriver) solve() { d.ed.SetStatus(100, "Closed", d.at(90)) }

// reopen: the customer writes again.
func (d *edeskDriver) reopen() {
	d.ed.SetStatus(100, "Open", d.at(95))
	d.ed.AddItem(100, edCustomer(d.at(95)))
}

func (d *edeskDriver) resolve() {
	d.ed.Reply(100, d.at(100))
	d.ed.SetStatus(100, "Closed", d.at(120))
}

func (d *edeskDriver) rate(good bool) {
	d.ed.Rate(100, map[bool]string{true: "Good", false: "Bad"}[good])
}

func (d *edeskDriver) remove() { d.ed.SetStatus(2, "Spam", time.Time{}) }
func (d *edeskDriver) touch()  { d.ed.Touch(1) } // a change that is no event: the old ticket comes back unchanged

func (d *edeskDriver) reject() {
	now := time.Now().UTC()
	d.ed.Put(fakeedesk.Ticket{ID: 200, ChannelID: edFacebook, Status: "Escalated", CreatedAt: now, Items: []fakeedesk.Item{edCustomer(now)}})
	d.ed.Put(fakeedesk.Ticket{ID: 201, ChannelID: edForm, Status: "Open", CreatedAt: now, Items: []fakeedesk.Item{edCustomer(now)}})
}

func (d *edeskDriver) retry() { d.ed.Touch(200) }

func (d *edeskDriver) batch(n int) {
	d.ed.SetLatency(300 * time.Millisecond)
	d.ed.ResetRequests()
	for i := range n {
		c := time.Now().UTC().Truncate(time.Second)
		d.ed.Put(fakeedesk.Ticket{ID: int64(1000 + i), ChannelID: edAmazon, Status: "Closed", CreatedAt: c,
			Items: []fakeedesk.Item{edCustomer(c), edReply(c.Add(10 * time.Minute)), edStatus("Closed", c.Add(time.Hour))}})
	}
}

func (d *edeskDriver) requests() int {
	n := 0
	for _, r := range d.ed.Requests() {
		if r.Path == "/v1/tickets" {
			n++
		}
	}
	return n
}

func (d *edeskDriver) fast() []string {
	d.ed.SetLatency(0)
	return nil
}

func (d *edeskDriver) secrets() []string { return []string{edE2EToken} }

// TestE2EEdeskFaults: eDesk's 429 ("Out of quota" with Retry-After) is
// waited out and a 500 retried, through the real binary; the ticket of
// each counts once and the token never reaches the logs.
func TestE2EEdeskFaults(t *testing.T) {
	t.Parallel()
	e2e.Binary(t)
	d := newEdeskDriver(t)
	request, served := d.waiter()
	w := e2e.Waiter{T: t, Source: "edesk", Request: request, Served: served}
	w.Exp = e2e.Start(t, append(d.env(), "CX_STATE_DIR="+t.TempDir(), "CX_POLL_INTERVAL=1s", "CX_HTTP_RETRIES=2",
		"CX_HTTP_TIMEOUT=2s", "CX_LOG_LEVEL=debug"))
	w.Synced()
	retries := func(reason string) string {
		return e2e.Series("cx_exporter_api_retries_total", "source", "edesk", "reason", reason)
	}
	put := func(id int64) {
		now := time.Now().UTC()
		d.ed.Put(fakeedesk.Ticket{ID: id, ChannelID: edChat, Status: "Open", CreatedAt: now, Items: []fakeedesk.Item{edCustomer(now)}})
	}

	d.ed.SetRetryAfter(2)
	d.ed.ResetRequests()
	d.ed.InjectFault(fakeedesk.Fault429, 1)
	put(1)
	m := w.Synced()
	reqs := d.ed.Requests()
	saw429 := false
	for i, r := range reqs {
		if r.Status == 429 {
			saw429 = true
			if i+1 >= len(reqs) {
				t.Fatal("no request after the 429")
			}
			if gap := reqs[i+1].At.Sub(r.At); gap < 2*time.Second {
				t.Errorf("request %s after a 429 with Retry-After: 2", gap)
			}
			break
		}
	}
	if !saw429 {
		t.Error("the fake never answered 429")
	}
	if m[retries("rate_limited")] < 1 {
		t.Errorf("%s = %v", retries("rate_limited"), m[retries("rate_limited")])
	}

	d.ed.InjectFault(fakeedesk.Fault500, 1)
	put(2)
	w.Synced()
	m = w.Synced()
	if m[retries("server_error")] < 1 {
		t.Errorf("%s = %v", retries("server_error"), m[retries("server_error")])
	}
	created := e2e.HelpdeskKey("edesk", "helpdesk_tickets_created_total", "none", "chat")
	if m[created] != 2 {
		t.Errorf("%s = %v, want 2", created, m[created])
	}
	if up := e2e.Series("cx_exporter_source_up", "source", "edesk", "kind", "edesk"); m[up] != 1 {
		t.Errorf("%s = %v", up, m[up])
	}
	if strings.Contains(w.Exp.Logs(), edE2EToken) {
		t.Error("the API token appears in the logs")
	}
	if err := w.Exp.Stop(); err != nil {
		t.Errorf("SIGTERM: %v", err)
	}
}
