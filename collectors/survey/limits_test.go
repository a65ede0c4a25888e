package survey

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/internal/state"
)

func short(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

// TestSurveyStrictJSON (issue 10, item 11): duplicate keys, invalid UTF-8
// and ids that would collapse into one are refused with 400.
func TestSurveyStrictJSON(t *testing.T) {
	env := newSurveyEnv(t, t.TempDir(), "priority,channel")
	for name, body := range map[string]string{
		"duplicate key":            `{"id":"d1","type":"nps","score":0,"score":10,"created_at":"2026-11-27T08:00:00Z"}`,
		"duplicate key in array":   `[{"id":"d2","type":"nps","score":9,"created_at":"2026-11-27T08:00:00Z"},{"id":"d3","id":"d4","type":"nps","score":9,"created_at":"2026-11-27T08:00:00Z"}]`,
		"invalid UTF-8 id":         "{\"id\":\"a\xff\",\"type\":\"nps\",\"score\":9,\"created_at\":\"2026-11-27T08:00:00Z\"}",
		"invalid UTF-8 elsewhere":  "{\"id\":\"u1\",\"type\":\"nps\",\"score\":9,\"created_at\":\"2026-11-27T08:00:00Z\",\"channel\":\"w\xfe\"}",
		"lone surrogate id escape": `{"id":"x\ud800","type":"nps","score":9,"created_at":"2026-11-27T08:00:00Z"}`,
	} {
		code, got := env.post(body)
		if code != http.StatusBadRequest || !strings.Contains(got, `"error"`) {
			t.Errorf("%s: %d %s, want 400", name, code, got)
		}
	}
	if n := env.records(); n != 0 {
		t.Errorf("%d records stored from refused bodies", n)
	}
	// Two ids that differ only in their invalid bytes are not one answer
	// twice: both are refused, not the second counted as a duplicate.
	env.accept(`{"id":"dup-ok","type":"nps","score":9,"created_at":"2026-11-27T08:00:00Z","channel":"web"}`, 1, 0)
	// Nested values keep their own key sets.
	if _, err := parseSurveyBody([]byte(`[{"id":"n1","type":"nps","score":9,"created_at":"2026-11-27T08:00:00Z"},{"id":"n2","type":"nps","score":9,"created_at":"2026-11-27T08:00:00Z"}]`)); err != nil {
		t.Errorf("the same keys in two objects: %v", err)
	}
}

// TestSurveyTooManyAnswers (item 2): one request carries at most
// surveyMaxAnswers responses.
func TestSurveyTooManyAnswers(t *testing.T) {
	env := newSurveyEnv(t, t.TempDir(), "priority,channel")
	items := make([]string, surveyMaxAnswers+1)
	for i := range items {
		items[i] = resp(fmt.Sprintf("m-%d", i), "nps", 9)
	}
	code, got := env.post(arr(items...))
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(got, "at most 1000") {
		t.Errorf("%d responses: %d %s, want 413", len(items), code, short(got))
	}
	if n := env.records(); n != 0 {
		t.Errorf("%d records stored", n)
	}
	env.accept(arr(items[:surveyMaxAnswers]...), surveyMaxAnswers, 0)
}

// TestSurveyInFlightLimit (item 2): at most surveyMaxInFlight bodies are
// handled at once; a further request gets 503 with Retry-After at once.
func TestSurveyInFlightLimit(t *testing.T) {
	env := newSurveyEnv(t, t.TempDir(), "priority,channel")
	var wg sync.WaitGroup
	writers := make([]*io.PipeWriter, surveyMaxInFlight)
	codes := make([]int, surveyMaxInFlight)
	for i := range writers {
		pr, pw := io.Pipe()
		writers[i] = pw
		req := httptest.NewRequest(http.MethodPost, SurveyPath, pr)
		req.Header.Set("Authorization", "Bearer "+surveyFixtureToken)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := httptest.NewRecorder()
			env.h.ServeHTTP(rec, req)
			codes[i] = rec.Code
		}()
		if _, err := pw.Write([]byte(`[` + resp(fmt.Sprintf("slow-%d", i), "nps", 9))); err != nil {
			t.Fatal(err)
		}
	}
	code, got := env.post(resp("fast", "nps", 9))
	if code != http.StatusServiceUnavailable {
		t.Errorf("with %d bodies in flight: %d %s, want 503", surveyMaxInFlight, code, got)
	}
	for _, pw := range writers {
		_, _ = pw.Write([]byte(`]`))
		pw.Close()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("slow request %d: %d", i, c)
		}
	}
	env.accept(resp("fast", "nps", 9), 1, 0)
}

