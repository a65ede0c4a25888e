package chargebee

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const key = "cbtest_fixture_key"

type page struct {
	List []struct {
		Subscription map[string]any `json:"subscription"`
		Customer     map[string]any `json:"customer"`
	} `json:"list"`
	NextOffset *string `json:"next_offset"`
}

func get(t *testing.T, s *Server, user string, q url.Values) (int, http.Header, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+ListPath+"?"+q.Encode(), nil)
	if user != "" {
		req.SetBasicAuth(user, "")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

func list(t *testing.T, s *Server, q url.Values) page {
	t.Helper()
	st, _, b := get(t, s, key, q)
	if st != 200 {
		t.Fatalf("status %d: %s", st, b)
	}
	var p page
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	return p
}

func ids(p page) []string {
	var out []string
	for _, e := range p.List {
		out = append(out, e.Subscription["id"].(string))
	}
	return out
}

func sub(id string) Subscription {
	return Subscription{ID: id, CustomerID: "cus_" + id, Status: "active", MRR: Int64(100),
		Items: []Item{{ItemPriceID: "basic-USD-Monthly", Quantity: 1, UnitPrice: Int64(100)}}}
}

func TestPagingNeverSkipsWhileChanging(t *testing.T) {
	s := NewServer(Options{APIKey: key})
	defer s.Close()
	for i := range 25 {
		s.Put(sub(fmt.Sprintf("s%02d", i)))
		s.Advance(time.Second)
	}
	q := url.Values{"limit": {"10"}, "sort_by[asc]": {"updated_at"}, "include_deleted": {"true"}, "updated_at[after]": {"0"}}
	seen := map[string]int{}
	p := list(t, s, q)
	for _, id := range ids(p) {
		seen[id]++
	}
	if len(p.List) != 10 || p.NextOffset == nil {
		t.Fatalf("first page: %d records, offset %v", len(p.List), p.NextOffset)
	}
	// Mid-listing: a served record changes, an unserved one is deleted.
	s.Put(sub("s03"))
	s.Delete("s20")
	for p.NextOffset != nil {
		q.Set("offset", *p.NextOffset)
		p = list(t, s, q)
		for _, id := range ids(p) {
			seen[id]++
		}
	}
	for i := range 25 {
		id := fmt.Sprintf("s%02d", i)
		want := 1
		if id == "s03" {
			want = 2 // served again after its change
		}
		if seen[id] != want {
			t.Errorf("%s served %d times, want %d", id, seen[id], want)
		}
	}
}

func TestRendering(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	sb := sub("a")
	sb.Status, sb.CancelledAt, sb.CancelReason = "cancelled", s.Now(), "not_paid"
	sb.Items = append(sb.Items, Item{ItemPriceID: "setup", ItemType: "charge", Quantity: 1, UnitPrice: Int64(500)})
	s.Put(sb)
	s.Put(Subscription{ID: "legacy", CustomerID: "c", Status: "in_trial", PlanID: "startup", PlanUnitPrice: 1200, PlanQuantity: 2})
	p := list(t, s, url.Values{"sort_by[asc]": {"created_at"}})
	if len(p.List) != 2 || p.NextOffset != nil {
		t.Fatalf("%+v", p)
	}
	a := p.List[0].Subscription
	if a["id"] != "a" || a["status"] != "cancelled" || a["cancel_reason"] != "not_paid" || a["currency_code"] != "USD" ||
		a["mrr"] != 100.0 || a["deleted"] != false || a["object"] != "subscription" || a["resource_version"] == nil {
		t.Errorf("%v", a)
	}
	items := a["subscription_items"].([]any)
	if it := items[1].(map[string]any); it["item_type"] != "charge" || it["billing_period_unit"] != nil {
		t.Errorf("charge %v", it)
	}
	if c := p.List[0].Customer; c["id"] != "cus_a" {
		t.Errorf("customer %v", c)
	}
	l := p.List[1].Subscription
	if l["plan_id"] != "startup" || l["plan_quantity"] != 2.0 || l["plan_unit_price"] != 1200.0 || l["mrr"] != nil {
		t.Errorf("legacy %v", l)
	}
}

func TestDeletedAndFilters(t *testing.T) {
	s := NewServer(Options{})
	defer s.Close()
	s.Put(sub("a"))
	s.Advance(10 * time.Second)
	s.Put(sub("b"))
	s.Delete("a")
	if got := ids(list(t, s, url.Values{})); len(got) != 1 || got[0] != "b" {
		t.Errorf("without include_deleted: %v", got)
	}
	p := list(t, s, url.Values{"include_deleted": {"true"}, "sort_by[asc]": {"updated_at"}})
	if got := ids(p); len(got) != 2 || got[0] != "b" || p.List[1].Subscription["deleted"] != true {
		t.Errorf("with include_deleted: %v", got)
	}
	after := s.Now().Add(-5 * time.Second).Unix()
	if got := ids(list(t, s, url.Values{"created_at[after]": {fmt.Sprint(after)}})); len(got) != 1 || got[0] != "b" {
		t.Errorf("created_at[after]: %v", got)
	}
	if got := ids(list(t, s, url.Values{"updated_at[after]": {fmt.Sprint(s.Now().Unix())}, "include_deleted": {"true"}})); len(got) != 0 {
		t.Errorf("updated_at[after]=now: %v", got)
	}
	if got := ids(list(t, s, url.Values{"sort_by[desc]": {"created_at"}, "include_deleted": {"true"}})); strings.Join(got, ",") != "b,a" {
		t.Errorf("desc: %v", got)
	}
}

func TestErrors(t *testing.T) {
	s := NewServer(Options{APIKey: key})
	defer s.Close()
	var e APIError
	st, _, b := get(t, s, "nope", nil)
	if json.Unmarshal(b, &e); st != 401 || e.APIErrorCode != "api_authentication_failed" || e.HTTPStatusCode != 401 || e.Message == "" {
		t.Errorf("bad key: %d %s", st, b)
	}
	if st, _, _ := get(t, s, "", nil); st != 401 {
		t.Errorf("no key: %d", st)
	}
	for _, q := range []url.Values{{"limit": {"101"}}, {"limit": {"0"}}, {"offset": {"garbage"}}, {"sort_by[asc]": {"id"}},
		{"updated_at[after]": {"yesterday"}}, {"include_deleted": {"yes"}}} {
		st, _, b := get(t, s, key, q)
		e = APIError{}
		if json.Unmarshal(b, &e); st != 400 || e.APIErrorCode != "param_wrong_value" || e.Type != "invalid_request" {
			t.Errorf("%v: %d %s", q, st, b)
		}
	}
	s.SetRetryAfter(7)
	s.InjectFault(Fault429, 1)
	st, h, b := get(t, s, key, nil)
	e = APIError{}
	if json.Unmarshal(b, &e); st != 429 || h.Get("Retry-After") != "7" || e.APIErrorCode != "api_request_limit_exceeded" || e.HTTPStatusCode != 429 {
		t.Errorf("429: %d %v %s", st, h, b)
	}
	s.SetRetryAfter(-1)
	s.InjectFault(Fault429, 1)
	if st, h, _ := get(t, s, key, nil); st != 429 || h.Get("Retry-After") != "" {
		t.Errorf("429 without Retry-After: %d %v", st, h)
	}
	s.InjectFault(Fault500, 1)
	if st, _, _ := get(t, s, key, nil); st != 500 {
		t.Errorf("500: %d", st)
	}
	s.Put(sub("x"))
	s.InjectFault(FaultTruncated, 1)
	st, _, b = get(t, s, key, nil)
	if st != 200 || json.Valid(b) {
		t.Errorf("truncated: %d %s", st, b)
	}
	if st, _, _ := get(t, s, key, nil); st != 200 {
		t.Errorf("after the faults: %d", st)
	}
	reqs := s.Requests()
	if len(reqs) != 13 || reqs[0].Status != 401 || reqs[len(reqs)-1].Status != 200 {
		t.Errorf("requests %+v", reqs)
	}
	for _, r := range reqs {
		if strings.Contains(r.Query, key) {
			t.Errorf("request log holds the key: %+v", r)
		}
	}
}
