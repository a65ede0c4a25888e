package zendesk

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// EventsPath is the time-based incremental ticket event export. The same
// path without ".json" is served too.
const EventsPath = "/api/v2/incremental/ticket_events.json"

// Comment is a comment added with an update: the Comment child event of
// the update's audit.
type Comment struct {
	AuthorID int64
	Public   bool
	Body     string
}

// audit is one entry of the ticket event log (a ticket audit).
type audit struct {
	id, ticketID, updaterID int64
	at                      time.Time
	via                     string
	children                []map[string]any
}

// viaNames is how the event export names a ticket's channel (the audit's
// via), by via.channel.
var viaNames = map[string]string{
	"web": "Web form", "email": "Mail", "api": "Web service", "chat": "Chat", "voice": "Voice",
	"twitter": "Twitter", "facebook": "Facebook", "sms": "Text", "native_messaging": "Messaging",
}

// RequesterID is the end-user id the fake gives ticket id's requester.
func RequesterID(ticketID int64) int64 { return requesterID(ticketID) }

// CreateTicket stores a new ticket created at at (t.CreatedAt and
// t.UpdatedAt are set to it) and logs its Create audit: one Create child
// per field set, and the requester's public description as a Comment. It
// returns the ticket's id (a fresh one when t.ID <= 0).
func (s *Server) CreateTicket(t Ticket, at time.Time) int64 {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.ID <= 0 {
		s.lastID++
		t.ID = s.lastID
	}
	t.CreatedAt, t.UpdatedAt = at, at
	if t.Status == "" {
		t.Status = "new"
	}
	if t.Channel == "" {
		t.Channel = "web"
	}
	via := viaName(t.Channel)
	a := audit{ticketID: t.ID, updaterID: requesterID(t.ID), at: at, via: via}
	a.children = append(a.children, s.commentChild(requesterID(t.ID), true, "Hello, "+t.Subject+". Can you help?", via, at))
	for _, f := range []struct {
		name string
		v    any
	}{{"subject", t.Subject}, {"requester_id", requesterID(t.ID)}, {"status", t.Status}, {"priority", nullable(t.Priority)},
		{"type", nullable(t.Type)}, {"group_id", nullableID(t.GroupID)}, {"brand_id", nullableID(t.BrandID)}} {
		s.eventSeq++
		a.children = append(a.children, map[string]any{"id": s.eventSeq, "via": via, "via_reference_id": nil, "event_type": "Create", f.name: f.v})
	}
	s.logAudit(a)
	s.storeLocked(t.clone(), now.Unix())
	return t.ID
}

// UpdateTicket changes ticket id at time at: fn edits a copy, and the
// update's audit logs a Change child (with previous_value) for every
// field fn changed among status, priority, type, group_id and
// satisfaction_score, and a Comment child per comment. The ticket's
// metric set follows as Zendesk keeps it: a public comment by anyone but
// the requester is an agent reply (the first sets reply_time), a change
// into solved sets solved_at and full_resolution_time, out of solved or
// closed counts a reopen. It reports whether the ticket exists.
func (s *Server) UpdateTicket(id int64, at time.Time, fn func(t *Ticket), comments ...Comment) bool {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.tickets[id]
	if !ok {
		return false
	}
	old, t := r.t, r.t.clone()
	if fn != nil {
		fn(&t)
	}
	t.UpdatedAt = at
	via := viaName(t.Channel)
	updater := requesterID(id)
	a := audit{ticketID: id, at: at, via: via}
	m := &t.Metrics
	for _, c := range comments {
		a.children = append(a.children, s.commentChild(c.AuthorID, c.Public, c.Body, via, at))
		if c.AuthorID != requesterID(id) {
			updater = c.AuthorID
			if c.Public {
				m.Replies++
				if m.ReplyTime == nil {
					mins := int(at.Sub(t.CreatedAt) / time.Minute)
					m.ReplyTime = &MinutePair{Calendar: mins, Business: mins}
				}
			}
		}
		m.LatestCommentAddedAt = at
	}
	change := func(field string, from, to any) {
		s.eventSeq++
		a.children = append(a.children, map[string]any{"id": s.eventSeq, "via": via, "via_reference_id": nil,
			"event_type": "Change", field: to, "previous_value": from})
	}
	if t.Status != old.Status {
		change("status", old.Status, t.Status)
		m.StatusUpdatedAt = at
		if t.Status == "solved" {
			m.SolvedAt = at
			mins := int(at.Sub(t.CreatedAt) / time.Minute)
			m.FullResolutionTime = &MinutePair{Calendar: mins, Business: mins}
			if m.FirstResolutionTime == nil {
				m.FirstResolutionTime = &MinutePair{Calendar: mins, Business: mins}
			}
		}
		if (old.Status == "solved" || old.Status == "closed") && t.Status != "solved" && t.Status != "closed" && t.Status != "deleted" {
			m.Reopens++
		}
	}
	if t.Priority != old.Priority {
		change("priority", nullable(old.Priority), nullable(t.Priority))
	}
	if t.Type != old.Type {
		change("type", nullable(old.Type), nullable(t.Type))
	}
	if t.GroupID != old.GroupID {
		change("group_id", nullableID(old.GroupID), nullableID(t.GroupID))
	}
	if t.Satisfaction != old.Satisfaction {
		change("satisfaction_score", nullable(old.Satisfaction), nullable(t.Satisfaction))
	}
	a.updaterID = updater
	s.logAudit(a)
	s.storeLocked(t, now.Unix())
	return true
}

