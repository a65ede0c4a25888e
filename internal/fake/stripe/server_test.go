package stripe

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"
)

func get(t *testing.T, s *Server, key, path string, q url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path+"?"+q.Encode(), nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

func ids(m map[string]any) []string {
	var out []string
	for _, d := range m["data"].([]any) {
		out = append(out, d.(map[string]any)["id"].(string))
	}
	return out
}

func TestListsAndEvents(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	p := s.CreatePrice(Price{UnitAmount: 1000})
	var subs []string
	for range 5 {
		subs = append(subs, s.CreateSubscription(Subscription{Customer: s.CreateCustomer(), Items: []Item{{Price: p}}}))
	}
	if code, m := get(t, s, "sk_test_nope", "/v1/subscriptions", nil); code != 401 || m["error"] == nil {
		t.Fatalf("bad key: %d %v", code, m)
	}
	if code, _ := get(t, s, DefaultAPIKey, "/v1/subscriptions", url.Values{"limit": {"101"}}); code != 400 {
		t.Fatalf("limit 101: %d", code)
	}
	// Newest first, starting_after walks older, ending_before newer.
	_, m := get(t, s, DefaultAPIKey, "/v1/subscriptions", url.Values{"limit": {"2"}})
	if got := ids(m); !slices.Equal(got, []string{subs[4], subs[3]}) || m["has_more"] != true || m["object"] != "list" {
		t.Fatalf("first page %v %v", got, m["has_more"])
	}
	_, m = get(t, s, DefaultAPIKey, "/v1/subscriptions", url.Values{"limit": {"2"}, "starting_after": {subs[3]}})
	if got := ids(m); !slices.Equal(got, []string{subs[2], subs[1]}) || m["has_more"] != true {
		t.Fatalf("second page %v", got)
	}
	_, m = get(t, s, DefaultAPIKey, "/v1/subscriptions", url.Values{"limit": {"2"}, "ending_before": {subs[1]}})
	if got := ids(m); !slices.Equal(got, []string{subs[3], subs[2]}) || m["has_more"] != true {
		t.Fatalf("ending_before page %v %v", got, m["has_more"])
	}
	// Events: a cancellation is a deleted event; an update carries
	// previous_attributes.
	s.UpdateSubscription(subs[0], func(x *Subscription) { x.Items[0].Quantity = 4 })
	s.UpdateSubscription(subs[1], func(x *Subscription) { x.Status = "canceled" })
	_, m = get(t, s, DefaultAPIKey, "/v1/events", url.Values{"limit": {"2"}, "types[]": {"customer.subscription.updated", "customer.subscription.deleted"}})
	data := m["data"].([]any)
	if len(data) != 2 || data[0].(map[string]any)["type"] != "customer.subscription.deleted" {
		t.Fatalf("events %v", data)
	}
	upd := data[1].(map[string]any)["data"].(map[string]any)
	if _, ok := upd["previous_attributes"].(map[string]any)["items"]; !ok {
		t.Errorf("previous_attributes lack items: %v", upd["previous_attributes"])
	}
	// Default listing hides canceled subscriptions; status=all shows them.
	_, m = get(t, s, DefaultAPIKey, "/v1/subscriptions", nil)
	if slices.Contains(ids(m), subs[1]) {
		t.Error("canceled listed without status=all")
	}
	// Retention: a month later the events are gone and their ids unknown.
	_, m = get(t, s, DefaultAPIKey, "/v1/events", url.Values{"limit": {"1"}})
	evt := ids(m)[0]
	s.Advance(31 * 24 * time.Hour)
	if code, m := get(t, s, DefaultAPIKey, "/v1/events", url.Values{"ending_before": {evt}}); code != 400 ||
		m["error"].(map[string]any)["code"] != "resource_missing" {
		t.Fatalf("expired cursor: %d %v", code, m)
	}
	s.InjectFault(Fault429, 1)
	if code, m := get(t, s, DefaultAPIKey, "/v1/events", nil); code != 429 || m["error"].(map[string]any)["code"] != "rate_limit" {
		t.Fatalf("429: %d %v", code, m)
	}
}
