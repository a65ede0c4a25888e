package zendesk

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is an injectable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type page struct {
	Tickets []struct {
		ID                 int64  `json:"id"`
		Status             string `json:"status"`
		UpdatedAt          string `json:"updated_at"`
		GeneratedTimestamp int64  `json:"generated_timestamp"`
	} `json:"tickets"`
	MetricSets []struct {
		TicketID int64 `json:"ticket_id"`
		Replies  int   `json:"replies"`
	} `json:"metric_sets"`
	AfterURL     *string `json:"after_url"`
	AfterCursor  *string `json:"after_cursor"`
	BeforeURL    *string `json:"before_url"`
	BeforeCursor *string `json:"before_cursor"`
	EndOfStream  bool    `json:"end_of_stream"`
}

func do(t *testing.T, c *http.Client, rawURL string, auth func(*http.Request)) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != nil {
		auth(req)
	}
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", rawURL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp, body
}

func exportURL(s *Server, params string) string { return s.URL + ExportPath + "?" + params }

func decodePage(t *testing.T, body []byte) page {
	t.Helper()
	var p page
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("decode page: %v\n%s", err, body)
	}
	return p
}

func startParam(c *fakeClock, ago time.Duration) string {
	return "start_time=" + strconv.FormatInt(c.Now().Add(-ago).Unix(), 10)
}

func TestAuth(t *testing.T) {
	clk := newClock()
	both := NewServer(Options{Email: "admin@example.com", APIToken: "tok", OAuthToken: "oauth-secret", NoRateLimit: true, Now: clk.Now})
	defer both.Close()
	tokenOnly := NewServer(Options{Email: "admin@example.com", APIToken: "tok", NoRateLimit: true, Now: clk.Now})
	defer tokenOnly.Close()
	oauthOnly := NewServer(Options{OAuthToken: "oauth-secret", NoRateLimit: true, Now: clk.Now})
	defer oauthOnly.Close()
	open := NewServer(Options{NoRateLimit: true, Now: clk.Now})
	defer open.Close()

	basic := func(user, pass string) func(*http.Request) {
		return func(r *http.Request) { r.SetBasicAuth(user, pass) }
	}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	cases := []struct {
		name string
		s    *Server
		auth func(*http.Request)
		want int
	}{
		{"token ok", both, basic("admin@example.com/token", "tok"), 200},
		{"bearer ok", both, bearer("oauth-secret"), 200},
		{"none", both, nil, 401},
		{"token wrong", both, basic("admin@example.com/token", "nope"), 401},
		{"token without /token suffix", both, basic("admin@example.com", "tok"), 401},
		{"wrong email", both, basic("other@example.com/token", "tok"), 401},
		{"bearer wrong", both, bearer("nope"), 401},
		{"bearer on token-only", tokenOnly, bearer("oauth-secret"), 401},
		{"token on token-only", tokenOnly, basic("admin@example.com/token", "tok"), 200},
		{"token on oauth-only", oauthOnly, basic("admin@example.com/token", "tok"), 401},
		{"bearer on oauth-only", oauthOnly, bearer("oauth-secret"), 200},
		{"open server", open, nil, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, nil, exportURL(tc.s, startParam(clk, time.Hour)), tc.auth)
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.want, body)
			}
			if resp.Header.Get("X-Rate-Limit") != "10" || resp.Header.Get("X-Rate-Limit-Remaining") == "" {
				t.Errorf("missing rate-limit headers: %v", resp.Header)
			}
			if tc.want == 401 {
				var e struct{ Error string }
				if err := json.Unmarshal(body, &e); err != nil || e.Error != "Couldn't authenticate you" {
					t.Errorf("401 body %q", body)
				}
			}
		})
	}
	for _, r := range both.Requests() {
		if strings.Contains(r.Query, "tok") || strings.Contains(r.Query, "oauth") {
			t.Errorf("credentials in the request log: %+v", r)
		}
	}
}

