package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	"github.com/cx-exporter/cx-exporter/internal/fake"
	fakeedesk "github.com/cx-exporter/cx-exporter/internal/fake/edesk"
	fakefreshdesk "github.com/cx-exporter/cx-exporter/internal/fake/freshdesk"
	fakehelpscout "github.com/cx-exporter/cx-exporter/internal/fake/helpscout"
	fakeintercom "github.com/cx-exporter/cx-exporter/internal/fake/intercom"
	fakeudesk "github.com/cx-exporter/cx-exporter/internal/fake/udesk"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
)

// Agents and teams, end to end through the real binary: ticket assignee
// and group ids are resolved to names through each vendor's fake
// users/agents and groups APIs, every per-agent counter equals the
// hand-computed value, and the name look-ups cost no more than the
// documented formula, counted on the fake's request log.

// agentsVendors is the table: one row per vendor with a directory.
var agentsVendors = []agentsVendor{
	{source: "zendesk", agentsPage: 100, groupsPage: 100, newStatus: "new", driver: func(t *testing.T) agentsDriver { return newZendeskAgents(t) }},
	{source: "freshdesk", agentsPage: 100, groupsPage: 100, newStatus: "open", driver: func(t *testing.T) agentsDriver { return newFreshdeskAgents(t) }},
	// Every Help Scout conversation is in a mailbox (its group): the
	// driver puts the group-less one in the Inbox mailbox.
	// Intercom lists admins and teams unpaged; a new conversation waiting
	// for the customer's reply is snoozed, i.e. on_hold.
	{source: "intercom", agentsPage: 1 << 30, groupsPage: 1 << 30, newStatus: "open", driver: func(t *testing.T) agentsDriver { return newIntercomAgents(t) }},
	// eDesk tickets have an owner but no group: every group is none.
	{source: "edesk", agentsPage: 100, newStatus: "open", noGroups: true, driver: func(t *testing.T) agentsDriver { return newEdeskAgents(t) }},
	{source: "udesk", agentsPage: 100, groupsPage: 100, newStatus: "open", driver: func(t *testing.T) agentsDriver { return newUdeskAgents(t) }},
	{source: "helpscout", agentsPage: 50, groupsPage: 50, newStatus: "open", noGroup: "Inbox", driver: func(t *testing.T) agentsDriver { return newHelpScoutAgents(t) }},
}

type agentsVendor struct {
	source string
	// agentsPage and groupsPage are the vendor's directory page sizes:
	// a full read costs ⌈agents/agentsPage⌉ + ⌈groups/groupsPage⌉ requests.
	agentsPage, groupsPage int
	// newStatus is the backlog status of a new, unanswered ticket.
	newStatus string
	// noGroup is the group label of a ticket put without a group ("none"
	// when empty).
	noGroup string
	// noGroups: the vendor's tickets carry no group (and it has no group
	// list): every group label is none.
	noGroups bool
	driver   func(t *testing.T) agentsDriver
}

// agentTicket is one version of a ticket of the scenario.
type agentTicket struct {
	id              int64
	created         time.Time
	status          string // new, open, solved
	assignee, group int64  // 0: none
	replied         bool   // one public agent reply, 30 minutes after creation
}

// agentsDriver does the scenario's steps on one vendor's fake.
type agentsDriver interface {
	env() []string
	// waiter names the ticket-listing requests a sync is waited on.
	waiter() (request string, served func() []time.Time)
	people() *fake.People
	put(v agentTicket)
	// rate rates a solved ticket.
	rate(id int64, good bool)
	// directoryRequests counts the requests to the directory endpoints.
	directoryRequests() int
}

func TestE2EAgents(t *testing.T) {
	t.Parallel()
	for _, v := range agentsVendors {
		t.Run(v.source, func(t *testing.T) {
			t.Parallel()
			runAgents(t, v)
		})
	}
}

