package paddle

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/cx-exporter/cx-exporter/internal/fake"
)

func get(t *testing.T, s *Server, path, auth string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, resp.Header, body
}

func code(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestAuth(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	for _, tc := range []struct{ auth, code string }{
		{"", "authentication_missing"},
		{"Basic abc", "authentication_malformed"},
		{"Bearer wrong", "invalid_token"},
	} {
		if st, _, body := get(t, s, "/subscriptions", tc.auth); st != 403 || code(body) != tc.code {
			t.Errorf("%q: %d %v, want 403 %s", tc.auth, st, body, tc.code)
		}
	}
	if st, _, _ := get(t, s, "/subscriptions", "Bearer "+DefaultAPIKey); st != 200 {
		t.Errorf("good key: %d", st)
	}
}

func TestPagingAndEvents(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	p := s.CreatePrice(Price{Amount: 100})
	for range 5 {
		s.CreateSubscription(Subscription{Items: []Item{{PriceID: p}}})
	}
	auth := "Bearer " + DefaultAPIKey
	var ids []string
	after := ""
	for {
		_, _, body := get(t, s, "/subscriptions?per_page=2&after="+after, auth)
		for _, d := range body["data"].([]any) {
			ids = append(ids, d.(map[string]any)["id"].(string))
		}
		pg := body["meta"].(map[string]any)["pagination"].(map[string]any)
		if !pg["has_more"].(bool) {
			break
		}
		after = ids[len(ids)-1]
	}
	if len(ids) != 5 {
		t.Errorf("paged %v", ids)
	}
	s.UpdateSubscription(ids[0], func(x *Subscription) { x.Status = "paused" })
	_, _, body := get(t, s, "/events?event_type=subscription.paused", auth)
	if d := body["data"].([]any); len(d) != 1 || d[0].(map[string]any)["data"].(map[string]any)["status"] != "paused" {
		t.Errorf("events %v", d)
	}
	if st, _, body := get(t, s, "/subscriptions?status=frozen", auth); st != 400 || code(body) != "bad_request" {
		t.Errorf("bad status filter: %d %v", st, body)
	}
}

func TestRateLimitAndFaults(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	auth := "Bearer " + DefaultAPIKey
	for i := range RateLimit {
		if st, _, _ := get(t, s, "/events", auth); st != 200 {
			t.Fatalf("request %d: %d", i, st)
		}
	}
	st, h, body := get(t, s, "/events", auth)
	if st != 429 || code(body) != "too_many_requests" || h.Get("Retry-After") == "" {
		t.Errorf("over the limit: %d %v %v", st, h, body)
	}
	s2 := NewServer(Options{RateLimitOff: true})
	defer s2.Close()
	s2.InjectFault(fake.Fault500, 1)
	if st, _, body := get(t, s2, "/events", auth); st != 500 || code(body) != "internal_error" {
		t.Errorf("500 fault: %d %v", st, body)
	}
	if st, _, _ := get(t, s2, "/events", auth); st != 200 {
		t.Errorf("after the fault: %d", st)
	}
}
