package zendesk

import (
	"fmt"
	"time"
)

// Ticket is a ticket as the fake stores it. Zero values are emitted the way
// Zendesk emits absent values (mostly null); see each field.
type Ticket struct {
	// ID is the ticket id (must be > 0; Put assigns one otherwise).
	ID int64
	// Status is new, open, pending, hold, solved, closed or deleted; any other
	// string is emitted as is (to test unknown values).
	Status string
	// Priority (urgent, high, normal, low) and Type (question, incident,
	// problem, task); "" is emitted as null.
	Priority, Type string
	// Channel is via.channel; "" is emitted as "web".
	Channel string
	// GroupID, BrandID, AssigneeID and OrganizationID; 0 is emitted as null.
	GroupID, BrandID, AssigneeID, OrganizationID int64
	// CreatedAt and UpdatedAt; Put sets a zero UpdatedAt to Now() and a zero
	// CreatedAt to UpdatedAt.
	CreatedAt, UpdatedAt time.Time
	// Subject; the description is derived from it.
	Subject string
	// Tags; nil is emitted as [].
	Tags []string
	// Satisfaction is the satisfaction_rating score (offered, unoffered,
	// good, bad); "" is emitted as a null satisfaction_rating.
	Satisfaction string
	// SatisfactionComment is the rating's comment.
	SatisfactionComment string
	// Metrics is the ticket's metric set (include=metric_sets).
	Metrics Metrics
}

// Metrics is a ticket's metric set. Nil durations are emitted as
// {"calendar":null,"business":null}, zero times as null.
type Metrics struct {
	// Replies counts public agent replies; Reopens counts reopenings.
	Replies, Reopens int
	// The durations in minutes, each with a calendar and a business value.
	ReplyTime, FirstResolutionTime, FullResolutionTime, AgentWaitTime, RequesterWaitTime, OnHoldTime *MinutePair
	// The metric timestamps.
	SolvedAt, AssignedAt, InitiallyAssignedAt, StatusUpdatedAt, LatestCommentAddedAt time.Time
}

// MinutePair is a duration in minutes in calendar and business hours
// (business never exceeds calendar in Zendesk's data).
type MinutePair struct{ Calendar, Business int }

// clone returns a deep copy of t.
func (t Ticket) clone() Ticket {
	if t.Tags != nil {
		t.Tags = append([]string(nil), t.Tags...)
	}
	m := &t.Metrics
	for _, p := range []**MinutePair{&m.ReplyTime, &m.FirstResolutionTime, &m.FullResolutionTime, &m.AgentWaitTime, &m.RequesterWaitTime, &m.OnHoldTime} {
		if *p != nil {
			c := **p
			*p = &c
		}
	}
	return t
}

// ---------------------------------------------------------------------------
// JSON shapes (Zendesk's field names)

const zendeskTime = "2006-01-02T15:04:05Z"

type viaJSON struct {
	Channel string        `json:"channel"`
	Source  viaSourceJSON `json:"source"`
}

type viaSourceJSON struct {
	From map[string]any `json:"from"`
	To   map[string]any `json:"to"`
	Rel  *string        `json:"rel"`
}

type satisfactionJSON struct {
	ID      int64  `json:"id"`
	Score   string `json:"score"`
	Comment string `json:"comment"`
}

