package survey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/internal/state"
)

// surveyFixtureToken is a test fixture, not a secret.
const surveyFixtureToken = "survey-fixture-token-0123456789"

type surveyEnv struct {
	t      *testing.T
	dir    string
	labels string
	e      *receiverProc
	h      http.Handler
	logs   *bytes.Buffer
}

// newSurveyEnv builds an Exporter with only the survey source.
func newSurveyEnv(t *testing.T, dir, labels string) *surveyEnv {
	t.Helper()
	env := &surveyEnv{t: t, dir: dir, labels: labels, logs: &bytes.Buffer{}}
	env.open()
	return env
}

func (env *surveyEnv) open() {
	t := env.t
	t.Helper()
	ls, err := helpdesk.ParseLabelSet(env.labels)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store, err := state.Open(env.dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newSurveyReceiver(surveyFixtureToken, ls, store.Source(surveySource), logger, time.Now)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	for pattern, h := range r.Routes() {
		mux.Handle(pattern, h)
	}
	proc := &receiverProc{store: store, survey: r, rejected: map[string]float64{}}
	r.reject = func(_, reason string, _ error) {
		proc.mu.Lock()
		defer proc.mu.Unlock()
		proc.rejected[reason]++
	}
	env.e, env.h = proc, mux
	t.Cleanup(func() { _ = store.Close() })
}

// receiverProc is the part of the process the survey source lives in.
type receiverProc struct {
	store  *state.Store
	survey *surveyReceiver

	mu       sync.Mutex
	rejected map[string]float64 // what the process counts in cx_exporter_records_rejected_total
}

func (p *receiverProc) rejectedCount(reason string) float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rejected[reason]
}

func (p *receiverProc) Close() error { return p.store.Close() }

// reopen closes the store and opens it again, as a restart does.
func (env *surveyEnv) reopen() {
	env.t.Helper()
	if err := env.e.Close(); err != nil {
		env.t.Fatal(err)
	}
	env.open()
}

