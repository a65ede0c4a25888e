package zendesk

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// EventsPath is the time-based incremental ticket event export.
const EventsPath = "/api/v2/incremental/ticket_events.json"

// History replays a Zendesk account's ticket events (status changes,
// public agent comments, satisfaction changes, each with its timestamp)
// as canonical ticket versions, for `cx-exporter backfill`. It reads the
// time-based ticket event export with include=comment_events, at the
// export's request rate.
type History struct {
	s        *Syncer
	from     int64 // the replay's start
	requests int
	tickets  map[int64]*histTicket
	at       int64 // time of the last Advance
}

// NewHistory returns the history reader of an account.
func NewHistory(o Options) (*History, error) {
	s, err := New(o)
	if err != nil {
		return nil, err
	}
	return &History{s: s, tickets: map[int64]*histTicket{}}, nil
}

// histTicket is what the replay knows of a ticket, from its events.
type histTicket struct {
	Status    string `json:"s"`
	Priority  string `json:"p,omitempty"`
	Type      string `json:"t,omitempty"`
	Channel   string `json:"c,omitempty"`
	Group     string `json:"g,omitempty"`
	Brand     string `json:"b,omitempty"`
	Requester int64  `json:"r,omitempty"`
	Created   int64  `json:"cr"`
	// Seen: the ticket was created before the replay's start and first
	// seen at a later change; its creation time is a lower bound and its
	// replies before the start are unknown.
	Seen       bool   `json:"seen,omitempty"`
	FirstReply int64  `json:"fr,omitempty"`
	Replies    int    `json:"n,omitempty"`
	Reopens    int    `json:"ro,omitempty"`
	Solved     int64  `json:"so,omitempty"`
	Rating     string `json:"ra,omitempty"`
	RatedAt    int64  `json:"rat,omitempty"`
	// Time per status class since creation (Zendesk's requester wait:
	// new, open, on-hold; agent wait: pending; on hold: hold), seconds,
	// and when the current status began.
	Since         int64 `json:"si,omitempty"`
	RequesterWait int64 `json:"rw,omitempty"`
	AgentWait     int64 `json:"aw,omitempty"`
	OnHold        int64 `json:"oh,omitempty"`
}

// eventsPage is the JSON of an event export page.
type eventsPage struct {
	TicketEvents []ticketEvent `json:"ticket_events"`
	NextPage     *string       `json:"next_page"`
	EndOfStream  bool          `json:"end_of_stream"`
	EndTime      *int64        `json:"end_time"`
}

type ticketEvent struct {
	ID          int64                        `json:"id"`
	TicketID    int64                        `json:"ticket_id"`
	Timestamp   int64                        `json:"timestamp"`
	Via         json.RawMessage              `json:"via"`
	ChildEvents []map[string]json.RawMessage `json:"child_events"`
}

// viaChannels maps the event export's via names to via.channel values.
var viaChannels = map[string]string{
	"Web form": "web", "Mail": "email", "Web service": "api", "API": "api", "Chat": "chat", "Voice": "voice",
	"Twitter": "twitter", "Facebook": "facebook", "Text": "sms", "Messaging": "native_messaging",
	"Web Widget": "web_widget", "Mobile SDK": "mobile_sdk", "Help Center": "help_center", "Mobile": "mobile",
	"Instagram Direct": "instagram_dm", "WhatsApp": "whatsapp",
}

// historyState is History's checkpoint.
type historyState struct {
	At      int64                 `json:"at"`
	Tickets map[int64]*histTicket `json:"tickets"`
}

// State encodes the replay's reconstruction as of the last Advance.
func (h *History) State() ([]byte, error) {
	return json.Marshal(historyState{At: h.at, Tickets: h.tickets})
}

// Directory implements source.DirectoryHistory: the account's agents
// and groups, as the live source reads them.
func (h *History) Directory() source.Directory { return h.s.Directory() }

// Requests is how many export requests the replay made.
func (h *History) Requests() int { return h.requests }

