package main_test

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

// surveyE2EToken is a test fixture, not a secret.
const surveyE2EToken = "survey-e2e-fixture-token"

// surveyBatch is posted by TestSurveyE2E; surveyWant are its hand-computed
// counts with the default CX_TICKET_LABELS (priority,channel).
const surveyBatch = `[
 {"id":"e1","type":"nps","score":10,"created_at":"2026-11-27T08:00:00Z","channel":"email","priority":"high"},
 {"id":"e2","type":"nps","score":9,"created_at":"2026-11-27T08:00:01Z","channel":"email","priority":"high"},
 {"id":"e3","type":"nps","score":7,"created_at":"2026-11-27T08:00:02Z"},
 {"id":"e4","type":"nps","score":3,"created_at":"2026-11-27T08:00:03Z","channel":"chat"},
 {"id":"e5","type":"csat","score":5,"created_at":"2026-11-27T08:00:04Z","channel":"email","priority":"high"},
 {"id":"e6","type":"csat","score":3,"created_at":"2026-11-27T08:00:05+02:00"},
 {"id":"e7","type":"csat","score":1,"created_at":"2026-11-27T08:00:06Z","channel":"chat"},
 {"id":"e3","type":"nps","score":0,"created_at":"2026-11-27T08:00:07Z"},
 {"id":"e8","type":"ces","score":2,"created_at":"2026-11-27T08:00:08Z","channel":"email","priority":"high"},
 {"id":"e9","type":"ces","score":6,"created_at":"2026-11-27T08:00:09Z"}
]`

func surveyWant() map[string]float64 {
	want := map[string]float64{}
	set := func(pr, ch string, nps [3]float64, csat [3]float64, ces int) {
		for i, c := range []string{"promoter", "passive", "detractor"} {
			want[e2e.Series("helpdesk_nps_responses_total", "source", "survey", "priority", pr, "channel", ch, "category", c)] = nps[i]
		}
		for i, r := range []string{"good", "neutral", "bad"} {
			want[e2e.Series("helpdesk_satisfaction_ratings_total", "source", "survey", "priority", pr, "channel", ch, "rating", r)] = csat[i]
		}
		// One CES answer of score ces (0: none): one bucket per score.
		n := 0.0
		if ces > 0 {
			n = 1
		}
		for _, le := range []string{"1", "2", "3", "4", "5", "6", "7"} {
			v := 0.0
			if ces > 0 && le >= strconv.Itoa(ces) {
				v = 1
			}
			want[e2e.Series("helpdesk_customer_effort_score_bucket", "source", "survey", "priority", pr, "channel", ch, "le", le)] = v
		}
		want[e2e.Series("helpdesk_customer_effort_score_bucket", "source", "survey", "priority", pr, "channel", ch, "le", "+Inf")] = n
		want[e2e.Series("helpdesk_customer_effort_score_count", "source", "survey", "priority", pr, "channel", ch)] = n
		want[e2e.Series("helpdesk_customer_effort_score_sum", "source", "survey", "priority", pr, "channel", ch)] = float64(ces)
	}
	set("high", "email", [3]float64{2, 0, 0}, [3]float64{1, 0, 0}, 2)
	set("none", "none", [3]float64{0, 1, 0}, [3]float64{0, 1, 0}, 6)
	set("none", "chat", [3]float64{0, 0, 1}, [3]float64{0, 0, 1}, 0)
	withSelf(want, 0)
	return want
}

// withSelf adds the survey source's own series: it is up, and counts the
// requests it refused (unknown values: rejected; the others at 0).
func withSelf(want map[string]float64, rejected float64) {
	want[e2e.Series("cx_exporter_source_up", "source", "survey", "kind", "survey")] = 1
	for _, r := range []string{"missing_field", "unknown_value", "negative_duration", "negative_value", "inconsistent_time", "malformed_record", "malformed_page"} {
		want[e2e.Series("cx_exporter_records_rejected_total", "source", "survey", "reason", r)] = 0
	}
	want[e2e.Series("cx_exporter_records_rejected_total", "source", "survey", "reason", "unknown_value")] = rejected
}

func postSurvey(t *testing.T, exp *e2e.Exporter, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+exp.Addr+"/api/v1/survey-responses", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	return r.StatusCode, strings.TrimSpace(string(b))
}