func (env *surveyEnv) post(body string, auth ...string) (int, string) {
	env.t.Helper()
	req := httptest.NewRequest(http.MethodPost, SurveyPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if len(auth) > 0 {
		if auth[0] != "" {
			req.Header.Set("Authorization", auth[0])
		}
	} else {
		req.Header.Set("Authorization", "Bearer "+surveyFixtureToken)
	}
	rec := httptest.NewRecorder()
	env.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func (env *surveyEnv) accept(body string, accepted, duplicates int) {
	env.t.Helper()
	code, got := env.post(body)
	want := fmt.Sprintf(`{"accepted":%d,"duplicates":%d}`, accepted, duplicates)
	if code != http.StatusOK || strings.TrimSpace(got) != want {
		env.t.Fatalf("POST %s:\n got %d %s\nwant 200 %s", body, code, got, want)
	}
}

func (env *surveyEnv) records() int {
	n := 0
	_ = env.e.store.Source(surveySource).View(func(tx *state.Tx) error {
		n = tx.Records().Len()
		return nil
	})
	return n
}

// expose renders the survey series for CollectAndCompare; rows are
// "labels|promoter,passive,detractor|good,neutral,bad" where labels is the
// ticket label part, e.g. `channel="email",priority="high"`.
func surveyExposition(rows ...string) string {
	var nps, csat strings.Builder
	for _, r := range rows {
		p := strings.Split(r, "|")
		n, c := strings.Split(p[1], ","), strings.Split(p[2], ",")
		labels := func(extra string) string {
			ls := append([]string{`source="survey"`, extra}, strings.Split(p[0], ",")...)
			sort.Strings(ls)
			return "{" + strings.Join(ls, ",") + "}"
		}
		for i, cat := range npsCategories {
			fmt.Fprintf(&nps, "helpdesk_nps_responses_total%s %s\n", labels(fmt.Sprintf("category=%q", cat)), n[i])
		}
		for i, r := range csatRatings {
			fmt.Fprintf(&csat, "helpdesk_satisfaction_ratings_total%s %s\n", labels(fmt.Sprintf("rating=%q", r)), c[i])
		}
	}
	return "# HELP helpdesk_nps_responses_total NPS survey answers by category (detractor 0-6, passive 7-8, promoter 9-10).\n" +
		"# TYPE helpdesk_nps_responses_total counter\n" + nps.String() +
		"# HELP helpdesk_satisfaction_ratings_total Satisfaction ratings received.\n" +
		"# TYPE helpdesk_satisfaction_ratings_total counter\n" + csat.String()
}

func (env *surveyEnv) expect(rows ...string) {
	env.t.Helper()
	if err := testutil.CollectAndCompare(env.e.survey, strings.NewReader(surveyExposition(rows...)),
		"helpdesk_nps_responses_total", "helpdesk_satisfaction_ratings_total"); err != nil {
		env.t.Error(err)
	}
}

const none2 = `channel="none",priority="none"`

func resp(id, typ string, score any, extra ...string) string {
	s := fmt.Sprintf(`{"id":%q,"type":%q,"score":%v,"created_at":"2026-11-27T08:00:00Z"`, id, typ, score)
	for i := 0; i+1 < len(extra); i += 2 {
		s += fmt.Sprintf(",%q:%q", extra[i], extra[i+1])
	}
	return s + "}"
}

func arr(items ...string) string { return "[" + strings.Join(items, ",") + "]" }

func TestSurveyAuth(t *testing.T) {
	env := newSurveyEnv(t, t.TempDir(), "priority,channel")
	body := resp("a1", "nps", 10)
	wrongSameLen := []byte(surveyFixtureToken)
	wrongSameLen[len(wrongSameLen)-1] ^= 1
	for _, auth := range []string{
		"",                                   // no header
		"Bearer",                             // no token
		"Bearer ",                            // empty token
		"Basic " + surveyFixtureToken,        // wrong scheme
		"Bearer " + string(wrongSameLen),     // same length, one bit off
		"Bearer " + surveyFixtureToken[:10],  // a prefix
		"Bearer " + surveyFixtureToken + "x", // longer
		"Bearer " + strings.ToUpper(surveyFixtureToken), // case matters
	} {
		code, got := env.post(body, auth)
		if code != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d %s, want 401", auth, code, got)
			continue
		}
		var e struct{ Error string }
		if err := json.Unmarshal([]byte(got), &e); err != nil || e.Error == "" {
			t.Errorf("Authorization %q: 401 body %q is not a JSON error", auth, got)
		}
	}
	if n := env.records(); n != 0 {
		t.Fatalf("%d records stored by unauthorized requests", n)
	}
	env.expect(none2 + "|0,0,0|0,0,0")
	// The scheme is case-insensitive (RFC 6750 / 9110).
	code, got := env.post(body, "bearer "+surveyFixtureToken)
	if code != http.StatusOK {
		t.Fatalf("right token: %d %s", code, got)
	}
	if strings.Contains(env.logs.String(), surveyFixtureToken) || strings.Contains(env.logs.String(), surveyFixtureToken[:10]) {
		t.Errorf("the token appears in the logs:\n%s", env.logs)
	}
	// Other methods: 405.
	rec := httptest.NewRecorder()
	env.h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, SurveyPath, nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d, want 405", rec.Code)
	}
}