// Replay reads the ticket events of [from, to) (from the checkpoint's
// time when resume is set) and hands r each ticket's version after each
// audit.
func (h *History) Replay(ctx context.Context, from, to time.Time, resume []byte, r source.Replayer) error {
	start := from.Unix()
	h.from = start
	if resume != nil {
		var st historyState
		if err := json.Unmarshal(resume, &st); err != nil {
			return fmt.Errorf("zendesk: history checkpoint: %w", err)
		}
		h.tickets, start = st.Tickets, st.At
		if h.tickets == nil {
			h.tickets = map[int64]*histTicket{}
		}
	}
	h.at = start
	q := url.Values{"start_time": {strconv.FormatInt(start, 10)}, "include": {"comment_events"}, "per_page": {strconv.Itoa(h.s.o.PageSize)}}
	next := h.s.o.BaseURL + EventsPath + "?" + q.Encode()
	seen := map[int64]bool{} // audits of the last page's last second
	var seenAt int64
	for {
		if err := h.s.wait(ctx); err != nil {
			return err
		}
		var page eventsPage
		h.requests++
		if _, err := h.s.client.GetJSON(ctx, next, &page); err != nil {
			return h.s.o.FetchFailed(err)
		}
		for i := range page.TicketEvents {
			e := &page.TicketEvents[i]
			if e.Timestamp >= to.Unix() {
				return nil
			}
			if e.Timestamp < start || (e.Timestamp == seenAt && seen[e.ID]) {
				continue
			}
			if e.Timestamp != seenAt {
				seen, seenAt = map[int64]bool{}, e.Timestamp
			}
			seen[e.ID] = true
			if e.TicketID <= 0 {
				h.s.o.Reject(strconv.FormatInt(e.ID, 10), "missing_field", fmt.Errorf("ticket event without ticket_id"))
				continue
			}
			if e.Timestamp > h.at {
				h.at = e.Timestamp
			}
			if err := r.Advance(time.Unix(h.at, 0)); err != nil {
				return err
			}
			if t, ok := h.apply(e); ok {
				if err := r.Ticket(&t); err != nil {
					return err
				}
			}
		}
		if page.EndOfStream || page.NextPage == nil || *page.NextPage == "" {
			return nil
		}
		next = *page.NextPage
	}
}

// apply folds one audit into the ticket's reconstruction and returns its
// canonical version after it; false when the audit changed nothing the
// engine reads.
func (h *History) apply(e *ticketEvent) (helpdesk.Ticket, bool) {
	at := e.Timestamp
	ht := h.tickets[e.TicketID]
	created := false
	for _, c := range e.ChildEvents {
		if str(c["event_type"]) == "Create" {
			created = true
		}
	}
	if ht == nil {
		ht = &histTicket{Created: at, Since: at, Seen: !created}
		if ht.Seen {
			// Created before the replay's start, when is unknown: just
			// before it, so that it is history, not a creation.
			ht.Created = min(at, h.from) - 1
		}
		var via string
		if json.Unmarshal(e.Via, &via) == nil {
			ht.Channel = viaChannels[via]
		}
		h.tickets[e.TicketID] = ht
	}
	changed := created
	setStatus := func(to string) {
		if to == ht.Status {
			return
		}
		d := max(at-ht.Since, 0)
		switch ht.Status {
		case "new", "open":
			ht.RequesterWait += d
		case "hold":
			ht.RequesterWait += d
			ht.OnHold += d
		case "pending":
			ht.AgentWait += d
		}
		if (ht.Status == "solved" || ht.Status == "closed") && to != "solved" && to != "closed" && to != "deleted" {
			ht.Reopens++
		}
		if to == "solved" || (to == "closed" && ht.Status != "solved") {
			ht.Solved = at
		}
		ht.Status, ht.Since = to, at
		changed = true
	}
	for _, c := range e.ChildEvents {
		switch str(c["event_type"]) {
		case "Create":
			for k, v := range c {
				switch k {
				case "status":
					ht.Status = str(v)
				case "priority":
					ht.Priority = str(v)
				case "type":
					ht.Type = str(v)
				case "group_id":
					ht.Group = idStr(v)
				case "brand_id":
					ht.Brand = idStr(v)
				case "requester_id":
					ht.Requester, _ = strconv.ParseInt(idStr(v), 10, 64)
				}
			}
		case "Change":
			for k, v := range c {
				switch k {
				case "status":
					if ht.Status == "" {
						// First seen: its status before is the change's previous value.
						ht.Status = str(c["previous_value"])
					}
					setStatus(str(v))
				case "priority":
					ht.Priority, changed = str(v), true
				case "type":
					ht.Type, changed = str(v), true
				case "group_id":
					ht.Group, changed = idStr(v), true
				case "brand_id":
					ht.Brand, changed = idStr(v), true
				case "satisfaction_score":
					if s := str(v); s != ht.Rating {
						ht.Rating, ht.RatedAt, changed = s, at, true
					}
				}
			}
		case "Comment":
			var public bool
			_ = json.Unmarshal(c["public"], &public)
			author, _ := strconv.ParseInt(idStr(c["author_id"]), 10, 64)
			if public && author != 0 && author != ht.Requester && ht.Requester != 0 {
				ht.Replies++
				if ht.FirstReply == 0 {
					ht.FirstReply = at
				}
				changed = true
			}
		}
	}
	if ht.Status == "" {
		// Seen first at a change that says nothing of its status.
		return helpdesk.Ticket{}, false
	}
	return h.canonical(e.TicketID, ht, at), changed
}