type ticketJSON struct {
	URL                  string            `json:"url"`
	ID                   int64             `json:"id"`
	ExternalID           *string           `json:"external_id"`
	Via                  viaJSON           `json:"via"`
	CreatedAt            string            `json:"created_at"`
	UpdatedAt            string            `json:"updated_at"`
	GeneratedTimestamp   int64             `json:"generated_timestamp,omitempty"` // export only
	Type                 *string           `json:"type"`
	Subject              string            `json:"subject"`
	RawSubject           string            `json:"raw_subject"`
	Description          string            `json:"description"`
	Priority             *string           `json:"priority"`
	Status               string            `json:"status"`
	Recipient            *string           `json:"recipient"`
	RequesterID          int64             `json:"requester_id"`
	SubmitterID          int64             `json:"submitter_id"`
	AssigneeID           *int64            `json:"assignee_id"`
	OrganizationID       *int64            `json:"organization_id"`
	GroupID              *int64            `json:"group_id"`
	CollaboratorIDs      []int64           `json:"collaborator_ids"`
	FollowerIDs          []int64           `json:"follower_ids"`
	EmailCCIDs           []int64           `json:"email_cc_ids"`
	ForumTopicID         *int64            `json:"forum_topic_id"`
	ProblemID            *int64            `json:"problem_id"`
	HasIncidents         bool              `json:"has_incidents"`
	IsPublic             bool              `json:"is_public"`
	DueAt                *string           `json:"due_at"`
	Tags                 []string          `json:"tags"`
	CustomFields         []any             `json:"custom_fields"`
	SatisfactionRating   *satisfactionJSON `json:"satisfaction_rating"`
	SharingAgreementIDs  []int64           `json:"sharing_agreement_ids"`
	CustomStatusID       *int64            `json:"custom_status_id"`
	Fields               []any             `json:"fields"`
	FollowupIDs          []int64           `json:"followup_ids"`
	TicketFormID         *int64            `json:"ticket_form_id"`
	BrandID              *int64            `json:"brand_id"`
	AllowChannelback     bool              `json:"allow_channelback"`
	AllowAttachments     bool              `json:"allow_attachments"`
	FromMessagingChannel bool              `json:"from_messaging_channel"`
}

type minutesJSON struct {
	Calendar *int `json:"calendar"`
	Business *int `json:"business"`
}

type metricSetJSON struct {
	URL                          string      `json:"url"`
	ID                           int64       `json:"id"`
	TicketID                     int64       `json:"ticket_id"`
	CreatedAt                    string      `json:"created_at"`
	UpdatedAt                    string      `json:"updated_at"`
	GroupStations                int         `json:"group_stations"`
	AssigneeStations             int         `json:"assignee_stations"`
	Reopens                      int         `json:"reopens"`
	Replies                      int         `json:"replies"`
	AssigneeUpdatedAt            *string     `json:"assignee_updated_at"`
	RequesterUpdatedAt           *string     `json:"requester_updated_at"`
	StatusUpdatedAt              *string     `json:"status_updated_at"`
	InitiallyAssignedAt          *string     `json:"initially_assigned_at"`
	AssignedAt                   *string     `json:"assigned_at"`
	SolvedAt                     *string     `json:"solved_at"`
	LatestCommentAddedAt         *string     `json:"latest_comment_added_at"`
	ReplyTimeInMinutes           minutesJSON `json:"reply_time_in_minutes"`
	FirstResolutionTimeInMinutes minutesJSON `json:"first_resolution_time_in_minutes"`
	FullResolutionTimeInMinutes  minutesJSON `json:"full_resolution_time_in_minutes"`
	AgentWaitTimeInMinutes       minutesJSON `json:"agent_wait_time_in_minutes"`
	RequesterWaitTimeInMinutes   minutesJSON `json:"requester_wait_time_in_minutes"`
	OnHoldTimeInMinutes          minutesJSON `json:"on_hold_time_in_minutes"`
	CustomStatusUpdatedAt        *string     `json:"custom_status_updated_at"`
}

// Ids of the default custom statuses, one per status category.
var customStatusIDs = map[string]int64{
	"new":     35436000001,
	"open":    35436000002,
	"pending": 35436000003,
	"hold":    35436000004,
	"solved":  35436000005,
	"closed":  35436000005, // closed tickets keep their solved custom status
}