// TestSurveyAuthorizedConstantTime checks the comparison path: both sides
// are hashed to a fixed length before subtle.ConstantTimeCompare, so a
// wrong token of any length takes the same path.
func TestSurveyAuthorizedConstantTime(t *testing.T) {
	env := newSurveyEnv(t, t.TempDir(), "priority,channel")
	s := env.e.survey
	for tok, want := range map[string]bool{
		surveyFixtureToken:               true,
		surveyFixtureToken[:1]:           false,
		surveyFixtureToken + "0":         false,
		strings.Repeat("x", 4096):        false,
		"":                               false,
		" " + surveyFixtureToken + "\t ": true, // surrounding blanks are not part of it
	} {
		r := httptest.NewRequest(http.MethodPost, SurveyPath, nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		if got := s.authorized(r); got != want {
			t.Errorf("authorized(%q) = %v, want %v", tok, got, want)
		}
	}
	var zero [32]byte
	if s.token == zero {
		t.Error("the token hash is not set")
	}
}

func TestSurveySingleAndArray(t *testing.T) {
	env := newSurveyEnv(t, t.TempDir(), "priority,channel")
	env.accept(resp("s1", "nps", 9), 1, 0)
	env.expect(none2 + "|1,0,0|0,0,0")
	env.accept(arr(
		resp("a1", "nps", 10, "channel", "email", "priority", "high"),
		resp("a2", "nps", 7, "channel", "email", "priority", "high"),
		resp("a3", "nps", 8, "channel", "email", "priority", "high"),
		resp("a4", "nps", 0),
		resp("a5", "nps", 6, "channel", "chat"),
		resp("a6", "csat", 5, "channel", "email", "priority", "high"),
		resp("a7", "csat", 4),
		resp("a8", "csat", 3),
		resp("a9", "csat", 2, "channel", "chat"),
		resp("a10", "csat", 1, "channel", "chat"),
		resp("a11", "csat", "5.0", "priority", ""), // empty means not given
	), 11, 0)
	env.expect(
		none2+"|1,0,1|2,1,0",
		`channel="email",priority="high"|1,2,0|1,0,0`,
		`channel="chat",priority="none"|0,0,1|0,0,2`,
	)
	env.accept("[]", 0, 0)
	if n := env.records(); n != 12 {
		t.Errorf("%d records stored, want 12", n)
	}
}

func TestSurveyDuplicates(t *testing.T) {
	dir := t.TempDir()
	env := newSurveyEnv(t, dir, "priority,channel")
	// Within one request: the second d1 is a duplicate, even with another score.
	env.accept(arr(resp("d1", "nps", 10), resp("d2", "csat", 1), resp("d1", "nps", 0)), 2, 1)
	// Across requests.
	env.accept(arr(resp("d1", "nps", 10), resp("d3", "nps", 5)), 1, 1)
	env.accept(resp("d2", "csat", 1), 0, 1)
	want := none2 + "|1,0,1|0,0,1"
	env.expect(want)
	// Across a restart: the counts come back from the store, and the ids
	// are still known.
	env.reopen()
	env.expect(want)
	env.accept(arr(resp("d1", "nps", 10), resp("d2", "csat", 1), resp("d3", "nps", 5)), 0, 3)
	env.accept(resp("d4", "csat", 4), 1, 0)
	env.expect(none2 + "|1,0,1|1,0,1")
	if n := env.records(); n != 4 {
		t.Errorf("%d records, want 4", n)
	}
}

func TestSurveyValidation(t *testing.T) {
	env := newSurveyEnv(t, t.TempDir(), "priority,channel")
	good := resp("ok", "nps", 9)
	for _, c := range []struct{ body, want string }{
		{arr(good, good, good, resp("x", "nps", 11)), "responses[3].score: 11 is out of range 0-10"},
		{arr(good, resp("x", "nps", -1)), "responses[1].score: -1 is out of range 0-10"},
		{arr(good, resp("x", "csat", 0)), "responses[1].score: 0 is out of range 1-5"},
		{arr(good, resp("x", "csat", 6)), "responses[1].score: 6 is out of range 1-5"},
		{arr(good, resp("x", "nps", 7.5)), "responses[1].score: 7.5 is not an integer"},
		{arr(good, resp("x", "nps", `"9"`)), `responses[1].score: "9" is not a number`},
		{arr(good, `{"type":"nps","score":9,"created_at":"2026-11-27T08:00:00Z"}`), "responses[1].id: missing"},
		{arr(good, resp("", "nps", 9)), "responses[1].id: empty"},
		{arr(good, resp(strings.Repeat("i", 257), "nps", 9)), "responses[1].id: longer than 256 bytes"},
		{arr(good, `{"id":7,"type":"nps","score":9,"created_at":"2026-11-27T08:00:00Z"}`), "responses[1].id: want a string, got number"},
		{arr(good, `{"id":"x","score":9,"created_at":"2026-11-27T08:00:00Z"}`), "responses[1].type: missing"},
		{arr(good, resp("x", "effort", 3)), `responses[1].type: "effort": want nps, csat or ces`},
		{arr(good, resp("x", "ces", 8)), `responses[1].score: 8 is out of range 1-7`},
		{arr(good, resp("x", "ces", 0)), `responses[1].score: 0 is out of range 1-7`},
		{arr(good, `{"id":"x","type":"nps","created_at":"2026-11-27T08:00:00Z"}`), "responses[1].score: missing"},
		{arr(good, `{"id":"x","type":"nps","score":null,"created_at":"2026-11-27T08:00:00Z"}`), "responses[1].score: missing"},
		{arr(good, `{"id":"x","type":"nps","score":9}`), "responses[1].created_at: missing"},
		{arr(good, `{"id":"x","type":"nps","score":9,"created_at":"27/11/2026"}`), `responses[1].created_at: "27/11/2026" is not an RFC 3339 time`},
		{arr(good, resp("x", "nps", 9, "channel", "fax")), `responses[1].channel: "fax": want one of email, web, chat, phone, api, social, other`},
		{arr(good, resp("x", "nps", 9, "priority", "p1")), `responses[1].priority: "p1": want one of urgent, high, normal, low, none`},
		{arr(good, resp("x", "nps", 9, "group", "billing")), `responses[1]: unknown field "group"`},
		{resp("x", "nps", 9, "comment", "great"), `responses[0]: unknown field "comment"`},
		{resp("x", "nps", 12), "responses[0].score: 12 is out of range 0-10"},
		{arr(good, "1"), "responses[1]: want an object, got number"},
		{"", "body: empty; want a response object or an array of them"},
		{`"nps"`, "body: want a response object or an array of them"},
		{`[{"id":"x"`, "body: invalid JSON: unexpected end"},
		{good + good, "body: trailing data after the JSON value"},
	} {
		code, got := env.post(c.body)
		want := fmt.Sprintf(`{"error":%q}`, c.want)
		if code != http.StatusBadRequest || strings.TrimSpace(got) != want {
			t.Errorf("POST %.80s:\n got %d %s\nwant 400 %s", c.body, code, strings.TrimSpace(got), want)
		}
	}
	// Each bad request is counted as rejected, by reason.
	for reason, want := range map[string]float64{"missing_field": 6, "unknown_value": 10, "malformed_record": 12} {
		if got := env.e.rejectedCount(reason); got != want {
			t.Errorf("cx_exporter_records_rejected_total{source=survey, reason=%s} = %v, want %v", reason, got, want)
		}
	}
	// Nothing of a bad request is counted or stored, not even its valid
	// responses.
	if n := env.records(); n != 0 {
		t.Errorf("%d records stored by bad requests", n)
	}
	env.expect(none2 + "|0,0,0|0,0,0")
	// The valid response is still new afterwards.
	env.accept(good, 1, 0)
}

func TestSurveyTooLarge(t *testing.T) {
	env := newSurveyEnv(t, t.TempDir(), "priority,channel")
	items := make([]string, 0, 20000)
	for i := range 20000 {
		items = append(items, resp(fmt.Sprintf("big-%06d", i), "nps", 9))
	}
	body := arr(items...)
	if len(body) <= 1<<20 {
		t.Fatalf("fixture body of %d bytes is not over 1 MiB", len(body))
	}
	code, got := env.post(body)
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(got, `"error"`) {
		t.Errorf("%d bytes: %d %s, want 413 with a JSON error", len(body), code, got)
	}
	if n := env.records(); n != 0 {
		t.Errorf("%d records stored from a too large body", n)
	}
	// Just under the limit is fine: as many responses as a request may
	// carry, padded with white space to just under 1 MiB.
	under := arr(items[:surveyMaxAnswers]...)
	under = strings.Repeat(" ", 1<<20-len(under)) + under
	env.accept(under, surveyMaxAnswers, 0)
}

func TestSurveyLabels(t *testing.T) {
	batch := arr(
		resp("l1", "nps", 10, "channel", "web", "priority", "urgent"),
		resp("l2", "csat", 2, "channel", "web"),
		resp("l3", "nps", 3, "priority", "urgent"),
	)
	// Order of CX_TICKET_LABELS; group, ticket_type and brand are none.
	t.Run("all labels", func(t *testing.T) {
		env := newSurveyEnv(t, t.TempDir(), "brand,channel,group,priority,ticket_type")
		env.accept(batch, 3, 0)
		l := func(ch, pr string) string {
			return fmt.Sprintf(`brand="none",channel=%q,group="none",priority=%q,ticket_type="none"`, ch, pr)
		}
		env.expect(
			l("none", "none")+"|0,0,0|0,0,0",
			l("web", "urgent")+"|1,0,0|0,0,0",
			l("web", "none")+"|0,0,0|0,0,1",
			l("none", "urgent")+"|0,0,1|0,0,0",
		)
		m := prometheus.NewPedanticRegistry()
		if err := m.Register(env.e.survey); err != nil {
			t.Fatal(err)
		}
		if _, err := m.Gather(); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("channel only, then priority only on the same store", func(t *testing.T) {
		dir := t.TempDir()
		env := newSurveyEnv(t, dir, "channel")
		env.accept(batch, 3, 0)
		env.expect(
			`channel="none"|0,0,1|0,0,0`,
			`channel="web"|1,0,0|0,0,1`,
		)
		// A change of CX_TICKET_LABELS keeps the history exact.
		env.labels = "priority"
		env.reopen()
		env.expect(
			`priority="none"|0,0,0|0,0,1`,
			`priority="urgent"|1,0,1|0,0,0`,
		)
	})
	t.Run("no ticket labels", func(t *testing.T) {
		env := newSurveyEnv(t, t.TempDir(), "")
		env.accept(batch, 3, 0)
		want := "# HELP helpdesk_nps_responses_total NPS survey answers by category (detractor 0-6, passive 7-8, promoter 9-10).\n" +
			"# TYPE helpdesk_nps_responses_total counter\n" +
			"helpdesk_nps_responses_total{category=\"promoter\",source=\"survey\"} 1\n" +
			"helpdesk_nps_responses_total{category=\"passive\",source=\"survey\"} 0\n" +
			"helpdesk_nps_responses_total{category=\"detractor\",source=\"survey\"} 1\n"
		if err := testutil.CollectAndCompare(env.e.survey, strings.NewReader(want), "helpdesk_nps_responses_total"); err != nil {
			t.Error(err)
		}
	})
}

// TestSurveyLint lints the exposition, and checks that the survey and a
// helpdesk collector can share one registry: same family, same help, same
// label names.
func TestSurveyLint(t *testing.T) {
	env := newSurveyEnv(t, t.TempDir(), "priority,channel")
	env.accept(arr(resp("x1", "nps", 9, "channel", "email"), resp("x2", "csat", 5)), 2, 0)
	problems, err := testutil.CollectAndLint(env.e.survey)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}

	ls, _ := helpdesk.ParseLabelSet("priority,channel")
	watermark := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	tr := helpdesk.NewTracker(helpdesk.Config{Labels: ls, MaxLabelValues: 50, Watermark: watermark})
	created := watermark.Add(time.Hour)
	tk := helpdesk.Ticket{
		ID: "1", Status: helpdesk.StatusSolved, Priority: helpdesk.PriorityNormal, Channel: "email", Type: "question",
		CreatedAt: created, UpdatedAt: created.Add(3 * time.Hour), FirstReplyAt: created.Add(30 * time.Minute), Replied: true,
		SolvedAt: created.Add(2 * time.Hour), AgentReplies: 1, Satisfaction: helpdesk.RatingGood, SatisfactionAt: created.Add(3 * time.Hour),
	}
	b := tr.Begin()
	if _, err := b.Apply(memRecs{}, &tk); err != nil {
		t.Fatal(err)
	}
	tr.Publish(b)
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(tr.Collector("zendesk", func() time.Time { return created.Add(4 * time.Hour) })); err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(env.e.survey); err != nil {
		t.Fatalf("the survey collector conflicts with the helpdesk collector: %v", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	bySource := map[string]int{}
	for _, mf := range mfs {
		if mf.GetName() != "helpdesk_satisfaction_ratings_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "source" {
					bySource[l.GetValue()]++
				}
			}
		}
	}
	if bySource["zendesk"] != 3 || bySource["survey"] != 6 {
		t.Errorf("helpdesk_satisfaction_ratings_total series by source = %v, want zendesk 3, survey 6", bySource)
	}
}

type memRecs map[string][]byte

func (m memRecs) Get(id string) []byte { return m[id] }

func (m memRecs) Put(id string, v []byte) error {
	m[id] = v
	return nil
}

// TestSurveyCES: CES answers 1-7 feed helpdesk_customer_effort_score, one
// bucket per score, and survive a restart.
func TestSurveyCES(t *testing.T) {
	env := newSurveyEnv(t, t.TempDir(), "priority,channel")
	env.accept(arr(resp("c1", "ces", 1), resp("c2", "ces", 2), resp("c3", "ces", 2), resp("c4", "ces", 7, "channel", "chat"),
		resp("c5", "csat", 5)), 5, 0)
	want := `
# HELP helpdesk_customer_effort_score Customer effort score survey answers, 1 (very easy) to 7 (very difficult).
# TYPE helpdesk_customer_effort_score histogram
helpdesk_customer_effort_score_bucket{channel="chat",priority="none",source="survey",le="1"} 0
helpdesk_customer_effort_score_bucket{channel="chat",priority="none",source="survey",le="2"} 0
helpdesk_customer_effort_score_bucket{channel="chat",priority="none",source="survey",le="3"} 0
helpdesk_customer_effort_score_bucket{channel="chat",priority="none",source="survey",le="4"} 0
helpdesk_customer_effort_score_bucket{channel="chat",priority="none",source="survey",le="5"} 0
helpdesk_customer_effort_score_bucket{channel="chat",priority="none",source="survey",le="6"} 0
helpdesk_customer_effort_score_bucket{channel="chat",priority="none",source="survey",le="7"} 1
helpdesk_customer_effort_score_bucket{channel="chat",priority="none",source="survey",le="+Inf"} 1
helpdesk_customer_effort_score_sum{channel="chat",priority="none",source="survey"} 7
helpdesk_customer_effort_score_count{channel="chat",priority="none",source="survey"} 1
helpdesk_customer_effort_score_bucket{channel="none",priority="none",source="survey",le="1"} 1
helpdesk_customer_effort_score_bucket{channel="none",priority="none",source="survey",le="2"} 3
helpdesk_customer_effort_score_bucket{channel="none",priority="none",source="survey",le="3"} 3
helpdesk_customer_effort_score_bucket{channel="none",priority="none",source="survey",le="4"} 3
helpdesk_customer_effort_score_bucket{channel="none",priority="none",source="survey",le="5"} 3
helpdesk_customer_effort_score_bucket{channel="none",priority="none",source="survey",le="6"} 3
helpdesk_customer_effort_score_bucket{channel="none",priority="none",source="survey",le="7"} 3
helpdesk_customer_effort_score_bucket{channel="none",priority="none",source="survey",le="+Inf"} 3
helpdesk_customer_effort_score_sum{channel="none",priority="none",source="survey"} 5
helpdesk_customer_effort_score_count{channel="none",priority="none",source="survey"} 3
`
	for range 2 {
		if err := testutil.CollectAndCompare(env.e.survey, strings.NewReader(want), "helpdesk_customer_effort_score"); err != nil {
			t.Error(err)
		}
		env.reopen()
	}
	env.expect(none2+"|0,0,0|1,0,0", `channel="chat",priority="none"|0,0,0|0,0,0`)
}
