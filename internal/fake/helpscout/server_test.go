package helpscout

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func token(t *testing.T, s *Server, secret string) (int, string) {
	t.Helper()
	resp, err := http.PostForm(s.URL+"/v2/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "client_secret": {secret}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&v)
	if resp.StatusCode != 200 {
		return resp.StatusCode, v.Error
	}
	return resp.StatusCode, v.AccessToken
}

func get(t *testing.T, s *Server, tok, path string, v any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		_ = json.NewDecoder(resp.Body).Decode(v)
	}
	return resp.StatusCode
}

func TestTokensAndListing(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	s := NewServer(Options{AppID: "app", AppSecret: "secret", PageSize: 2, TokenTTL: time.Minute, Now: clock, NoRateLimit: true})
	defer s.Close()
	if code, e := token(t, s, "wrong"); code != 401 || e != "invalid_client" {
		t.Fatalf("bad credentials: %d %s", code, e)
	}
	code, tok := token(t, s, "secret")
	if code != 200 {
		t.Fatalf("token: %d", code)
	}
	for i := int64(1); i <= 5; i++ {
		s.Put(Conversation{ID: i, Status: "active", CreatedAt: now.Add(-time.Hour), ModifiedAt: now.Add(time.Duration(i-5) * time.Minute)})
	}
	var page struct {
		Embedded struct {
			Conversations []struct {
				ID int64 `json:"id"`
			} `json:"conversations"`
		} `json:"_embedded"`
		Page struct {
			TotalPages, Number, TotalElements int
		} `json:"page"`
		Links map[string]any `json:"_links"`
	}
	since := url.QueryEscape(now.Add(-2 * time.Minute).Format(time.RFC3339))
	if code := get(t, s, tok, "/v2/conversations?status=all&sortField=modifiedAt&sortOrder=asc&modifiedSince="+since+"&page=1", &page); code != 200 {
		t.Fatalf("list: %d", code)
	}
	if page.Page.TotalElements != 3 || page.Page.TotalPages != 2 || len(page.Embedded.Conversations) != 2 || page.Embedded.Conversations[0].ID != 3 || page.Links["next"] == nil {
		t.Errorf("page 1: %+v", page)
	}
	now = now.Add(2 * time.Minute)
	if code := get(t, s, tok, "/v2/conversations?page=1", nil); code != 401 {
		t.Errorf("expired token: %d, want 401", code)
	}
}

func TestSimulateMoves(t *testing.T) {
	s := NewServer(Options{AppID: "app", AppSecret: "secret", NoRateLimit: true})
	defer s.Close()
	s.SeedHistory(SimOptions{Seed: 1})
	seeded := s.Len()
	if seeded < 50 {
		t.Fatalf("seeded %d conversations", seeded)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	s.Simulate(ctx, SimOptions{Seed: 1, Tick: 10 * time.Millisecond})
	if s.Len() <= seeded {
		t.Errorf("no conversation created in %d ticks", 30)
	}
	rated := 0
	for _, r := range s.convs {
		if r.rating != "" && !strings.HasPrefix(r.rating, " ") {
			rated++
		}
	}
	if rated == 0 {
		t.Error("no ratings")
	}
	named := map[int64]bool{}
	for _, g := range s.Groups() {
		named[g.ID] = g.Name != ""
	}
	for id, r := range s.convs {
		if !named[r.c.MailboxID] {
			t.Fatalf("conversation %d is in mailbox %d, which the mailboxes list does not name", id, r.c.MailboxID)
		}
	}
}
