package survey

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/internal/state"
)

// The survey source: NPS, CSAT and CES answers pushed by survey tools to
// POST /api/v1/survey-responses (enabled by CX_SURVEY_TOKEN).
const (
	// SurveyPath is the endpoint survey tools push to.
	SurveyPath = "/api/v1/survey-responses"
	// surveySource is the source label and the state store source name.
	surveySource = "survey"
	// surveyMaxBody is the largest request body accepted (413 beyond).
	surveyMaxBody = 1 << 20
	// surveyMaxID is the longest response id accepted, in bytes.
	surveyMaxID = 256
	// surveyMaxAnswers is the most responses one request may carry (413
	// beyond): a 1 MiB body of small answers would otherwise be thousands
	// of records in one transaction.
	surveyMaxAnswers = 1000
	// surveyMaxInFlight is the most request bodies read and stored at
	// once; further requests get 503 with Retry-After, so that a flood
	// costs at most this many bodies of memory.
	surveyMaxInFlight = 4
	// surveyRetention is how long a response id is remembered to refuse
	// its duplicates: ids received longer ago are pruned at each sync.
	surveyRetention = 30 * 24 * time.Hour
	// surveyRetryAfter is the Retry-After of a 503, in seconds.
	surveyRetryAfter = "10"
)

// surveyMaxIDs bounds the ids remembered (and so the state file): requests
// that would exceed it get 503 until a sync prunes the oldest ids down to
// surveyPruneTo. Variables for tests.
var (
	surveyMaxIDs  = 100_000
	surveyPruneTo = 90_000
)

// errSurveyFull is commit's error when the id store is at surveyMaxIDs.
var errSurveyFull = errors.New("survey id store full")

// NPS categories and CSAT ratings, in exposition order.
var (
	npsCategories = [3]string{"promoter", "passive", "detractor"}
	csatRatings   = [3]string{"good", "neutral", "bad"}
)

// npsCategory maps an NPS score 0-10 to its index in npsCategories.
func npsCategory(score int) int {
	switch {
	case score >= 9:
		return 0
	case score >= 7:
		return 1
	default:
		return 2
	}
}

// csatRating maps a CSAT score 1-5 to its index in csatRatings.
func csatRating(score int) int {
	switch {
	case score >= 4:
		return 0
	case score == 3:
		return 1
	default:
		return 2
	}
}

// surveyCounts are the counters of one (priority, channel) pair. They are
// kept per canonical pair, whatever CX_TICKET_LABELS says, so that a change
// of the label set maps the history exactly (summed or split by the stored
// values) at render time.
type surveyCounts struct {
	Priority string    `json:"priority"`
	Channel  string    `json:"channel"`
	NPS      [3]uint64 `json:"nps"`  // by npsCategories
	CSAT     [3]uint64 `json:"csat"` // by csatRatings
	CES      [7]uint64 `json:"ces"`  // by score - 1
}

// cesBuckets are the upper bounds of helpdesk_customer_effort_score: one
// per score of the 1-7 scale.
var cesBuckets = []float64{1, 2, 3, 4, 5, 6, 7}

// surveyAggregates is the persisted aggregates blob of the survey source.
type surveyAggregates struct {
	Series map[string]*surveyCounts `json:"series"` // key: priority "/" channel
}

func (a *surveyAggregates) clone() *surveyAggregates {
	out := &surveyAggregates{Series: make(map[string]*surveyCounts, len(a.Series))}
	for k, v := range a.Series {
		c := *v
		out.Series[k] = &c
	}
	return out
}

func decodeSurveyAggregates(b []byte) (*surveyAggregates, error) {
	a := &surveyAggregates{}
	if b != nil {
		if err := json.Unmarshal(b, a); err != nil {
			return nil, fmt.Errorf("survey aggregates: %w", err)
		}
	}
	if a.Series == nil {
		a.Series = map[string]*surveyCounts{}
	}
	return a, nil
}

// Records: {"received": unix seconds} under idKey(id) for each response
// id seen. Older exporters stored a JSON object with a "received" field
// under the raw id; both are read for deduplication and pruning.

// surveyResponse is one validated response of a request.
type surveyResponse struct {
	id                string
	typ               string
	score             int
	createdAt         time.Time
	priority, channel string
}

// surveyWire is a response as sent. Every field is optional here so that
// validation can name what is missing.
type surveyWire struct {
	ID        *string         `json:"id"`
	Type      *string         `json:"type"`
	Score     json.RawMessage `json:"score"`
	CreatedAt *string         `json:"created_at"`
	Channel   *string         `json:"channel"`
	Priority  *string         `json:"priority"`
}