func TestPagingCursorAndRePut(t *testing.T) {
	clk := newClock()
	s := NewServer(Options{NoRateLimit: true, Now: clk.Now})
	defer s.Close()
	const n = 2500
	for i := 0; i < n; i++ {
		s.Put(Ticket{ID: s.NextID(), Status: "open", Metrics: Metrics{Replies: i % 3}})
	}
	if s.Len() != n {
		t.Fatalf("Len %d", s.Len())
	}
	clk.Advance(2 * time.Minute)

	seen := map[int64]int{}
	next := exportURL(s, startParam(clk, time.Hour)+"&per_page=1000&include=metric_sets")
	var pages []page
	for len(pages) < 10 {
		resp, body := do(t, nil, next, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		p := decodePage(t, body)
		pages = append(pages, p)
		if len(p.Tickets) != len(p.MetricSets) {
			t.Fatalf("%d tickets, %d metric sets", len(p.Tickets), len(p.MetricSets))
		}
		for i, tk := range p.Tickets {
			seen[tk.ID]++
			if p.MetricSets[i].TicketID != tk.ID {
				t.Fatalf("metric set %d is for ticket %d, ticket is %d", i, p.MetricSets[i].TicketID, tk.ID)
			}
		}
		if p.AfterURL == nil || p.AfterCursor == nil {
			t.Fatal("after_url/after_cursor missing")
		}
		u, err := url.Parse(*p.AfterURL)
		if err != nil || u.Query().Get("cursor") != *p.AfterCursor || u.Query().Get("per_page") != "1000" ||
			u.Query().Get("include") != "metric_sets" || u.Query().Has("start_time") {
			t.Fatalf("after_url %q", *p.AfterURL)
		}
		if p.EndOfStream {
			break
		}
		next = *p.AfterURL
	}
	if len(pages) != 3 {
		t.Fatalf("%d pages, want 3", len(pages))
	}
	for i, want := range []int{1000, 1000, 500} {
		if len(pages[i].Tickets) != want {
			t.Errorf("page %d has %d tickets, want %d", i, len(pages[i].Tickets), want)
		}
		if pages[i].EndOfStream != (i == 2) {
			t.Errorf("page %d end_of_stream=%v", i, pages[i].EndOfStream)
		}
	}
	if pages[0].BeforeCursor != nil || pages[0].BeforeURL != nil {
		t.Errorf("first page has a before cursor")
	}
	if len(seen) != n {
		t.Fatalf("saw %d distinct tickets, want %d", len(seen), n)
	}
	for id, c := range seen {
		if c != 1 {
			t.Fatalf("ticket %d seen %d times", id, c)
		}
	}

	// Polling again from the stored cursor: nothing new, and the cursor holds.
	stored := *pages[2].AfterCursor
	resp, body := do(t, nil, exportURL(s, "cursor="+url.QueryEscape(stored)+"&include=metric_sets"), nil)
	p := decodePage(t, body)
	if resp.StatusCode != 200 || len(p.Tickets) != 0 || !p.EndOfStream || *p.AfterCursor != stored {
		t.Fatalf("empty poll: status %d, %d tickets, eos %v, cursor changed %v", resp.StatusCode, len(p.Tickets), p.EndOfStream, *p.AfterCursor != stored)
	}
	if !strings.Contains(string(body), `"tickets":[]`) || !strings.Contains(string(body), `"metric_sets":[]`) {
		t.Errorf("empty page should carry empty arrays: %s", body)
	}

	// A re-Put ticket comes back exactly once on the next poll.
	tk, ok := s.Get(42)
	if !ok {
		t.Fatal("ticket 42 missing")
	}
	tk.Status = "solved"
	tk.Metrics.Replies = 7
	tk.UpdatedAt = time.Time{}
	clk.Advance(time.Second)
	s.Put(tk)
	resp, body = do(t, nil, exportURL(s, "cursor="+url.QueryEscape(stored)+"&include=metric_sets"), nil)
	p = decodePage(t, body)
	if resp.StatusCode != 200 || len(p.Tickets) != 1 || p.Tickets[0].ID != 42 || p.Tickets[0].Status != "solved" || !p.EndOfStream {
		t.Fatalf("after re-Put: %s", body)
	}
	if p.MetricSets[0].Replies != 7 || p.Tickets[0].GeneratedTimestamp != clk.Now().Unix() {
		t.Fatalf("re-Put content: %s", body)
	}
	if p.BeforeCursor == nil || *p.BeforeCursor != stored {
		t.Errorf("before_cursor %v", p.BeforeCursor)
	}
	// And the cursor after it yields nothing more.
	resp, body = do(t, nil, *p.AfterURL, nil)
	if p2 := decodePage(t, body); resp.StatusCode != 200 || len(p2.Tickets) != 0 {
		t.Fatalf("after the re-Put page: %s", body)
	}

	// A start_time request sees the re-Put ticket once, at its new position.
	resp, body = do(t, nil, exportURL(s, startParam(clk, time.Hour)), nil)
	p = decodePage(t, body)
	if len(p.Tickets) != 1000 || p.EndOfStream {
		t.Fatalf("default page size: %d tickets", len(p.Tickets))
	}
	for _, tk := range p.Tickets {
		if tk.ID == 42 {
			t.Fatal("re-Put ticket still at its old position")
		}
	}
}

func TestTouchDeleteExcludeDeleted(t *testing.T) {
	clk := newClock()
	s := NewServer(Options{NoRateLimit: true, Now: clk.Now})
	defer s.Close()
	for i := 1; i <= 5; i++ {
		s.Put(Ticket{ID: int64(i), Status: "open"})
	}
	clk.Advance(2 * time.Minute)
	resp, body := do(t, nil, exportURL(s, startParam(clk, time.Hour)), nil)
	p := decodePage(t, body)
	if resp.StatusCode != 200 || len(p.Tickets) != 5 {
		t.Fatalf("initial: %s", body)
	}
	cursor := *p.AfterCursor
	before, _ := s.Get(3)

	clk.Advance(10 * time.Second)
	s.Touch(3)
	s.Delete(4)
	s.Touch(99) // unknown: ignored
	s.Delete(99)
	after, _ := s.Get(3)
	if !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Errorf("Touch changed updated_at")
	}
	resp, body = do(t, nil, exportURL(s, "cursor="+url.QueryEscape(cursor)), nil)
	p = decodePage(t, body)
	if len(p.Tickets) != 2 || p.Tickets[0].ID != 3 || p.Tickets[1].ID != 4 || p.Tickets[1].Status != "deleted" {
		t.Fatalf("after touch/delete: %s", body)
	}
	if p.Tickets[0].UpdatedAt != before.UpdatedAt.UTC().Format(zendeskTime) || p.Tickets[0].GeneratedTimestamp != clk.Now().Unix() {
		t.Errorf("touched ticket: %s", body)
	}
	resp, body = do(t, nil, exportURL(s, "cursor="+url.QueryEscape(cursor)+"&exclude_deleted=true"), nil)
	p = decodePage(t, body)
	if len(p.Tickets) != 1 || p.Tickets[0].ID != 3 || !p.EndOfStream {
		t.Fatalf("exclude_deleted: %s", body)
	}
	resp, body = do(t, nil, *p.AfterURL, nil)
	if p := decodePage(t, body); len(p.Tickets) != 0 {
		t.Fatalf("deleted ticket served after exclude_deleted cursor: %s", body)
	}
	if s.Len() != 5 {
		t.Errorf("Len %d after Delete, want 5 (soft delete)", s.Len())
	}
}