// expectSurvey asserts every source="survey" series: exactly want, and the
// survey source up (its sync timestamps are not compared).
func expectSurvey(t *testing.T, exp *e2e.Exporter, want map[string]float64) {
	t.Helper()
	want = maps.Clone(want)
	want[`cx_exporter_source_up{kind="survey",source="survey"}`] = 1
	text, err := exp.Scrape()
	if err != nil {
		t.Fatal(err)
	}
	got, err := e2e.Samples(text)
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
	for k, g := range got {
		if _, ok := want[k]; !ok && strings.Contains(k, `source="survey"`) && !strings.HasPrefix(k, "cx_exporter_last_sync_") {
			t.Errorf("unexpected series %s = %v", k, g)
		}
	}
}

// TestSurveyE2E runs the real binary in demo mode with CX_SURVEY_TOKEN set
// (so the demo's simulated survey posts are off), posts a batch, restarts
// on the same state and re-posts it: the counts stay exact and the re-sent
// answers are duplicates.
func TestSurveyE2E(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The expected series carry the default ticket labels, not the demo's.
	env := []string{"CX_STATE_DIR=" + dir, "CX_SURVEY_TOKEN=" + surveyE2EToken, "CX_TICKET_LABELS=priority,channel"}
	exp := e2e.Start(t, env, "-demo")

	// Before any answer: the all-none combination only, at 0.
	zero := map[string]float64{}
	for k := range surveyWant() {
		if strings.Contains(k, `channel="none"`) && strings.Contains(k, `priority="none"`) {
			zero[k] = 0
		}
	}
	withSelf(zero, 0)
	expectSurvey(t, exp, zero)

	if code, body := postSurvey(t, exp, "wrong-token", surveyBatch); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d %s", code, body)
	}
	bad := strings.Replace(surveyBatch, `"score":1,`, `"score":11,`, 1)
	if code, body := postSurvey(t, exp, surveyE2EToken, bad); code != http.StatusBadRequest ||
		body != `{"error":"responses[6].score: 11 is out of range 1-5"}` {
		t.Fatalf("bad batch: %d %s", code, body)
	}
	withSelf(zero, 1)
	expectSurvey(t, exp, zero)

	code, body := postSurvey(t, exp, surveyE2EToken, surveyBatch)
	var res struct{ Accepted, Duplicates int }
	if code != http.StatusOK || json.Unmarshal([]byte(body), &res) != nil || res.Accepted != 9 || res.Duplicates != 1 {
		t.Fatalf("batch: %d %s, want 200 with 9 accepted and 1 duplicate", code, body)
	}
	afterBad := surveyWant()
	withSelf(afterBad, 1)
	expectSurvey(t, exp, afterBad)
	if strings.Contains(exp.Logs(), surveyE2EToken) {
		t.Error("the survey token appears in the logs")
	}

	// kill -9: the answers were committed before the 200.
	exp.Kill()
	exp = e2e.Start(t, env, "-demo")
	expectSurvey(t, exp, surveyWant())
	code, body = postSurvey(t, exp, surveyE2EToken, surveyBatch)
	if code != http.StatusOK || body != `{"accepted":0,"duplicates":10}` {
		t.Fatalf("re-sent batch after restart: %d %s, want 200 with 0 accepted and 10 duplicates", code, body)
	}
	expectSurvey(t, exp, surveyWant())
	if err := exp.Stop(); err != nil {
		t.Error(err)
	}
}

// TestSurveyE2EDemo checks that demo mode without CX_SURVEY_TOKEN simulates
// survey answers on its own.
func TestSurveyE2EDemo(t *testing.T) {
	t.Parallel()
	exp := e2e.Start(t, []string{"CX_STATE_DIR=" + t.TempDir()}, "-demo")
	for range 150 {
		text, err := exp.Scrape()
		if err != nil {
			t.Fatal(err)
		}
		m, err := e2e.Samples(text)
		if err != nil {
			t.Fatal(err)
		}
		var nps, csat float64
		for k, v := range m {
			if strings.HasPrefix(k, "helpdesk_nps_responses_total{") {
				nps += v
			}
			if strings.HasPrefix(k, "helpdesk_satisfaction_ratings_total{") && strings.Contains(k, `source="survey"`) {
				csat += v
			}
		}
		if nps > 0 && csat > 0 {
			if err := exp.Stop(); err != nil {
				t.Error(err)
			}
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("no simulated survey answer within 15s:\n%s", e2e.Tail(exp.Logs(), 2000))
}