func runAgents(t *testing.T, v agentsVendor) {
	d := v.driver(t)
	e2e.Binary(t)
	request, served := d.waiter()
	s := &hdScenario{Waiter: e2e.Waiter{T: t, Source: v.source, Request: request, Served: served}}
	s.env = append(d.env(), "CX_STATE_DIR="+t.TempDir(), "CX_POLL_INTERVAL=1s", "CX_HTTP_RETRIES=2", "CX_HTTP_TIMEOUT=2s",
		"CX_LOG_LEVEL=debug", "CX_TICKET_LABELS=group,assignee", "CX_BUSINESS_HOURS=24/7")

	const ada, grace, linus, billing, tech = 501, 502, 503, 601, 602
	p := d.people()
	p.PutAgent(fake.Person{ID: ada, Name: "Ada Lovelace", Group: billing})
	p.PutAgent(fake.Person{ID: grace, Name: "Grace Hopper", Group: tech})
	// Enough agents for the directory to take more than one page.
	for i := range 150 {
		p.PutAgent(fake.Person{ID: int64(10000 + i), Name: fmt.Sprintf("Agent %d", i)})
	}
	p.PutGroup(fake.Person{ID: billing, Name: "Billing"})
	p.PutGroup(fake.Person{ID: tech, Name: "Tech support"})
	agents, groups := len(p.Agents()), len(p.Groups())

	s.start()
	s.Synced()
	now := time.Now().UTC().Truncate(time.Second)
	// Ticket 1: Ada's from the start, answered, solved, rated good.
	// Ticket 2: answered by Ada, then reassigned to Grace in Tech, who solves it; rated bad.
	// Ticket 3: new, nobody's.
	steps := [][]agentTicket{
		{{id: 1, created: now, status: "open", assignee: ada, group: billing, replied: true},
			{id: 2, created: now, status: "open", assignee: ada, group: billing, replied: true},
			{id: 3, created: now, status: "new"}},
		{{id: 1, created: now, status: "solved", assignee: ada, group: billing, replied: true},
			{id: 2, created: now, status: "solved", assignee: grace, group: tech, replied: true}},
	}
	for _, step := range steps {
		for _, tk := range step {
			d.put(tk)
		}
		s.Synced()
	}
	d.rate(1, true)
	d.rate(2, false)
	s.Synced()
	// Grace leaves (deleted from the directory), and Linus joins after the
	// directory was read: her ticket keeps her name; his shows his id until
	// the next read (at most 5 minutes for an unknown id).
	p.DeleteAgent(grace)
	p.PutAgent(fake.Person{ID: linus, Name: "Linus", Group: tech})
	d.put(agentTicket{id: 4, created: now, status: "solved", assignee: grace, group: tech, replied: true})
	d.put(agentTicket{id: 5, created: now, status: "open", assignee: linus, group: tech})
	got := s.Synced()

	key := func(name, assignee, group string, kv ...string) string {
		if v.noGroups {
			group = "none"
		}
		return e2e.Series(name, append([]string{"source", v.source, "assignee", assignee, "group", group}, kv...)...)
	}
	const adaL, graceL, none = "Ada Lovelace", "Grace Hopper", "none"
	noGroup := none
	if v.noGroup != "" {
		noGroup = v.noGroup
	}
	want := map[string]float64{
		key("helpdesk_tickets_created_total", adaL, "Billing"):                              2,
		key("helpdesk_tickets_created_total", graceL, "Tech support"):                       1, // ticket 4
		key("helpdesk_tickets_created_total", none, noGroup):                                1,
		key("helpdesk_tickets_created_total", "503", "Tech support"):                        1,
		key("helpdesk_tickets_solved_total", adaL, "Billing"):                               1,
		key("helpdesk_tickets_solved_total", graceL, "Tech support"):                        2,
		key("helpdesk_satisfaction_ratings_total", adaL, "Billing", "rating", "good"):       1,
		key("helpdesk_satisfaction_ratings_total", graceL, "Tech support", "rating", "bad"): 1,
		key("helpdesk_satisfaction_ratings_total", adaL, "Billing", "rating", "bad"):        0,
		// First replies count where they happened: both of Ada's, and ticket 4's under Grace.
		key("helpdesk_first_reply_seconds_count", adaL, "Billing", "hours", "calendar"):        2,
		key("helpdesk_first_reply_seconds_count", graceL, "Tech support", "hours", "calendar"): 1,
		key("helpdesk_resolution_seconds_count", graceL, "Tech support", "hours", "calendar"):  2,
		key("helpdesk_resolution_seconds_count", adaL, "Billing", "hours", "calendar"):         1,
		key("helpdesk_open_tickets", none, noGroup, "status", v.newStatus):                     1,
		key("helpdesk_open_tickets", "503", "Tech support", "status", "open"):                  1,
		key("helpdesk_open_tickets", adaL, "Billing", "status", "open"):                        0,
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
	for k := range got {
		if strings.Contains(k, `assignee="502"`) || strings.Contains(k, `assignee="501"`) || strings.Contains(k, `group="601"`) {
			t.Errorf("an id where a name was known: %s", k)
		}
	}
	// The cost: one full read of each list in the first 5 minutes, however
	// many syncs and unknown ids: ⌈agents/page⌉ + ⌈groups/page⌉ requests.
	wantReqs := (agents + v.agentsPage - 1) / v.agentsPage
	if !v.noGroups {
		wantReqs += (groups + v.groupsPage - 1) / v.groupsPage
	}
	if n := d.directoryRequests(); n != wantReqs {
		t.Errorf("directory requests = %d, want %d (%d agents, %d groups)", n, wantReqs, agents, groups)
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", agentsLines(got))
	}
}

func agentsLines(got map[string]float64) string {
	var b strings.Builder
	for k, v := range got {
		if strings.Contains(k, "assignee=") && !strings.Contains(k, "_bucket") {
			fmt.Fprintf(&b, "%s %v\n", k, v)
		}
	}
	return b.String()
}

// zendeskAgents drives the scenario on the fake Zendesk.
type zendeskAgents struct{ zd *fakezendesk.Server }

func newZendeskAgents(t *testing.T) *zendeskAgents {
	zd := fakezendesk.NewServer(fakezendesk.Options{Email: e2eEmail, APIToken: e2eToken, NoRateLimit: true})
	t.Cleanup(zd.Close)
	return &zendeskAgents{zd: zd}
}

func (d *zendeskAgents) env() []string {
	return []string{"CX_ZENDESK_URL=" + d.zd.URL, "CX_ZENDESK_EMAIL=" + e2eEmail, "CX_ZENDESK_API_TOKEN=" + e2eToken,
		"CX_ZENDESK_EXPORT_RATE=600"}
}

func (d *zendeskAgents) waiter() (string, func() []time.Time) {
	return "export request", e2e.ServedBy(d.zd.Requests, func(r fakezendesk.Request) (time.Time, bool) {
		return r.At, r.Status == 200 && r.Path == fakezendesk.ExportPath
	})
}

func (d *zendeskAgents) people() *fake.People { return &d.zd.People }

func (d *zendeskAgents) rate(id int64, good bool) {
	t, _ := d.zd.Get(id)
	t.Satisfaction, t.UpdatedAt = map[bool]string{true: "good", false: "bad"}[good], time.Time{}
	d.zd.Put(t)
}

func (d *zendeskAgents) put(v agentTicket) {
	t := fakezendesk.Ticket{ID: v.id, Status: v.status, Priority: "normal", Channel: "email", CreatedAt: v.created,
		AssigneeID: v.assignee, GroupID: v.group}
	if v.replied {
		t.Metrics.Replies = 1
		t.Metrics.ReplyTime = &fakezendesk.MinutePair{Calendar: 30, Business: 30}
	}
	if v.status == "solved" {
		t.Metrics.SolvedAt = time.Now().UTC()
		t.Metrics.FullResolutionTime = &fakezendesk.MinutePair{Calendar: 90, Business: 90}
	}
	d.zd.Put(t)
}

func (d *zendeskAgents) directoryRequests() int {
	n := 0
	for _, r := range d.zd.Requests() {
		if strings.HasPrefix(r.Path, "/api/v2/users") || strings.HasPrefix(r.Path, "/api/v2/groups") {
			n++
		}
	}
	return n
}

// freshdeskAgents drives the scenario on the fake Freshdesk: responder_id
// is the assignee, agents' names are their contacts'.
type freshdeskAgents struct{ fd *fakefreshdesk.Server }

func newFreshdeskAgents(t *testing.T) *freshdeskAgents {
	fd := fakefreshdesk.NewServer(fakefreshdesk.Options{APIKey: fdE2EKey, NoRateLimit: true})
	t.Cleanup(fd.Close)
	return &freshdeskAgents{fd: fd}
}

func (d *freshdeskAgents) env() []string {
	return []string{"CX_FRESHDESK_URL=" + d.fd.URL, "CX_FRESHDESK_API_KEY=" + fdE2EKey}
}

func (d *freshdeskAgents) waiter() (string, func() []time.Time) {
	return "tickets request", e2e.ServedBy(d.fd.Requests, func(r fakefreshdesk.Request) (time.Time, bool) {
		return r.At, r.Status == 200 && r.Path == "/api/v2/tickets"
	})
}

func (d *freshdeskAgents) people() *fake.People { return &d.fd.People }

func (d *freshdeskAgents) put(v agentTicket) {
	t := fakefreshdesk.Ticket{ID: v.id, Status: fdOpen, Priority: fdMedium, Source: fdEmail, CreatedAt: v.created,
		ResponderID: v.assignee, GroupID: v.group}
	if v.replied {
		t.Stats.FirstRespondedAt = v.created.Add(30 * time.Minute)
	}
	if v.status == "solved" {
		t.Status, t.Stats.ResolvedAt = fdResolved, v.created.Add(90*time.Minute)
	}
	d.fd.Put(t)
}

func (d *freshdeskAgents) rate(id int64, good bool) {
	d.fd.Rate(id, map[bool]int{true: 103, false: -103}[good])
}

func (d *freshdeskAgents) directoryRequests() int {
	n := 0
	for _, r := range d.fd.Requests() {
		if r.Path == "/api/v2/agents" || r.Path == "/api/v2/groups" {
			n++
		}
	}
	return n
}

// helpScoutAgents drives the scenario on the fake Help Scout: the
// assignee is a user, the group a mailbox.
type helpScoutAgents struct {
	hs      *fakehelpscout.Server
	replied map[int64]bool
}

const hsInbox = 600

func newHelpScoutAgents(t *testing.T) *helpScoutAgents {
	hs := fakehelpscout.NewServer(fakehelpscout.Options{AppID: hsE2EAppID, AppSecret: hsE2ESecret, NoRateLimit: true})
	t.Cleanup(hs.Close)
	hs.PutGroup(fake.Person{ID: hsInbox, Name: "Inbox"})
	return &helpScoutAgents{hs: hs, replied: map[int64]bool{}}
}

func (d *helpScoutAgents) env() []string {
	return []string{"CX_HELPSCOUT_URL=" + d.hs.URL, "CX_HELPSCOUT_APP_ID=" + hsE2EAppID, "CX_HELPSCOUT_APP_SECRET=" + hsE2ESecret}
}

func (d *helpScoutAgents) waiter() (string, func() []time.Time) {
	return "listing request", e2e.ServedBy(d.hs.Requests, func(r fakehelpscout.Request) (time.Time, bool) {
		return r.At, r.Path == "/v2/conversations" && r.Status == 200
	})
}

func (d *helpScoutAgents) people() *fake.People { return &d.hs.People }

func (d *helpScoutAgents) put(v agentTicket) {
	c := fakehelpscout.Conversation{ID: v.id, Status: "active", Source: "email", MailboxID: v.group, AssigneeID: v.assignee, CreatedAt: v.created}
	if c.MailboxID == 0 {
		c.MailboxID = hsInbox
	}
	if v.replied && !d.replied[v.id] {
		d.replied[v.id] = true
		c.Threads = []fakehelpscout.Thread{{Type: "customer", CreatedBy: "customer", CreatedAt: v.created},
			{CreatedAt: v.created.Add(30 * time.Minute)}}
	}
	if v.status == "solved" {
		c.Status, c.ClosedAt = "closed", v.created.Add(90*time.Minute)
	}
	d.hs.Put(c)
}

func (d *helpScoutAgents) rate(id int64, good bool) {
	d.hs.Rate(id, map[bool]string{true: "great", false: "not_good"}[good])
}

func (d *helpScoutAgents) directoryRequests() int {
	n := 0
	for _, r := range d.hs.Requests() {
		if r.Path == "/v2/users" || r.Path == "/v2/mailboxes" {
			n++
		}
	}
	return n
}

// intercomAgents drives the scenario on the fake Intercom: the assignee is
// admin_assignee_id, the group team_assignee_id.
type intercomAgents struct{ ic *fakeintercom.Server }

func newIntercomAgents(t *testing.T) *intercomAgents {
	ic := fakeintercom.NewServer(fakeintercom.Options{Token: icE2EToken, NoRateLimit: true})
	t.Cleanup(ic.Close)
	return &intercomAgents{ic: ic}
}

func (d *intercomAgents) env() []string {
	return []string{"CX_INTERCOM_URL=" + d.ic.URL, "CX_INTERCOM_TOKEN=" + icE2EToken}
}

func (d *intercomAgents) waiter() (string, func() []time.Time) {
	return "search request", e2e.ServedBy(d.ic.Requests, func(r fakeintercom.Request) (time.Time, bool) {
		return r.At, r.Status == 200 && r.Path == fakeintercom.SearchPath
	})
}

func (d *intercomAgents) people() *fake.People { return &d.ic.People }

func (d *intercomAgents) put(v agentTicket) {
	c := fakeintercom.Conversation{ID: fmt.Sprint(v.id), State: "open", Priority: "not_priority", SourceType: "email",
		CreatedAt: v.created, AdminID: v.assignee, TeamID: v.group}
	if old, ok := d.ic.Get(c.ID); ok {
		c.Rating, c.RatingAt = old.Rating, old.RatingAt
	}
	if v.replied {
		c.FirstAdminReplyAt, c.LastAdminReplyAt = v.created.Add(30*time.Minute), v.created.Add(30*time.Minute)
	}
	if v.status == "solved" {
		c.State, c.FirstCloseAt, c.LastCloseAt = "closed", v.created.Add(90*time.Minute), v.created.Add(90*time.Minute)
	}
	d.ic.Put(c)
}

func (d *intercomAgents) rate(id int64, good bool) {
	c, _ := d.ic.Get(fmt.Sprint(id))
	c.Rating, c.RatingAt, c.UpdatedAt = map[bool]int{true: 5, false: 1}[good], time.Now().UTC(), time.Time{}
	d.ic.Put(c)
}

func (d *intercomAgents) directoryRequests() int {
	n := 0
	for _, r := range d.ic.Requests() {
		if r.Path == "/admins" || r.Path == "/teams" {
			n++
		}
	}
	return n
}

// udeskAgents drives the scenario on the fake Udesk: assignee_id and
// user_group_id, named through the agents and user-group lists.
type udeskAgents struct{ ud *fakeudesk.Server }

func newUdeskAgents(t *testing.T) *udeskAgents {
	ud := fakeudesk.NewServer(fakeudesk.Options{Email: udE2EEmail, Token: udE2EToken, NoRateLimit: true})
	t.Cleanup(ud.Close)
	return &udeskAgents{ud: ud}
}

func (d *udeskAgents) env() []string {
	return []string{"CX_UDESK_URL=" + d.ud.URL, "CX_UDESK_EMAIL=" + udE2EEmail, "CX_UDESK_API_TOKEN=" + udE2EToken,
		"CX_UDESK_REQUESTS_PER_MINUTE=6000"}
}

func (d *udeskAgents) waiter() (string, func() []time.Time) {
	return "list request", e2e.ServedBy(d.ud.Requests, func(r fakeudesk.Request) (time.Time, bool) {
		return r.At, r.Status == 200 && r.Path == fakeudesk.ListPath
	})
}

func (d *udeskAgents) people() *fake.People { return &d.ud.People }

func (d *udeskAgents) put(v agentTicket) {
	t := fakeudesk.Ticket{ID: v.id, StatusID: udOpen, PriorityID: udMedium, Platform: "email", CreatedAt: v.created,
		AssigneeID: v.assignee, GroupID: v.group}
	if v.replied {
		t.FirstReplyAt = v.created.Add(30 * time.Minute)
	}
	if v.status == "solved" {
		t.StatusID, t.ResolvedAt = udResolved, v.created.Add(90*time.Minute)
	}
	d.ud.Put(t)
}

func (d *udeskAgents) rate(id int64, good bool) {
	t, _ := d.ud.Get(id)
	t.Satisfaction = &fakeudesk.Satisfaction{Score: map[bool]int{true: 5, false: 1}[good], CreatedAt: time.Now().UTC()}
	t.UpdatedAt = time.Time{}
	d.ud.Put(t)
}

func (d *udeskAgents) directoryRequests() int {
	n := 0
	for _, r := range d.ud.Requests() {
		if r.Path == fakeudesk.AgentsPath || r.Path == fakeudesk.UserGroupsPath {
			n++
		}
	}
	return n
}

// edeskAgents drives the scenario on the fake eDesk: the owner is the
// assignee; replies and solves are items of the ticket.
type edeskAgents struct {
	ed              *fakeedesk.Server
	replied, solved map[int64]bool
}

func newEdeskAgents(t *testing.T) *edeskAgents {
	ed := fakeedesk.NewServer(fakeedesk.Options{Token: edE2EToken, NoRateLimit: true})
	t.Cleanup(ed.Close)
	return &edeskAgents{ed: ed, replied: map[int64]bool{}, solved: map[int64]bool{}}
}

func (d *edeskAgents) env() []string {
	return []string{"CX_EDESK_URL=" + d.ed.URL, "CX_EDESK_API_TOKEN=" + edE2EToken}
}

func (d *edeskAgents) waiter() (string, func() []time.Time) {
	return "listing request", e2e.ServedBy(d.ed.Requests, func(r fakeedesk.Request) (time.Time, bool) {
		return r.At, r.Path == "/v1/tickets" && r.Status == 200
	})
}

func (d *edeskAgents) people() *fake.People { return &d.ed.People }

func (d *edeskAgents) put(v agentTicket) {
	t := fakeedesk.Ticket{ID: v.id, ChannelID: edEmail, Status: "Open", OwnerUserID: v.assignee, CreatedAt: v.created}
	if _, ok := d.ed.Get(v.id); !ok {
		t.Items = append(t.Items, edCustomer(v.created))
	}
	if v.replied && !d.replied[v.id] {
		d.replied[v.id] = true
		t.Items = append(t.Items, edReply(v.created.Add(30*time.Minute)))
	}
	if v.status == "solved" {
		t.Status = "Closed"
		if !d.solved[v.id] {
			d.solved[v.id] = true
			t.Items = append(t.Items, edStatus("Closed", v.created.Add(90*time.Minute)))
		}
	}
	d.ed.Put(t)
}

func (d *edeskAgents) rate(id int64, good bool) {
	d.ed.Rate(id, map[bool]string{true: "Good", false: "Bad"}[good])
}

func (d *edeskAgents) directoryRequests() int {
	n := 0
	for _, r := range d.ed.Requests() {
		if r.Path == "/v1/users" {
			n++
		}
	}
	return n
}