func TestRequestValidation(t *testing.T) {
	clk := newClock()
	s := NewServer(Options{NoRateLimit: true, Now: clk.Now})
	defer s.Close()
	s.Put(Ticket{ID: 1, Status: "new"})
	forged := encodeCursor(position{gts: 1, seq: 1000, floor: 0, inst: s.inst})
	other := NewServer(Options{})
	defer other.Close()
	foreign := encodeCursor(position{gts: 1, seq: 1, floor: 0, inst: other.inst})
	cases := []struct {
		name, query, want string
	}{
		{"missing", "per_page=10", ""},
		{"too recent", startParam(clk, 30*time.Second), "Too recent start_time"},
		{"future", startParam(clk, -time.Hour), "Too recent start_time"},
		{"not a number", "start_time=yesterday", ""},
		{"both", startParam(clk, time.Hour) + "&cursor=" + url.QueryEscape(encodeCursor(position{})), ""},
		{"garbage cursor", "cursor=%21%21%21", "Invalid cursor"},
		{"base64 garbage cursor", "cursor=" + url.QueryEscape("aGVsbG8gd29ybGQ="), "Invalid cursor"},
		{"cursor from the future", "cursor=" + url.QueryEscape(forged), "Invalid cursor"},
		{"cursor of another server", "cursor=" + url.QueryEscape(foreign), "Invalid cursor"},
		{"bad per_page", startParam(clk, time.Hour) + "&per_page=0", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := do(t, nil, exportURL(s, tc.query), nil)
			if resp.StatusCode != 400 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			var e struct{ Error, Description string }
			if err := json.Unmarshal(body, &e); err != nil || e.Error != "InvalidValue" || !strings.Contains(e.Description, tc.want) {
				t.Fatalf("body %s", body)
			}
		})
	}
	// Exactly one minute old is accepted; the path without .json works.
	resp, body := do(t, nil, s.URL+strings.TrimSuffix(ExportPath, ".json")+"?"+startParam(clk, time.Minute), nil)
	if resp.StatusCode != 200 {
		t.Fatalf("one minute old: %d %s", resp.StatusCode, body)
	}
	resp, _ = do(t, nil, s.URL+"/api/v2/tickets.json", nil)
	if resp.StatusCode != 404 {
		t.Errorf("unknown path: %d", resp.StatusCode)
	}
	// per_page above 1000 is capped.
	for i := 0; i < 1200; i++ {
		s.Put(Ticket{Status: "open"})
	}
	clk.Advance(2 * time.Minute)
	_, body = do(t, nil, exportURL(s, startParam(clk, time.Hour)+"&per_page=5000"), nil)
	if p := decodePage(t, body); len(p.Tickets) != 1000 || p.EndOfStream {
		t.Errorf("per_page cap: %d tickets", len(p.Tickets))
	}
	_, body = do(t, nil, exportURL(s, startParam(clk, time.Hour)+"&per_page=7"), nil)
	if p := decodePage(t, body); len(p.Tickets) != 7 || p.EndOfStream || p.MetricSets != nil {
		t.Errorf("per_page=7: %d tickets", len(p.Tickets))
	}
}