func strPtr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func idPtr(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

func timePtr(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := t.UTC().Format(zendeskTime)
	return &s
}

func minutes(p *MinutePair) minutesJSON {
	if p == nil {
		return minutesJSON{}
	}
	c, b := p.Calendar, p.Business
	return minutesJSON{Calendar: &c, Business: &b}
}

// requesterID derives a stable end-user id for a ticket.
func requesterID(ticketID int64) int64 { return 381000000000 + ticketID%4999 }

func (t Ticket) toJSON(base string, gts int64) ticketJSON {
	channel := t.Channel
	if channel == "" {
		channel = "web"
	}
	tags := t.Tags
	if tags == nil {
		tags = []string{}
	}
	var rating *satisfactionJSON
	if t.Satisfaction != "" {
		rating = &satisfactionJSON{ID: 7700000000 + t.ID, Score: t.Satisfaction, Comment: t.SatisfactionComment}
	}
	var customStatus *int64
	if id, ok := customStatusIDs[t.Status]; ok {
		customStatus = &id
	}
	var recipient *string
	if channel == "email" {
		recipient = strPtr("support@example.zendesk.com")
	}
	desc := t.Subject
	if desc != "" {
		desc = "Hello, " + desc + ". Can you help?"
	}
	return ticketJSON{
		URL:                  fmt.Sprintf("%s/api/v2/tickets/%d.json", base, t.ID),
		ID:                   t.ID,
		Via:                  viaJSON{Channel: channel, Source: viaSourceJSON{From: map[string]any{}, To: map[string]any{}}},
		CreatedAt:            t.CreatedAt.UTC().Format(zendeskTime),
		UpdatedAt:            t.UpdatedAt.UTC().Format(zendeskTime),
		GeneratedTimestamp:   gts,
		Type:                 strPtr(t.Type),
		Subject:              t.Subject,
		RawSubject:           t.Subject,
		Description:          desc,
		Priority:             strPtr(t.Priority),
		Status:               t.Status,
		Recipient:            recipient,
		RequesterID:          requesterID(t.ID),
		SubmitterID:          requesterID(t.ID),
		AssigneeID:           idPtr(t.AssigneeID),
		OrganizationID:       idPtr(t.OrganizationID),
		GroupID:              idPtr(t.GroupID),
		CollaboratorIDs:      []int64{},
		FollowerIDs:          []int64{},
		EmailCCIDs:           []int64{},
		IsPublic:             true,
		Tags:                 tags,
		CustomFields:         []any{},
		SatisfactionRating:   rating,
		SharingAgreementIDs:  []int64{},
		CustomStatusID:       customStatus,
		Fields:               []any{},
		FollowupIDs:          []int64{},
		BrandID:              idPtr(t.BrandID),
		AllowAttachments:     true,
		FromMessagingChannel: channel == "native_messaging",
	}
}

func (t Ticket) metricSetJSON(base string) metricSetJSON {
	m := t.Metrics
	id := 9100000000 + t.ID
	groupStations, assigneeStations := 0, 0
	if t.GroupID != 0 {
		groupStations = 1
	}
	if t.AssigneeID != 0 {
		assigneeStations = 1
	}
	var assigneeUpdated *string
	if m.Replies > 0 && !m.LatestCommentAddedAt.IsZero() {
		assigneeUpdated = timePtr(m.LatestCommentAddedAt)
	}
	return metricSetJSON{
		URL:                          fmt.Sprintf("%s/api/v2/ticket_metrics/%d.json", base, id),
		ID:                           id,
		TicketID:                     t.ID,
		CreatedAt:                    t.CreatedAt.UTC().Format(zendeskTime),
		UpdatedAt:                    t.UpdatedAt.UTC().Format(zendeskTime),
		GroupStations:                groupStations,
		AssigneeStations:             assigneeStations,
		Reopens:                      m.Reopens,
		Replies:                      m.Replies,
		AssigneeUpdatedAt:            assigneeUpdated,
		RequesterUpdatedAt:           timePtr(t.CreatedAt),
		StatusUpdatedAt:              timePtr(m.StatusUpdatedAt),
		InitiallyAssignedAt:          timePtr(m.InitiallyAssignedAt),
		AssignedAt:                   timePtr(m.AssignedAt),
		SolvedAt:                     timePtr(m.SolvedAt),
		LatestCommentAddedAt:         timePtr(m.LatestCommentAddedAt),
		ReplyTimeInMinutes:           minutes(m.ReplyTime),
		FirstResolutionTimeInMinutes: minutes(m.FirstResolutionTime),
		FullResolutionTimeInMinutes:  minutes(m.FullResolutionTime),
		AgentWaitTimeInMinutes:       minutes(m.AgentWaitTime),
		RequesterWaitTimeInMinutes:   minutes(m.RequesterWaitTime),
		OnHoldTimeInMinutes:          minutes(m.OnHoldTime),
		CustomStatusUpdatedAt:        timePtr(m.StatusUpdatedAt),
	}
}