// canonical is the ticket's version at time at.
func (h *History) canonical(id int64, ht *histTicket, at int64) helpdesk.Ticket {
	t := helpdesk.Ticket{
		ID: strconv.FormatInt(id, 10), Status: statuses[ht.Status], Priority: helpdesk.PriorityNone, Type: "none", Channel: "other",
		Group: ht.Group, Brand: ht.Brand, CreatedAt: time.Unix(ht.Created, 0).UTC(), UpdatedAt: time.Unix(at, 0).UTC(),
		AgentReplies: ht.Replies, Reopens: ht.Reopens,
	}
	if _, ok := statuses[ht.Status]; !ok {
		t.Status = helpdesk.StatusOpen
	}
	if ht.Priority != "" {
		t.Priority = ht.Priority
	}
	if ht.Type != "" {
		t.Type = ht.Type
	}
	if c, ok := channels[ht.Channel]; ok {
		t.Channel = c
	}
	if ht.FirstReply != 0 {
		t.FirstReplyAt, t.Replied = time.Unix(ht.FirstReply, 0).UTC(), true
	}
	if ht.Seen {
		// Replies before the replay's start are unknown: a ticket that
		// left "new" had one (counted, as the start of its count); reopens
		// before it are unknown too (the engine keeps its own count).
		if ht.Status != "new" && !t.Replied {
			t.Replied, t.AgentReplies = true, max(t.AgentReplies, 1)
		}
		t.Reopens = -1
	}
	if ht.Solved != 0 {
		t.SolvedAt = time.Unix(ht.Solved, 0).UTC()
	}
	if !ht.Seen && t.Status.Resolved() && ht.Solved == at {
		cal := func(s int64) helpdesk.Durations {
			return helpdesk.Durations{Calendar: time.Duration(s) * time.Second, CalendarKnown: true}
		}
		t.RequesterWait, t.AgentWait, t.OnHold = cal(ht.RequesterWait), cal(ht.AgentWait), cal(ht.OnHold)
	}
	if r, ok := ratings[ht.Rating]; ok {
		t.Satisfaction = r
		if ht.RatedAt != 0 {
			t.SatisfactionAt = time.Unix(ht.RatedAt, 0).UTC()
		}
	}
	return t
}

func str(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return ""
}

func idStr(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	return source.IDString(raw)
}