func TestFaults(t *testing.T) {
	clk := newClock()
	s := NewServer(Options{NoRateLimit: true, Now: clk.Now})
	defer s.Close()
	s.Put(Ticket{ID: 1, Status: "open"})
	s.Put(Ticket{ID: 2, Status: "pending"})
	clk.Advance(2 * time.Minute)
	q := exportURL(s, startParam(clk, time.Hour))

	t.Run("429", func(t *testing.T) {
		s.SetRetryAfter(7)
		s.InjectFault(Fault429, 1)
		resp, _ := do(t, nil, q, nil)
		if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
			t.Fatalf("status %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		if resp, _ := do(t, nil, q, nil); resp.StatusCode != 200 {
			t.Fatalf("after one 429: %d", resp.StatusCode)
		}
	})
	t.Run("500", func(t *testing.T) {
		s.InjectFault(Fault500, 2)
		for i := 0; i < 2; i++ {
			resp, body := do(t, nil, q, nil)
			var e struct{ Error string }
			if resp.StatusCode != 500 || json.Unmarshal(body, &e) != nil || e.Error == "" {
				t.Fatalf("status %d body %s", resp.StatusCode, body)
			}
		}
		if resp, _ := do(t, nil, q, nil); resp.StatusCode != 200 {
			t.Fatalf("after two 500s: %d", resp.StatusCode)
		}
	})
	t.Run("slow", func(t *testing.T) {
		s.SetSlowDelay(150 * time.Millisecond)
		s.InjectFault(FaultSlow, 1)
		start := time.Now()
		resp, body := do(t, nil, q, nil)
		if resp.StatusCode != 200 || time.Since(start) < 150*time.Millisecond {
			t.Fatalf("status %d after %v", resp.StatusCode, time.Since(start))
		}
		decodePage(t, body)
		// A client timeout releases a slow request.
		s.SetSlowDelay(time.Minute)
		s.InjectFault(FaultSlow, 1)
		c := &http.Client{Timeout: 100 * time.Millisecond}
		if _, err := c.Get(q); err == nil {
			t.Fatal("expected a client timeout")
		}
	})
	t.Run("truncated", func(t *testing.T) {
		s.InjectFault(FaultTruncated, 1)
		resp, body := do(t, nil, q, nil)
		var p page
		if resp.StatusCode != 200 || json.Unmarshal(body, &p) == nil {
			t.Fatalf("status %d, body decodes: %s", resp.StatusCode, body)
		}
	})
	t.Run("unknown status", func(t *testing.T) {
		s.InjectFault(FaultUnknownStatus, 1)
		_, body := do(t, nil, q, nil)
		p := decodePage(t, body)
		if len(p.Tickets) != 2 || p.Tickets[0].Status != "escalated" || p.Tickets[1].Status != "pending" {
			t.Fatalf("body %s", body)
		}
		if tk, _ := s.Get(1); tk.Status != "open" {
			t.Fatal("fault changed the stored ticket")
		}
	})
	t.Run("down", func(t *testing.T) {
		s.InjectFault(FaultDown, -1)
		c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		for i := 0; i < 2; i++ {
			if resp, err := c.Get(q); err == nil {
				resp.Body.Close()
				t.Fatalf("request %d answered %d", i, resp.StatusCode)
			}
		}
		s.ClearFaults()
		if resp, _ := do(t, c, q, nil); resp.StatusCode != 200 {
			t.Fatalf("after ClearFaults: %d", resp.StatusCode)
		}
	})
	t.Run("requests log", func(t *testing.T) {
		reqs := s.Requests()
		if len(reqs) == 0 {
			t.Fatal("no requests recorded")
		}
		var down, slow int
		for _, r := range reqs {
			if r.Path != ExportPath || !strings.HasPrefix(r.Query, "start_time=") || !r.At.Equal(clk.Now()) {
				t.Errorf("request %+v", r)
			}
			switch r.Status {
			case 0:
				down++
			case 429:
				slow++
			}
		}
		if down < 3 || slow != 1 { // 2 down + 1 timed-out slow request
			t.Errorf("down=%d 429=%d in %+v", down, slow, reqs)
		}
		s.ResetRequests()
		if len(s.Requests()) != 0 {
			t.Error("ResetRequests kept requests")
		}
	})
}