// surveyReceiver is the survey source: the HTTP handler, the persisted
// aggregates and the collector rendering them.
type surveyReceiver struct {
	token  [sha256.Size]byte // SHA-256 of the bearer token, never logged
	store  *state.Source
	logger *slog.Logger
	now    func() time.Time
	names  []string // ticket label names, in CX_TICKET_LABELS order
	// reject counts a request refused as invalid in
	// cx_exporter_records_rejected_total.
	reject func(id, reason string, err error)

	npsDesc, csatDesc, cesDesc *prometheus.Desc

	inFlight chan struct{} // a slot per request body being handled

	writeMu sync.Mutex // serialises commit + publish + prune
	ids     int        // response ids stored; under writeMu
	oldest  int64      // smallest Received of the stored ids, unix seconds; under writeMu
	mu      sync.RWMutex
	agg     *surveyAggregates
}

// newSurveyReceiver loads the survey source's aggregates from the store.
func newSurveyReceiver(token string, labels helpdesk.LabelSet, store *state.Source, logger *slog.Logger, now func() time.Time) (*surveyReceiver, error) {
	s := &surveyReceiver{
		token:  sha256.Sum256([]byte(token)),
		store:  store,
		logger: logger,
		now:    now,
		names:  labels.Names(),

		inFlight: make(chan struct{}, surveyMaxInFlight),
	}
	// Help texts and label order are those of collectors/helpdesk: both
	// collectors render the same families into one registry.
	src := prometheus.Labels{"source": surveySource}
	s.npsDesc = prometheus.NewDesc("helpdesk_nps_responses_total",
		"NPS survey answers by category (detractor 0-6, passive 7-8, promoter 9-10).",
		append(labels.Names(), "category"), src)
	s.csatDesc = prometheus.NewDesc("helpdesk_satisfaction_ratings_total",
		"Satisfaction ratings received.", append(labels.Names(), "rating"), src)
	s.cesDesc = prometheus.NewDesc("helpdesk_customer_effort_score",
		"Customer effort score survey answers, 1 (very easy) to 7 (very difficult).", labels.Names(), src)
	err := s.store.View(func(tx *state.Tx) error {
		var err error
		if s.agg, err = decodeSurveyAggregates(tx.Get(state.KeyAggregates)); err != nil {
			return err
		}
		return tx.Records().ForEach(func(_ string, v []byte) error {
			s.ids++
			if r := received(v); r > 0 && (s.oldest == 0 || r < s.oldest) {
				s.oldest = r
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Describe implements prometheus.Collector.
func (s *surveyReceiver) Describe(ch chan<- *prometheus.Desc) {
	ch <- s.npsDesc
	ch <- s.csatDesc
	ch <- s.cesDesc
}

// labelValues maps a canonical (priority, channel) pair to the values of
// the ticket labels in use; labels a survey response cannot carry (group,
// ticket_type, brand) are "none".
func (s *surveyReceiver) labelValues(priority, channel string) []string {
	out := make([]string, len(s.names))
	for i, n := range s.names {
		switch n {
		case "priority":
			out[i] = priority
		case "channel":
			out[i] = channel
		default:
			out[i] = "none"
		}
	}
	return out
}

// Collect implements prometheus.Collector. The combination of responses
// without channel and priority (every label "none") is always exposed, so
// that rate() sees the first answer; every other combination appears, with
// all its categories and ratings, once a response carries it.
func (s *surveyReceiver) Collect(ch chan<- prometheus.Metric) {
	type row struct {
		values []string
		nps    [3]uint64
		csat   [3]uint64
		ces    [7]uint64
	}
	rows := map[string]*row{}
	get := func(values []string) *row {
		k := strings.Join(values, "\x00")
		r := rows[k]
		if r == nil {
			r = &row{values: values}
			rows[k] = r
		}
		return r
	}
	get(s.labelValues("none", "none"))
	s.mu.RLock()
	for _, c := range s.agg.Series {
		r := get(s.labelValues(c.Priority, c.Channel))
		for i := range 3 {
			r.nps[i] += c.NPS[i]
			r.csat[i] += c.CSAT[i]
		}
		for i := range c.CES {
			r.ces[i] += c.CES[i]
		}
	}
	s.mu.RUnlock()
	for _, r := range rows {
		for i, cat := range npsCategories {
			ch <- helpdesk.ConstMetric(s.npsDesc, prometheus.CounterValue, float64(r.nps[i]), append(slices.Clone(r.values), cat)...)
		}
		for i, rating := range csatRatings {
			ch <- helpdesk.ConstMetric(s.csatDesc, prometheus.CounterValue, float64(r.csat[i]), append(slices.Clone(r.values), rating)...)
		}
		var count uint64
		var sum float64
		buckets := make(map[float64]uint64, len(cesBuckets))
		for i, n := range r.ces {
			count += n
			sum += float64(n) * cesBuckets[i]
			buckets[cesBuckets[i]] = count
		}
		ch <- prometheus.MustNewConstHistogram(s.cesDesc, count, sum, buckets, r.values...)
	}
}

// surveyResult is the 200 answer.
type surveyResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeJSONError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, map[string]string{"error": msg})
}

// authorized compares the bearer token in constant time: both sides are
// hashed first, so neither the content nor the length of the token leaks
// through timing.
func (s *surveyReceiver) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		tok = ""
	}
	tok = strings.TrimSpace(tok)
	got := sha256.Sum256([]byte(tok))
	match := subtle.ConstantTimeCompare(got[:], s.token[:]) == 1
	return match && tok != ""
}

// ServeHTTP handles POST /api/v1/survey-responses.
func (s *surveyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="cx-exporter"`)
		writeJSONError(w, http.StatusUnauthorized, "missing or invalid bearer token")
		return
	}
	select {
	case s.inFlight <- struct{}{}:
		defer func() { <-s.inFlight }()
	default:
		w.Header().Set("Retry-After", surveyRetryAfter)
		writeJSONError(w, http.StatusServiceUnavailable, fmt.Sprintf("busy: %d requests in flight; retry later", surveyMaxInFlight))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, surveyMaxBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeJSONError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body: larger than %d bytes", surveyMaxBody))
			return
		}
		writeJSONError(w, http.StatusBadRequest, "body: "+err.Error())
		return
	}
	responses, err := parseSurveyBody(body)
	var tooMany *tooManyError
	if errors.As(err, &tooMany) {
		writeJSONError(w, http.StatusRequestEntityTooLarge, err.Error())
		return
	}
	if err != nil {
		if s.reject != nil {
			s.reject("", rejectReason(err), err)
		}
		writeJSONError(w, http.StatusBadRequest, err.Error())
		return
	}
	res, err := s.commit(responses)
	if errors.Is(err, errSurveyFull) {
		s.logger.Warn("survey responses refused: id store full until the next prune", "src", surveySource, "ids", surveyMaxIDs)
		w.Header().Set("Retry-After", surveyRetryAfter)
		writeJSONError(w, http.StatusServiceUnavailable, "too many responses stored; retry later")
		return
	}
	if err != nil {
		s.logger.Error("survey responses not stored", "src", surveySource, "err", err)
		writeJSONError(w, http.StatusInternalServerError, "responses not stored; retry")
		return
	}
	s.logger.Debug("survey responses received", "src", surveySource, "accepted", res.Accepted, "duplicates", res.Duplicates)
	writeJSON(w, http.StatusOK, res)
}

// commit stores the responses not seen before and their counts in one
// transaction, then publishes the new aggregates.
func (s *surveyReceiver) commit(responses []surveyResponse) (surveyResult, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if s.ids+len(responses) > surveyMaxIDs {
		return surveyResult{}, errSurveyFull
	}
	var res surveyResult
	var agg *surveyAggregates
	received := s.now().Unix()
	err := s.store.Update(func(tx *state.Tx) error {
		res = surveyResult{}
		var err error
		if agg, err = decodeSurveyAggregates(tx.Get(state.KeyAggregates)); err != nil {
			return err
		}
		recs := tx.Records()
		for _, r := range responses {
			key := idKey(r.id)
			if recs.Get(key) != nil || recs.Get(r.id) != nil { // r.id: kept by an older exporter
				res.Duplicates++
				continue
			}
			if err := recs.Put(key, []byte(`{"received":`+strconv.FormatInt(received, 10)+`}`)); err != nil {
				return err
			}
			series := r.priority + "/" + r.channel
			c := agg.Series[series]
			if c == nil {
				c = &surveyCounts{Priority: r.priority, Channel: r.channel}
				agg.Series[series] = c
			}
			switch r.typ {
			case "nps":
				c.NPS[npsCategory(r.score)]++
			case "ces":
				c.CES[r.score-1]++
			default:
				c.CSAT[csatRating(r.score)]++
			}
			res.Accepted++
		}
		if res.Accepted == 0 {
			return nil
		}
		b, err := json.Marshal(agg)
		if err != nil {
			return err
		}
		return tx.Put(state.KeyAggregates, b)
	})
	if err != nil {
		return surveyResult{}, err
	}
	s.ids += res.Accepted
	if res.Accepted > 0 && s.oldest == 0 {
		s.oldest = received
	}
	s.mu.Lock()
	s.agg = agg
	s.mu.Unlock()
	return res, nil
}

// idKey is the record key of a response id: "#" and 144 bits of its
// SHA-256 (24 bytes, whatever the id's length up to 256), so that the ids
// kept for deduplication cost a bounded, small share of the state file.
func idKey(id string) string {
	h := sha256.Sum256([]byte(id))
	return "#" + base64.RawURLEncoding.EncodeToString(h[:18])
}

// received reads the Received time of a stored record; 0 when unreadable.
func received(v []byte) int64 {
	var r struct {
		Received int64 `json:"received"`
	}
	if json.Unmarshal(v, &r) != nil {
		return 0
	}
	return r.Received
}

// prune forgets the response ids received more than surveyRetention
// before now and, beyond surveyPruneTo ids, the oldest ones, in one
// transaction. The counts are kept: only the memory of ids goes. It reads
// nothing when there is nothing to prune.
func (s *surveyReceiver) prune(now time.Time) error {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	cutoff := now.Add(-surveyRetention).Unix()
	if s.ids <= surveyPruneTo && (s.oldest == 0 || s.oldest >= cutoff) {
		return s.store.View(func(*state.Tx) error { return nil })
	}
	type idAt struct {
		id string
		at int64
	}
	var ids []idAt
	var pruned, kept int
	var oldest int64
	err := s.store.Update(func(tx *state.Tx) error {
		ids, pruned, kept, oldest = ids[:0], 0, 0, 0
		recs := tx.Records()
		if err := recs.ForEach(func(id string, v []byte) error {
			ids = append(ids, idAt{id, received(v)})
			return nil
		}); err != nil {
			return err
		}
		slices.SortFunc(ids, func(a, b idAt) int { return cmp.Compare(a.at, b.at) })
		for i, r := range ids {
			if r.at >= cutoff && len(ids)-i <= surveyPruneTo {
				kept = len(ids) - i
				oldest = r.at
				break
			}
			if err := recs.Delete(r.id); err != nil {
				return err
			}
			pruned++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pruning survey response ids: %w", err)
	}
	s.ids, s.oldest = kept, oldest
	s.logger.Info("survey response ids pruned", "src", surveySource, "pruned", pruned, "kept", kept)
	return nil
}

// rejectReason classifies a refused request for
// cx_exporter_records_rejected_total.
func rejectReason(err error) string {
	msg := err.Error()
	switch {
	case strings.HasSuffix(msg, ": missing") || strings.HasSuffix(msg, ": empty"):
		return "missing_field"
	case strings.Contains(msg, "out of range") || strings.Contains(msg, ": want one of") || strings.Contains(msg, "want nps"):
		return "unknown_value"
	default:
		return "malformed_record"
	}
}

// parseSurveyBody decodes and validates a whole body: one response object
// or an array of them. Any error names the field and the index, and fails
// the whole request.
func parseSurveyBody(body []byte) ([]surveyResponse, error) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return nil, errors.New("body: empty; want a response object or an array of them")
	}
	if !utf8.Valid(body) {
		return nil, errors.New("body: not valid UTF-8")
	}
	if err := checkNoDuplicateKeys(body); err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	var items []json.RawMessage
	if trimmed[0] == '[' {
		if err := decodeStrict(body, &items); err != nil {
			return nil, fmt.Errorf("body: %s", jsonErrText(err))
		}
	} else if trimmed[0] == '{' {
		var one json.RawMessage
		if err := decodeStrict(body, &one); err != nil {
			return nil, fmt.Errorf("body: %s", jsonErrText(err))
		}
		items = []json.RawMessage{one}
	} else {
		return nil, errors.New("body: want a response object or an array of them")
	}
	if len(items) > surveyMaxAnswers {
		return nil, &tooManyError{len(items)}
	}
	out := make([]surveyResponse, 0, len(items))
	for i, raw := range items {
		r, err := parseSurveyResponse(raw)
		if err != nil {
			return nil, fmt.Errorf("responses[%d]%s", i, err.Error())
		}
		out = append(out, r)
	}
	return out, nil
}

// tooManyError is a request with more than surveyMaxAnswers responses.
type tooManyError struct{ n int }

func (e *tooManyError) Error() string {
	return fmt.Sprintf("body: %d responses; at most %d a request, send the rest in further requests", e.n, surveyMaxAnswers)
}

// checkNoDuplicateKeys walks the JSON value in b and rejects an object
// that names a key twice ({"score":0,"score":10}): encoding/json would keep
// the last silently.
func checkNoDuplicateKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		keys     map[string]bool
		wantKey  bool // in an object, the next string token is a key
		isObject bool
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return nil // syntax errors are reported by the decoding proper
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				if top != nil && top.isObject {
					top.wantKey = true // the value of a key is this container
				}
				stack = append(stack, &frame{keys: map[string]bool{}, wantKey: t == '{', isObject: t == '{'})
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top != nil && top.isObject && top.wantKey {
				if top.keys[t] {
					return fmt.Errorf("key %q given twice in one object", t)
				}
				top.keys[t] = true
				top.wantKey = false
				continue
			}
			if top != nil && top.isObject {
				top.wantKey = true
			}
		default:
			if top != nil && top.isObject {
				top.wantKey = true
			}
		}
	}
}

// decodeStrict decodes exactly one JSON value, unknown fields rejected.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// jsonErrText describes a decoding error without Go type names.
func jsonErrText(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "want " + jsonKind(te.Type.String()) + ", got " + te.Value
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d: %s", se.Offset, strings.TrimPrefix(se.Error(), "json: "))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "invalid JSON: unexpected end"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

func jsonKind(goType string) string {
	switch {
	case strings.HasSuffix(goType, "string"):
		return "a string"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	default:
		return "an object"
	}
}

// parseSurveyResponse validates one response; its error starts with the
// field (".score: …") or ": …" for the object as a whole.
func parseSurveyResponse(raw json.RawMessage) (surveyResponse, error) {
	var w surveyWire
	if err := decodeStrict(raw, &w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return surveyResponse{}, fmt.Errorf(".%s: %s", te.Field, jsonErrText(err))
		}
		return surveyResponse{}, fmt.Errorf(": %s", jsonErrText(err))
	}
	var r surveyResponse
	switch {
	case w.ID == nil:
		return r, errors.New(".id: missing")
	case *w.ID == "":
		return r, errors.New(".id: empty")
	case len(*w.ID) > surveyMaxID:
		return r, fmt.Errorf(".id: longer than %d bytes", surveyMaxID)
	case strings.ContainsRune(*w.ID, utf8.RuneError):
		// An invalid \u escape (a lone surrogate) decodes to U+FFFD:
		// two different ids would collapse into one.
		return r, errors.New(".id: not valid UTF-8 (U+FFFD or a lone surrogate escape)")
	}
	r.id = *w.ID
	if w.Type == nil {
		return r, errors.New(".type: missing")
	}
	r.typ = *w.Type
	if r.typ != "nps" && r.typ != "csat" && r.typ != "ces" {
		return r, fmt.Errorf(".type: %q: want nps, csat or ces", r.typ)
	}
	if len(w.Score) == 0 || string(w.Score) == "null" {
		return r, errors.New(".score: missing")
	}
	if w.Score[0] == '"' || w.Score[0] == '{' || w.Score[0] == '[' || w.Score[0] == 't' || w.Score[0] == 'f' {
		return r, fmt.Errorf(".score: %s is not a number", w.Score)
	}
	f, err := strconv.ParseFloat(string(w.Score), 64)
	if err != nil || f != math.Trunc(f) {
		return r, fmt.Errorf(".score: %s is not an integer", w.Score)
	}
	lo, hi := 0.0, 10.0
	switch r.typ {
	case "csat":
		lo, hi = 1, 5
	case "ces":
		lo, hi = 1, 7
	}
	if f < lo || f > hi {
		return r, fmt.Errorf(".score: %s is out of range %g-%g", w.Score, lo, hi)
	}
	r.score = int(f)
	if w.CreatedAt == nil {
		return r, errors.New(".created_at: missing")
	}
	if r.createdAt, err = time.Parse(time.RFC3339, *w.CreatedAt); err != nil {
		return r, fmt.Errorf(".created_at: %q is not an RFC 3339 time", *w.CreatedAt)
	}
	r.channel, r.priority = "none", "none"
	if w.Channel != nil && *w.Channel != "" {
		if !slices.Contains(helpdesk.Channels, *w.Channel) {
			return r, fmt.Errorf(".channel: %q: want one of %s", *w.Channel, strings.Join(helpdesk.Channels, ", "))
		}
		r.channel = *w.Channel
	}
	if w.Priority != nil && *w.Priority != "" {
		if !slices.Contains(helpdesk.Priorities, *w.Priority) {
			return r, fmt.Errorf(".priority: %q: want one of %s", *w.Priority, strings.Join(helpdesk.Priorities, ", "))
		}
		r.priority = *w.Priority
	}
	return r, nil
}
