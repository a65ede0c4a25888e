package edesk

import (
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"
)

const testToken = "fake-fixture-token-k1"

func get(t *testing.T, url, token string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&body)
	return resp, body
}

func TestAuthPagingAndDayFilter(t *testing.T) {
	now := time.Date(2026, 5, 18, 5, 0, 0, 0, time.UTC)
	s := NewServer(Options{Token: testToken, NoRateLimit: true, Location: time.FixedZone("UTC-10", -10*3600), Now: func() time.Time { return now }})
	defer s.Close()
	if resp, body := get(t, s.URL+"/tickets", "wrong"); resp.StatusCode != 401 || body["error"] == nil {
		t.Fatalf("wrong token: %d %v", resp.StatusCode, body)
	}
	for i := range 5 {
		at := now.Add(-time.Duration(i) * 24 * time.Hour)
		s.Put(Ticket{ID: int64(i + 1), ChannelID: 1, Status: "Open", CreatedAt: at, UpdatedAt: at})
	}
	s.Reply(1, time.Time{})
	// 2026-05-17 in UTC-10 starts at 2026-05-17 10:00 UTC: ticket 1 only.
	resp, body := get(t, s.URL+"/tickets?filter_last_updated_at_gte=2026-05-17&order_by=last_updated_at&order_direction=asc", testToken)
	if resp.StatusCode != 200 || len(body["data"].([]any)) != 1 {
		t.Fatalf("day filter: %d %v", resp.StatusCode, body)
	}
	tk := body["data"].([]any)[0].(map[string]any)
	if tk["replies"] != 1.0 || len(tk["messages_ids"].([]any)) != 1 || tk["last_updated_at"] != "2026-05-18 05:00:00" {
		t.Errorf("ticket = %v", tk)
	}
	_, body = get(t, s.URL+"/tickets?itemsPerPage=2&page=2&order_by=id", testToken)
	pg := body["paginator"].(map[string]any)
	if len(body["data"].([]any)) != 2 || pg["currentPage"] != 2.0 || pg["totalItemsCount"] != 5.0 {
		t.Errorf("page 2: %v", body)
	}
	for _, q := range []string{"itemsPerPage=101", "page=0", "filter_last_updated_at_gte=2026-05-17T00:00:00Z", "order_by=status"} {
		if resp, _ := get(t, s.URL+"/tickets?"+q, testToken); resp.StatusCode != 400 {
			t.Errorf("%s: %d, want 400", q, resp.StatusCode)
		}
	}
	id := int64(tk["messages_ids"].([]any)[0].(float64))
	_, body = get(t, s.URL+"/messages/"+strconv.FormatInt(id, 10), testToken)
	if m := body["data"].(map[string]any); m["type"] != "Message" || m["direction"] != "Outgoing" {
		t.Errorf("item = %v", body)
	}
	if resp, _ := get(t, s.URL+"/messages/1", testToken); resp.StatusCode != 404 {
		t.Errorf("unknown item: %d", resp.StatusCode)
	}
}

func TestRateLimitAndFaults(t *testing.T) {
	s := NewServer(Options{RateLimit: 2})
	defer s.Close()
	for range 2 {
		if resp, _ := get(t, s.URL+"/channels", ""); resp.StatusCode != 200 {
			t.Fatalf("within the burst: %d", resp.StatusCode)
		}
	}
	resp, body := get(t, s.URL+"/channels", "")
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the burst: %d %v", resp.StatusCode, resp.Header)
	}
	if e := body["error"].(map[string]any); e["message"] != "Out of quota" || e["httpCode"] != 429.0 {
		t.Errorf("429 body = %v", body)
	}
	s2 := NewServer(Options{NoRateLimit: true})
	defer s2.Close()
	s2.InjectFault(Fault500, 1)
	if resp, _ := get(t, s2.URL+"/tickets", ""); resp.StatusCode != 500 {
		t.Errorf("injected 500: %d", resp.StatusCode)
	}
	s2.InjectFault(Fault429, 1)
	s2.SetRetryAfter(7)
	if resp, _ := get(t, s2.URL+"/tickets", ""); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7" {
		t.Errorf("injected 429: %d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := get(t, s2.URL+"/tickets", ""); resp.StatusCode != 200 {
		t.Errorf("after the faults: %d", resp.StatusCode)
	}
}