func TestLagHidesFreshRecords(t *testing.T) {
	clk := newClock()
	s := NewServer(Options{NoRateLimit: true, Now: clk.Now, Lag: time.Minute})
	defer s.Close()
	s.Put(Ticket{ID: 1, Status: "open"})
	clk.Advance(2 * time.Minute)
	s.Put(Ticket{ID: 2, Status: "open"})
	clk.Advance(30 * time.Second)

	resp, body := do(t, nil, exportURL(s, startParam(clk, time.Hour)), nil)
	p := decodePage(t, body)
	if resp.StatusCode != 200 || len(p.Tickets) != 1 || p.Tickets[0].ID != 1 || !p.EndOfStream {
		t.Fatalf("with lag: %s", body)
	}
	clk.Advance(31 * time.Second)
	_, body = do(t, nil, *p.AfterURL, nil)
	p = decodePage(t, body)
	if len(p.Tickets) != 1 || p.Tickets[0].ID != 2 {
		t.Fatalf("after the lag: %s", body)
	}

	// An empty first page keeps the start position: the record comes later.
	s2 := NewServer(Options{NoRateLimit: true, Now: clk.Now, Lag: time.Minute})
	defer s2.Close()
	s2.Put(Ticket{ID: 5, Status: "new"})
	_, body = do(t, nil, exportURL(s2, startParam(clk, time.Hour)), nil)
	p = decodePage(t, body)
	if len(p.Tickets) != 0 || !p.EndOfStream {
		t.Fatalf("fresh only: %s", body)
	}
	clk.Advance(2 * time.Minute)
	_, body = do(t, nil, *p.AfterURL, nil)
	if p = decodePage(t, body); len(p.Tickets) != 1 || p.Tickets[0].ID != 5 {
		t.Fatalf("after lag from empty cursor: %s", body)
	}
}

