package zendesk

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"
)

type eventsAnswer struct {
	TicketEvents []struct {
		ID          int64            `json:"id"`
		TicketID    int64            `json:"ticket_id"`
		Timestamp   int64            `json:"timestamp"`
		Via         string           `json:"via"`
		EventType   string           `json:"event_type"`
		ChildEvents []map[string]any `json:"child_events"`
	} `json:"ticket_events"`
	NextPage    *string `json:"next_page"`
	Count       int     `json:"count"`
	EndOfStream bool    `json:"end_of_stream"`
	EndTime     int64   `json:"end_time"`
}

func getEvents(t *testing.T, url string) (eventsAnswer, int, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.SetBasicAuth("a@example.invalid/token", "tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a eventsAnswer
	if resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
			t.Fatal(err)
		}
	}
	return a, resp.StatusCode, resp.Header
}

func TestTicketEventExport(t *testing.T) {
	s := NewServer(Options{Email: "a@example.invalid", APIToken: "tok", PageSize: 2, RateLimit: 1000})
	defer s.Close()
	t0 := time.Now().Add(-48 * time.Hour).Truncate(time.Second)
	// Logged out of time order: the log is kept in timestamp order.
	id := s.CreateTicket(Ticket{Priority: "high", Channel: "email", Subject: "x"}, t0)
	s.UpdateTicket(id, t0.Add(3*time.Hour), func(t *Ticket) { t.Status = "solved" }, Comment{AuthorID: 42, Public: true, Body: "done"})
	id2 := s.CreateTicket(Ticket{Subject: "y"}, t0.Add(time.Hour))
	// Three audits in one second, more than a page.
	for range 3 {
		s.UpdateTicket(id2, t0.Add(2*time.Hour), nil, Comment{AuthorID: 42, Public: false, Body: "note"})
	}
	if got, ok := s.Get(id); !ok || got.Metrics.Replies != 1 || got.Metrics.ReplyTime.Calendar != 180 || got.Metrics.SolvedAt.IsZero() {
		t.Fatalf("metric set after the updates: %+v", got.Metrics)
	}

	url := s.URL + EventsPath + "?start_time=" + strconv.FormatInt(t0.Unix(), 10) + "&include=comment_events"
	var times []int64
	ids := map[int64]bool{}
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("the export does not end")
		}
		a, code, h := getEvents(t, url)
		if code != http.StatusOK || h.Get("X-Rate-Limit") != "1000" {
			t.Fatalf("status %d, X-Rate-Limit %q", code, h.Get("X-Rate-Limit"))
		}
		for _, e := range a.TicketEvents {
			if ids[e.ID] {
				continue // the last second comes again: dropped by id
			}
			ids[e.ID] = true
			times = append(times, e.Timestamp)
			if e.EventType != "Audit" || len(e.ChildEvents) == 0 {
				t.Fatalf("event %+v", e)
			}
		}
		if a.EndOfStream {
			if a.NextPage != nil {
				t.Fatalf("end_of_stream with next_page %q", *a.NextPage)
			}
			break
		}
		url = *a.NextPage
	}
	want := []int64{t0.Unix(), t0.Unix() + 3600, t0.Unix() + 7200, t0.Unix() + 7200, t0.Unix() + 7200, t0.Unix() + 10800}
	if len(times) != len(want) {
		t.Fatalf("timestamps %v, want %v", times, want)
	}
	for i := range want {
		if times[i] != want[i] {
			t.Fatalf("timestamps %v, want %v", times, want)
		}
	}

	// The solve's audit: a status Change with its previous value and the
	// agent's public comment (with include=comment_events only).
	a, _, _ := getEvents(t, s.URL+EventsPath+"?start_time="+strconv.FormatInt(t0.Unix()+10800, 10))
	if len(a.TicketEvents) != 1 {
		t.Fatalf("%d events", len(a.TicketEvents))
	}
	var sawStatus bool
	for _, c := range a.TicketEvents[0].ChildEvents {
		if c["event_type"] == "Comment" {
			t.Errorf("a Comment child without include=comment_events: %v", c)
		}
		if c["event_type"] == "Change" && c["status"] == "solved" && c["previous_value"] == "new" {
			sawStatus = true
		}
	}
	if !sawStatus {
		t.Errorf("no status Change new → solved in %v", a.TicketEvents[0].ChildEvents)
	}
	if a.TicketEvents[0].Via != "Mail" {
		t.Errorf("via %q, want Mail", a.TicketEvents[0].Via)
	}

	for _, bad := range []string{"", "?start_time=x", "?start_time=" + strconv.FormatInt(time.Now().Unix(), 10)} {
		if _, code, _ := getEvents(t, s.URL+EventsPath+bad); code != http.StatusBadRequest {
			t.Errorf("%q: status %d, want 400", bad, code)
		}
	}
}

func TestTicketEventExportRateLimit(t *testing.T) {
	s := NewServer(Options{Email: "a@example.invalid", APIToken: "tok"})
	defer s.Close()
	url := s.URL + EventsPath + "?start_time=0"
	for i := range 10 {
		if _, code, _ := getEvents(t, url); code != http.StatusOK {
			t.Fatalf("request %d: status %d", i+1, code)
		}
	}
	_, code, h := getEvents(t, url)
	if code != http.StatusTooManyRequests || h.Get("Retry-After") == "" {
		t.Fatalf("11th request in a minute: status %d, Retry-After %q; want 429 with Retry-After", code, h.Get("Retry-After"))
	}
}