func viaName(channel string) string {
	if n, ok := viaNames[channel]; ok {
		return n
	}
	return "Web form"
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func nullableID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// commentChild is a Comment child event as include=comment_events gives
// it; the caller holds s.mu.
func (s *Server) commentChild(author int64, public bool, body, via string, at time.Time) map[string]any {
	s.eventSeq++
	return map[string]any{
		"id": s.eventSeq, "type": "Comment", "event_type": "Comment", "author_id": author,
		"body": body, "html_body": "<div class=\"zd-comment\" dir=\"auto\"><p>" + body + "</p></div>", "plain_body": body,
		"public": public, "attachments": []any{}, "created_at": at.UTC().Format(zendeskTime),
		"via": map[string]any{"channel": via, "source": map[string]any{"from": map[string]any{}, "to": map[string]any{}, "rel": nil}},
	}
}

// logAudit appends a to the event log; the caller holds s.mu.
func (s *Server) logAudit(a audit) {
	s.eventSeq++
	a.id = s.eventSeq
	for _, c := range a.children {
		if c["event_type"] == "Comment" {
			c["audit_id"] = a.id
		}
	}
	// Keep timestamp order: scripts may log a ticket's whole life before
	// the next ticket's.
	i := len(s.audits)
	if i > 0 && s.audits[i-1].at.After(a.at) {
		i = sort.Search(len(s.audits), func(j int) bool { return s.audits[j].at.After(a.at) })
	}
	s.audits = append(s.audits, audit{})
	copy(s.audits[i+1:], s.audits[i:])
	s.audits[i] = a
}

// Events returns how many audits the event log holds.
func (s *Server) Events() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.audits)
}

// eventsPage is the JSON body of an event export answer.
type eventsPage struct {
	TicketEvents []map[string]any `json:"ticket_events"`
	NextPage     *string          `json:"next_page"`
	Count        int              `json:"count"`
	EndOfStream  bool             `json:"end_of_stream"`
	EndTime      *int64           `json:"end_time"`
}

// events answers GET /api/v2/incremental/ticket_events: the audits with
// timestamp >= start_time in timestamp order, per_page (default 1000) a
// page, a page extended to every audit of its last second (so that a page
// never ends inside one), next_page with start_time=end_time (the audits
// of that second come again: clients drop what they have by id, as
// Zendesk documents), end_of_stream when nothing is left. Comment children
// only with include=comment_events. Audits newer than Now()-Lag wait.
func (s *Server) events(r *http.Request, now time.Time) response {
	q := r.URL.Query()
	if !q.Has("start_time") {
		return jsonError(http.StatusBadRequest, "InvalidValue", "start_time is required")
	}
	st, err := strconv.ParseInt(q.Get("start_time"), 10, 64)
	if err != nil || st < 0 {
		return jsonError(http.StatusBadRequest, "InvalidValue", "start_time must be a unix epoch time in seconds")
	}
	if st > now.Add(-minStartTimeAge).Unix() {
		return jsonError(http.StatusBadRequest, "InvalidValue", "Too recent start_time. Use a start_time older than 1 minute")
	}
	perPage := s.opts.PageSize
	if q.Has("per_page") {
		n, err := strconv.Atoi(q.Get("per_page"))
		if err != nil || n < 1 {
			return jsonError(http.StatusBadRequest, "InvalidValue", "per_page must be a positive integer")
		}
		perPage = min(n, maxPageSize)
	}
	comments := false
	for _, inc := range strings.Split(q.Get("include"), ",") {
		comments = comments || strings.TrimSpace(inc) == "comment_events"
	}
	cutoff := now.Add(-s.opts.Lag).Unix()

	s.mu.Lock()
	i := sort.Search(len(s.audits), func(i int) bool { return s.audits[i].at.Unix() >= st })
	var out []audit
	for ; i < len(s.audits); i++ {
		a := s.audits[i]
		if a.at.Unix() > cutoff {
			break
		}
		if len(out) >= perPage && a.at.Unix() != out[len(out)-1].at.Unix() {
			break
		}
		out = append(out, a)
	}
	more := i < len(s.audits) && s.audits[i].at.Unix() <= cutoff
	body := eventsPage{TicketEvents: make([]map[string]any, 0, len(out)), Count: len(out), EndOfStream: !more}
	for _, a := range out {
		children := make([]map[string]any, 0, len(a.children))
		for _, c := range a.children {
			if c["event_type"] == "Comment" && !comments {
				continue
			}
			children = append(children, c)
		}
		body.TicketEvents = append(body.TicketEvents, map[string]any{
			"id": a.id, "ticket_id": a.ticketID, "timestamp": a.at.Unix(), "created_at": a.at.UTC().Format(zendeskTime),
			"updater_id": a.updaterID, "via": a.via, "system": map[string]any{}, "metadata": map[string]any{},
			"event_type": "Audit", "merged_ticket_ids": []int64{}, "child_events": children,
		})
	}
	s.mu.Unlock()

	end := st
	if len(out) > 0 {
		end = out[len(out)-1].at.Unix()
	}
	body.EndTime = &end
	if more {
		base := s.URL
		if r.Host != "" {
			base = "http://" + r.Host
		}
		next := end
		if out[0].at.Unix() == end {
			next++ // the page is one crowded second, all of it: move on
		}
		v := url.Values{"start_time": {strconv.FormatInt(next, 10)}}
		for _, k := range []string{"per_page", "include"} {
			if q.Has(k) {
				v.Set(k, q.Get(k))
			}
		}
		u := base + EventsPath + "?" + v.Encode()
		body.NextPage = &u
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return jsonError(http.StatusInternalServerError, "InternalError", err.Error())
	}
	return response{Status: http.StatusOK, Header: jsonHeader(), Body: buf.Bytes()}
}