func TestRateLimit(t *testing.T) {
	clk := newClock()
	s := NewServer(Options{Now: clk.Now})
	defer s.Close()
	q := exportURL(s, startParam(clk, time.Hour))
	for i := 0; i < 10; i++ {
		resp, body := do(t, nil, q, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: %d %s", i, resp.StatusCode, body)
		}
		if got := resp.Header.Get("X-Rate-Limit-Remaining"); got != strconv.Itoa(9-i) {
			t.Errorf("request %d remaining %q", i, got)
		}
		clk.Advance(time.Second)
	}
	resp, _ := do(t, nil, q, nil)
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if resp.StatusCode != 429 || err != nil || ra != 50 || resp.Header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Fatalf("11th request: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	clk.Advance(time.Duration(ra) * time.Second)
	if resp, body := do(t, nil, q, nil); resp.StatusCode != 200 {
		t.Fatalf("after the window: %d %s", resp.StatusCode, body)
	}

	// A custom budget, and enforcement off.
	s2 := NewServer(Options{Now: clk.Now, RateLimit: 3, NoRateLimit: true})
	defer s2.Close()
	for i := 0; i < 6; i++ {
		resp, _ := do(t, nil, exportURL(s2, startParam(clk, time.Hour)), nil)
		if resp.StatusCode != 200 || resp.Header.Get("X-Rate-Limit") != "3" {
			t.Fatalf("NoRateLimit request %d: %d", i, resp.StatusCode)
		}
	}
}

func TestJSONShape(t *testing.T) {
	clk := newClock()
	s := NewServer(Options{NoRateLimit: true, Now: clk.Now})
	defer s.Close()
	created := clk.Now().Add(-3 * time.Hour)
	s.Put(Ticket{ID: 10, Status: "new", CreatedAt: created})
	s.Put(Ticket{
		ID: 11, Status: "solved", Priority: "high", Type: "incident", Channel: "email",
		GroupID: 5, BrandID: 6, AssigneeID: 7, OrganizationID: 8, CreatedAt: created,
		Subject: "Printer on fire", Tags: []string{"hardware"}, Satisfaction: "good", SatisfactionComment: "Thanks",
		Metrics: Metrics{Replies: 2, Reopens: 1, ReplyTime: &MinutePair{40, 30}, FullResolutionTime: &MinutePair{300, 200},
			SolvedAt: clk.Now().Add(-time.Hour)},
	})
	clk.Advance(2 * time.Minute)
	_, body := do(t, nil, exportURL(s, startParam(clk, 24*time.Hour)+"&include=metric_sets"), nil)
	var raw struct {
		Tickets    []map[string]any `json:"tickets"`
		MetricSets []map[string]any `json:"metric_sets"`
	}
	if err := json.Unmarshal(body, &raw); err != nil || len(raw.Tickets) != 2 || len(raw.MetricSets) != 2 {
		t.Fatalf("%v: %s", err, body)
	}
	empty, full := raw.Tickets[0], raw.Tickets[1]
	for _, k := range []string{"type", "priority", "assignee_id", "organization_id", "group_id", "brand_id", "satisfaction_rating", "external_id"} {
		if v, ok := empty[k]; !ok || v != nil {
			t.Errorf("empty ticket %s = %v (present %v), want null", k, v, ok)
		}
	}
	if tags, ok := empty["tags"].([]any); !ok || len(tags) != 0 {
		t.Errorf("tags %v, want []", empty["tags"])
	}
	if via := empty["via"].(map[string]any); via["channel"] != "web" {
		t.Errorf("via %v", via)
	}
	if empty["created_at"] != created.Format(zendeskTime) || empty["updated_at"] != "2026-03-02T10:00:00Z" {
		t.Errorf("times %v %v", empty["created_at"], empty["updated_at"])
	}
	if full["priority"] != "high" || full["type"] != "incident" || full["assignee_id"] != float64(7) ||
		full["via"].(map[string]any)["channel"] != "email" || full["generated_timestamp"] != float64(created.Add(3*time.Hour).Unix()) {
		t.Errorf("full ticket %v", full)
	}
	rating := full["satisfaction_rating"].(map[string]any)
	if rating["score"] != "good" || rating["comment"] != "Thanks" || rating["id"] == nil {
		t.Errorf("rating %v", rating)
	}
	for _, k := range []string{"reply_time_in_minutes", "first_resolution_time_in_minutes", "full_resolution_time_in_minutes",
		"agent_wait_time_in_minutes", "requester_wait_time_in_minutes", "on_hold_time_in_minutes"} {
		m := raw.MetricSets[0][k].(map[string]any)
		if v, ok := m["calendar"]; !ok || v != nil || m["business"] != nil {
			t.Errorf("empty metric %s = %v", k, m)
		}
	}
	ms := raw.MetricSets[1]
	if ms["ticket_id"] != float64(11) || ms["replies"] != float64(2) || ms["reopens"] != float64(1) ||
		ms["reply_time_in_minutes"].(map[string]any)["business"] != float64(30) || ms["solved_at"] != "2026-03-02T09:00:00Z" {
		t.Errorf("metric set %v", ms)
	}
	if raw.MetricSets[0]["solved_at"] != nil {
		t.Errorf("solved_at %v, want null", raw.MetricSets[0]["solved_at"])
	}
}

func TestListenAddr(t *testing.T) {
	s := NewServer(Options{Addr: "127.0.0.1:0"})
	defer s.Close()
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("URL %s", s.URL)
	}
}

