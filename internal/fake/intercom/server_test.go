package intercom

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, s *Server, token, version, body string) (*http.Response, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.URL+SearchPath, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if version != "" {
		req.Header.Set("Intercom-Version", version)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp, m
}

func TestErrors(t *testing.T) {
	s := NewServer(Options{Token: "tok", RateLimit: 2})
	defer s.Close()
	q := `{"query":{"field":"updated_at","operator":">","value":0}}`
	for _, tc := range []struct {
		name, token, version, body string
		status                     int
		code                       string
	}{
		{"bad token", "nope", "", q, 401, "unauthorized"},
		{"bad version", "tok", "9.9", q, 400, "intercom_version_invalid"},
		{"per_page over 150", "tok", "", `{"query":{"field":"updated_at","operator":">","value":0},"pagination":{"per_page":151}}`, 400, "parameter_invalid"},
		{"bad sort order", "tok", "2.11", `{"query":{"field":"updated_at","operator":">","value":0},"sort":{"field":"updated_at","order":"desc"}}`, 400, "invalid_sort_order"},
		{"over the limit", "tok", "", q, 429, "rate_limit_exceeded"},
	} {
		resp, m := post(t, s, tc.token, tc.version, tc.body)
		errs, _ := m["errors"].([]any)
		if resp.StatusCode != tc.status || m["type"] != "error.list" || len(errs) != 1 || errs[0].(map[string]any)["code"] != tc.code {
			t.Errorf("%s: %d %v", tc.name, resp.StatusCode, m)
		}
		if tc.status == 429 && (resp.Header.Get("X-RateLimit-Reset") == "" || resp.Header.Get("Retry-After") == "" || resp.Header.Get("X-RateLimit-Remaining") != "0") {
			t.Errorf("429 headers: %v", resp.Header)
		}
	}
}

// TestPagingWithChanges changes a conversation between pages: it moves to
// the end and is served once more; nothing is skipped.
func TestPagingWithChanges(t *testing.T) {
	s := NewServer(Options{NoRateLimit: true})
	defer s.Close()
	base := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	for i := range 7 {
		s.Put(Conversation{State: "open", UpdatedAt: base.Add(time.Duration(i) * time.Second)})
	}
	seen := map[string]int{}
	after := ""
	for page := 0; ; page++ {
		body := `{"query":{"field":"updated_at","operator":">","value":0},"pagination":{"per_page":3` +
			map[bool]string{true: "", false: `,"starting_after":"` + after + `"`}[after == ""] + `},"sort":{"field":"updated_at","order":"ascending"}}`
		resp, m := post(t, s, "", "", body)
		if resp.StatusCode != 200 || m["type"] != "conversation.list" {
			t.Fatalf("%d %v", resp.StatusCode, m)
		}
		for _, c := range m["conversations"].([]any) {
			seen[c.(map[string]any)["id"].(string)]++
		}
		if page == 0 {
			c, _ := s.Get("1")
			c.UpdatedAt = time.Time{}
			s.Put(c)
		}
		next, ok := m["pages"].(map[string]any)["next"].(map[string]any)
		if !ok {
			break
		}
		after = next["starting_after"].(string)
	}
	if len(seen) != 7 || seen["1"] != 2 {
		t.Errorf("seen %v: want all 7, id 1 twice", seen)
	}
}

// TestSimTeamsNamed: every team the simulator assigns conversations to is
// named in the teams list, so the demo's group label shows names.
func TestSimTeamsNamed(t *testing.T) {
	s := NewServer(Options{Token: "t", NoRateLimit: true})
	defer s.Close()
	s.SeedHistory(SimOptions{Seed: 1})
	named := map[int64]bool{}
	for _, g := range s.Groups() {
		named[g.ID] = g.Name != ""
	}
	teams := 0
	for id, r := range s.convs {
		if r.c.TeamID == 0 {
			continue
		}
		teams++
		if !named[r.c.TeamID] {
			t.Fatalf("conversation %s is assigned to team %d, which the teams list does not name", id, r.c.TeamID)
		}
	}
	if teams == 0 {
		t.Fatal("the simulator assigned no conversation to a team")
	}
}
