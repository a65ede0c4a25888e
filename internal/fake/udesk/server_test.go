package udesk

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

const (
	testEmail = "admin@fake.example"
	testToken = "fake-fixture-token-r8w1"
)

type answer struct {
	status  int
	code    int
	message string
	tickets []map[string]any
	meta    map[string]int
	header  http.Header
}

func get(t *testing.T, s *Server, q url.Values) answer {
	t.Helper()
	resp, err := http.Get(s.URL + ListPath + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		Code    int              `json:"code"`
		Message string           `json:"message"`
		Tickets []map[string]any `json:"tickets"`
		Meta    map[string]int   `json:"meta"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, body.Code, body.Message, body.Tickets, body.Meta, resp.Header}
}

func signed(email, token, nonce string, extra url.Values) url.Values {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	q := url.Values{"email": {email}, "timestamp": {ts}, "nonce": {nonce}, "sign_version": {"v2"}, "sign": {Sign(email, token, ts, nonce)}}
	for k, v := range extra {
		q[k] = v
	}
	return q
}

func TestSignatureAndNonce(t *testing.T) {
	s := NewServer(Options{Email: testEmail, Token: testToken, NoRateLimit: true})
	defer s.Close()
	if a := get(t, s, signed(testEmail, testToken, "n-1", nil)); a.status != 200 || a.code != CodeOK {
		t.Fatalf("a good signature: %+v", a)
	}
	if a := get(t, s, signed(testEmail, testToken, "n-1", nil)); a.status != 401 || a.code != CodeNonceReused {
		t.Errorf("a reused nonce: %+v", a)
	}
	if a := get(t, s, signed(testEmail, "wrong-token", "n-2", nil)); a.status != 401 || a.code != CodeBadSignature {
		t.Errorf("a wrong token: %+v", a)
	}
	q := signed(testEmail, testToken, "n-3", nil)
	q.Set("sign_version", "v1")
	if a := get(t, s, q); a.code != CodeBadSignature {
		t.Errorf("sign_version v1: %+v", a)
	}
	q = signed(testEmail, testToken, "n-4", nil)
	old := strconv.FormatInt(time.Now().Add(-16*time.Minute).Unix(), 10)
	q.Set("timestamp", old)
	q.Set("sign", Sign(testEmail, testToken, old, "n-4"))
	if a := get(t, s, q); a.code != CodeBadTimestamp {
		t.Errorf("a timestamp 16 minutes old: %+v", a)
	}
	if a := get(t, s, url.Values{}); a.status != 401 {
		t.Errorf("unsigned: %+v", a)
	}
}

func TestPagingAndSince(t *testing.T) {
	s := NewServer(Options{NoRateLimit: true})
	defer s.Close()
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	for i := range 7 {
		s.Put(Ticket{ID: int64(i + 1), StatusID: 1, PriorityID: 3, Platform: "email", CreatedAt: base, UpdatedAt: base.Add(time.Duration(i) * time.Minute)})
	}
	a := get(t, s, url.Values{"per_page": {"3"}, "page": {"3"}})
	if a.meta["current_page"] != 3 || a.meta["total_pages"] != 3 || a.meta["total_count"] != 7 || len(a.tickets) != 1 {
		t.Fatalf("page 3 of 3: %+v", a)
	}
	if id := a.tickets[0]["id"].(float64); id != 7 {
		t.Errorf("last page holds %v, want the latest change (7)", id)
	}
	a = get(t, s, url.Values{"updated_since": {base.Add(5 * time.Minute).Format(time.RFC3339)}})
	if a.meta["total_count"] != 2 {
		t.Errorf("updated_since: %+v", a.meta)
	}
	if a := get(t, s, url.Values{"per_page": {"101"}}); a.status != 400 {
		t.Errorf("per_page 101: %+v", a)
	}
}

func TestRateLimitAndFaults(t *testing.T) {
	s := NewServer(Options{RateLimit: 2})
	defer s.Close()
	for i := range 2 {
		if a := get(t, s, nil); a.status != 200 {
			t.Fatalf("request %d: %+v", i, a)
		}
	}
	a := get(t, s, nil)
	if a.status != 429 || a.code != CodeRateLimited || a.message == "" {
		t.Errorf("over the limit: %+v", a)
	}
	if a.header.Get("Retry-After") != "" {
		t.Errorf("Udesk sends no Retry-After; the fake did: %q", a.header.Get("Retry-After"))
	}
	s2 := NewServer(Options{NoRateLimit: true})
	defer s2.Close()
	s2.Put(Ticket{ID: 1, StatusID: 1, CreatedAt: time.Now().UTC()})
	s2.InjectFault(Fault500, 1)
	if a := get(t, s2, nil); a.status != 500 || a.code != CodeServerError {
		t.Errorf("fault 500: %+v", a)
	}
	s2.InjectFault(FaultUnknownStatus, 1)
	if a := get(t, s2, nil); a.tickets[0]["status_id"].(float64) != 99 {
		t.Errorf("unknown status: %+v", a.tickets)
	}
	if a := get(t, s2, nil); a.status != 200 || a.tickets[0]["status_id"].(float64) != 1 {
		t.Errorf("after the faults: %+v", a)
	}
}