func TestSeedHistory(t *testing.T) {
	clk := newClock()
	s := NewServer(Options{NoRateLimit: true, Now: clk.Now})
	defer s.Close()
	s.SeedHistory(SimOptions{Seed: 3})
	n := s.Len()
	if n < 280 || n > 320 {
		t.Fatalf("seeded %d tickets", n)
	}
	var unresolved, neverReplied, rated, resolved int
	for id := int64(1); id <= int64(n); id++ {
		tk, ok := s.Get(id)
		if !ok {
			t.Fatalf("ticket %d missing", id)
		}
		if tk.CreatedAt.Before(clk.Now().Add(-14*24*time.Hour)) || tk.UpdatedAt.After(clk.Now()) || tk.UpdatedAt.Before(tk.CreatedAt) {
			t.Errorf("ticket %d times %v %v", id, tk.CreatedAt, tk.UpdatedAt)
		}
		for _, p := range []*MinutePair{tk.Metrics.ReplyTime, tk.Metrics.FullResolutionTime, tk.Metrics.FirstResolutionTime, tk.Metrics.AgentWaitTime} {
			if p != nil && (p.Business > p.Calendar || p.Business < 0) {
				t.Errorf("ticket %d business > calendar: %+v", id, *p)
			}
		}
		switch tk.Status {
		case "new", "open", "pending", "hold":
			unresolved++
			if tk.Metrics.Replies == 0 {
				neverReplied++
			}
		case "solved", "closed":
			resolved++
			if tk.Metrics.Replies < 1 || tk.Metrics.SolvedAt.IsZero() || tk.Metrics.FullResolutionTime == nil {
				t.Errorf("resolved ticket %d without reply/solve metrics", id)
			}
		}
		if tk.Satisfaction == "good" || tk.Satisfaction == "bad" {
			rated++
		}
	}
	if unresolved < 30 || unresolved > 50 || neverReplied == 0 || rated == 0 || resolved < 200 {
		t.Errorf("unresolved %d neverReplied %d rated %d resolved %d", unresolved, neverReplied, rated, resolved)
	}
	// The history is exported at once (generated_timestamp in the past).
	_, body := do(t, nil, exportURL(s, startParam(clk, 15*24*time.Hour)), nil)
	if p := decodePage(t, body); len(p.Tickets) != n || !p.EndOfStream {
		t.Errorf("history export: %d tickets", len(p.Tickets))
	}
}