// TestSurveyRetention (item 2): ids are remembered for surveyRetention,
// then pruned by Sync; beyond surveyMaxIDs requests get 503 until a sync
// prunes the oldest down to surveyPruneTo. Counts never go back.
func TestSurveyRetention(t *testing.T) {
	defer func(m, p int) { surveyMaxIDs, surveyPruneTo = m, p }(surveyMaxIDs, surveyPruneTo)
	surveyMaxIDs, surveyPruneTo = 10, 6
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ls, _ := helpdesk.ParseLabelSet("priority,channel")
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	s, err := newSurveyReceiver(surveyFixtureToken, ls, store.Source(surveySource), slog.New(slog.DiscardHandler), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	post := func(body string) (int, string) {
		req := httptest.NewRequest(http.MethodPost, SurveyPath, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+surveyFixtureToken)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec.Code, strings.TrimSpace(rec.Body.String())
	}
	ids := func() int {
		n := 0
		_ = store.Source(surveySource).View(func(tx *state.Tx) error { n = tx.Records().Len(); return nil })
		return n
	}
	if code, got := post(arr(resp("old-1", "nps", 9), resp("old-2", "nps", 9))); code != 200 {
		t.Fatal(code, got)
	}
	now = now.Add(29 * 24 * time.Hour)
	if err := s.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if code, got := post(resp("old-1", "nps", 9)); got != `{"accepted":0,"duplicates":1}` {
		t.Errorf("a duplicate within the window: %d %s", code, got)
	}
	now = now.Add(2 * 24 * time.Hour)
	if err := s.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := ids(); n != 0 {
		t.Errorf("%d ids kept past the retention", n)
	}
	// The cap: 10 ids, then 503 until the next sync prunes to 6.
	for i := range 5 {
		now = now.Add(time.Minute)
		if code, got := post(arr(resp(fmt.Sprintf("n-%d-a", i), "nps", 9), resp(fmt.Sprintf("n-%d-b", i), "nps", 9))); code != 200 {
			t.Fatalf("post %d: %d %s", i, code, got)
		}
	}
	code, got := post(resp("over", "nps", 9))
	if code != http.StatusServiceUnavailable {
		t.Errorf("over the id cap: %d %s, want 503", code, got)
	}
	if err := s.Sync(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := ids(); n != 6 {
		t.Errorf("%d ids after pruning, want 6", n)
	}
	if code, got := post(resp("over", "nps", 9)); code != 200 {
		t.Errorf("after pruning: %d %s", code, got)
	}
	// The oldest went: n-0-a is new again, n-4-b still a duplicate.
	if _, got := post(arr(resp("n-0-a", "nps", 9), resp("n-4-b", "nps", 9))); got != `{"accepted":1,"duplicates":1}` {
		t.Errorf("after pruning the oldest: %s", got)
	}
	// Counts are kept: 2 + 10 + 1 + 1 promoters.
	s.mu.RLock()
	var promoters uint64
	for _, c := range s.agg.Series {
		promoters += c.NPS[0]
	}
	s.mu.RUnlock()
	if promoters != 14 {
		t.Errorf("promoters = %d, want 14", promoters)
	}
}
