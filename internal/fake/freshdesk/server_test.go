package freshdesk

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, s *Server, key, path string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if key != "" {
		req.SetBasicAuth(key, "X")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func ids(t *testing.T, body string) []int64 {
	t.Helper()
	var v []struct {
		ID    int64           `json:"id"`
		Stats json.RawMessage `json:"stats"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = x.ID
	}
	return out
}

func TestServer(t *testing.T) {
	s := NewServer(Options{APIKey: "k", PageSize: 2, PageCap: 2, RateLimit: 1000})
	defer s.Close()
	base := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for i := range 5 {
		s.Put(Ticket{ID: int64(i + 1), Status: 2, Priority: 1, Source: 1, CreatedAt: base, UpdatedAt: base.Add(time.Duration(5-i) * time.Minute)})
	}
	if resp, body := get(t, s, "bad", "/api/v2/tickets"); resp.StatusCode != 401 || !strings.Contains(body, `"invalid_credentials"`) {
		t.Errorf("bad key: %d %s", resp.StatusCode, body)
	}
	q := "/api/v2/tickets?updated_since=2026-03-02T10:02:00Z&order_by=updated_at&order_type=asc&include=stats&per_page=100"
	resp, body := get(t, s, "k", q+"&page=1")
	if got := ids(t, body); len(got) != 2 || got[0] != 4 || got[1] != 3 {
		t.Errorf("page 1 = %v, want [4 3]", got)
	}
	if !strings.Contains(resp.Header.Get("Link"), `rel="next"`) || !strings.Contains(resp.Header.Get("Link"), "page=2") {
		t.Errorf("Link = %q", resp.Header.Get("Link"))
	}
	if resp.Header.Get("X-RateLimit-Remaining") == "" || resp.Header.Get("X-RateLimit-Total") != "1000" {
		t.Errorf("rate-limit headers: %v", resp.Header)
	}
	if !strings.Contains(body, `"stats"`) {
		t.Error("include=stats gave no stats")
	}
	resp, body = get(t, s, "k", q+"&page=2")
	if got := ids(t, body); len(got) != 2 || got[0] != 2 || got[1] != 1 || resp.Header.Get("Link") != "" {
		t.Errorf("page 2 = %v, Link %q", got, resp.Header.Get("Link"))
	}
	resp, body = get(t, s, "k", q+"&page=3")
	var verr struct {
		Errors []struct{ Field string } `json:"errors"`
	}
	if json.Unmarshal([]byte(body), &verr); resp.StatusCode != 400 || len(verr.Errors) == 0 || verr.Errors[0].Field != "page" {
		t.Errorf("past the cap: %d %s", resp.StatusCode, body)
	}
	if resp, _ := get(t, s, "k", "/api/v2/tickets?per_page=101"); resp.StatusCode != 400 {
		t.Errorf("per_page 101: %d", resp.StatusCode)
	}
	s.Delete(3)
	if _, body := get(t, s, "k", "/api/v2/tickets?filter=deleted&updated_since=2026-01-01T00:00:00Z"); len(ids(t, body)) != 1 {
		t.Errorf("deleted listing: %s", body)
	}
	if _, body := get(t, s, "k", "/api/v2/tickets?updated_since=2026-01-01T00:00:00Z&include=stats"); len(ids(t, body)) != 2 || strings.Contains(body, `"id":3,`) {
		t.Errorf("deleted ticket listed: %s", body)
	}
	s.RateAt(1, 103, base)
	s.Rate(2, -101)
	if _, body := get(t, s, "k", "/api/v2/surveys/satisfaction_ratings?created_since=2026-03-03T00:00:00Z"); len(ids(t, body)) != 1 || !strings.Contains(body, `"default_question":-101`) {
		t.Errorf("ratings: %s", body)
	}
	s.SetRetryAfter(7)
	s.InjectFault(Fault429, 1)
	if resp, _ := get(t, s, "k", "/api/v2/tickets"); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
		t.Errorf("429: %d %v", resp.StatusCode, resp.Header)
	}
	s.InjectFault(FaultTruncated, 1)
	if _, body := get(t, s, "k", "/api/v2/tickets?updated_since=2026-01-01T00:00:00Z"); json.Valid([]byte(body)) {
		t.Errorf("truncated body is valid JSON: %s", body)
	}
	s.InjectFault(FaultUnknownStatus, 1)
	if _, body := get(t, s, "k", "/api/v2/tickets?updated_since=2026-01-01T00:00:00Z"); !strings.Contains(body, `"escalated"`) {
		t.Errorf("unknown status fault: %s", body)
	}
	var n int
	for _, r := range s.Requests() {
		if r.Status != 0 {
			n++
		}
	}
	if n != len(s.Requests()) || n == 0 {
		t.Errorf("requests not recorded: %+v", s.Requests())
	}
}

func TestServerRateLimit(t *testing.T) {
	s := NewServer(Options{RateLimit: 2})
	defer s.Close()
	for i, want := range []int{200, 200, 429} {
		if resp, _ := get(t, s, "", "/api/v2/tickets"); resp.StatusCode != want {
			t.Errorf("request %d: %d, want %d", i, resp.StatusCode, want)
		} else if want == 429 && resp.Header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
	}
}

func TestSimulate(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	o := SimOptions{Seed: 1, Tick: time.Millisecond}
	s.SeedHistory(o)
	seeded := s.Len()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	s.Simulate(ctx, o)
	if s.Len() <= seeded || seeded == 0 {
		t.Errorf("seeded %d, now %d tickets", seeded, s.Len())
	}
	_, body := get(t, s, "", "/api/v2/surveys/satisfaction_ratings")
	if len(ids(t, body)) == 0 {
		t.Error("no ratings")
	}
}