func TestSimulate(t *testing.T) {
	// Reference: the same seed's history alone.
	ref := NewServer(Options{NoRateLimit: true})
	defer ref.Close()
	ref.SeedHistory(SimOptions{Seed: 11})

	s := NewServer(Options{NoRateLimit: true})
	defer s.Close()
	start := time.Now().Add(-time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Simulate(ctx, SimOptions{Seed: 11, Tick: 50 * time.Millisecond})
	}()

	// Poll the export concurrently, as the collector would.
	time.Sleep(100 * time.Millisecond)
	_, body := do(t, nil, exportURL(s, "start_time="+strconv.FormatInt(start.Add(-30*24*time.Hour).Unix(), 10)+"&include=metric_sets"), nil)
	p := decodePage(t, body)
	for !p.EndOfStream || ctx.Err() == nil {
		time.Sleep(200 * time.Millisecond)
		resp, body := do(t, nil, *p.AfterURL, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("poll: %d %s", resp.StatusCode, body)
		}
		p = decodePage(t, body)
		if ctx.Err() != nil && p.EndOfStream {
			break
		}
	}
	<-done

	var created, firstReplies, solves, reopens, good, bad, deletedOrTouched int
	backlog := 0
	maxID := s.NextID()
	for id := int64(1); id < maxID; id++ {
		tk, ok := s.Get(id)
		if !ok {
			continue
		}
		old, existed := ref.Get(id)
		if !existed && !tk.CreatedAt.Before(start.Truncate(time.Second)) {
			created++
		}
		if tk.Metrics.Replies >= 1 && (!existed || old.Metrics.Replies == 0) {
			firstReplies++
			if tk.Metrics.ReplyTime == nil {
				t.Errorf("ticket %d replied without reply time", id)
			}
		}
		if !tk.Metrics.SolvedAt.IsZero() && !tk.Metrics.SolvedAt.Before(start.Truncate(time.Second)) {
			solves++
		}
		oldReopens := 0
		if existed {
			oldReopens = old.Metrics.Reopens
		}
		if tk.Metrics.Reopens > oldReopens {
			reopens++
		}
		if existed && tk.Satisfaction != old.Satisfaction || !existed && tk.Satisfaction != "" {
			switch tk.Satisfaction {
			case "good":
				good++
			case "bad":
				bad++
			}
		}
		if tk.Status == "deleted" {
			deletedOrTouched++
		}
		switch tk.Status {
		case "new", "open", "pending", "hold":
			backlog++
		}
		for _, mp := range []*MinutePair{tk.Metrics.ReplyTime, tk.Metrics.FirstResolutionTime, tk.Metrics.FullResolutionTime} {
			if mp != nil && mp.Business > mp.Calendar {
				t.Errorf("ticket %d business > calendar: %+v", id, *mp)
			}
		}
	}
	t.Logf("len %d (seed %d): created %d, first replies %d, solves %d, reopens %d, good %d, bad %d, deleted %d, backlog %d",
		s.Len(), ref.Len(), created, firstReplies, solves, reopens, good, bad, deletedOrTouched, backlog)
	if s.Len() <= ref.Len() || created == 0 || firstReplies == 0 || solves == 0 || reopens == 0 || good == 0 || bad == 0 {
		t.Fatal("the simulation did not produce every kind of event")
	}
	if backlog < 15 || backlog > 160 {
		t.Errorf("backlog %d", backlog)
	}
}

func ExampleNewServer() {
	s := NewServer(Options{Email: "admin@example.com", APIToken: "secret", NoRateLimit: true})
	defer s.Close()
	s.Put(Ticket{ID: s.NextID(), Status: "open", UpdatedAt: time.Now().Add(-time.Hour)})
	req, _ := http.NewRequest("GET", s.URL+ExportPath+"?start_time="+strconv.FormatInt(time.Now().Add(-2*time.Hour).Unix(), 10), nil)
	req.SetBasicAuth("admin@example.com/token", "secret")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var page struct {
		Tickets []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"tickets"`
		EndOfStream bool `json:"end_of_stream"`
	}
	json.NewDecoder(resp.Body).Decode(&page)
	fmt.Println(resp.StatusCode, len(page.Tickets), page.Tickets[0].Status, page.EndOfStream)
	// Output: 200 1 open true
}
