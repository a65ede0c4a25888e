package upstream

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const (
	source    = "zendesk"
	exportURL = "/api/v2/incremental/tickets/cursor.json"
	userAgent = "cx-exporter/1.2.3 (+https://github.com/cx-exporter/cx-exporter)"
)

// hit is one request as the server saw it.
type hit struct {
	at     time.Time
	header http.Header
	query  string
}

// server answers the n-th request (from 0) with handle and records it.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	hits []hit
}

func newServer(t *testing.T, handle func(n int, w http.ResponseWriter, r *http.Request)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		n := len(s.hits)
		s.hits = append(s.hits, hit{at: time.Now(), header: r.Header.Clone(), query: r.URL.RawQuery})
		s.mu.Unlock()
		handle(n, w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) Hits() []hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]hit(nil), s.hits...)
}

func (s *server) url() string { return s.URL + exportURL + "?cursor=Y3Vyc29yU2VjcmV0&per_page=1000" }

func testOptions(m *Metrics) Options {
	return Options{
		Source:        source,
		UserAgent:     userAgent,
		Timeout:       5 * time.Second,
		RetryMax:      3,
		RetryWaitMin:  10 * time.Millisecond,
		RetryWaitMax:  50 * time.Millisecond,
		RetryAfterMax: 2 * time.Second,
		Metrics:       m,
	}
}

func newMetrics(t *testing.T) *Metrics {
	t.Helper()
	return NewMetrics(prometheus.NewPedanticRegistry())
}

func requests(m *Metrics, code string) float64 {
	return testutil.ToFloat64(m.Requests.WithLabelValues(source, code))
}

func retries(m *Metrics, reason string) float64 {
	return testutil.ToFloat64(m.Retries.WithLabelValues(source, reason))
}

// series counts the label combinations a vector has, to catch unexpected ones.
func series(c prometheus.Collector) int { return testutil.CollectAndCount(c) }

func writeJSON(w http.ResponseWriter, code int, body string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	w.Write([]byte(body))
}

type page struct {
	Count       int    `json:"count"`
	AfterCursor string `json:"after_cursor"`
}

const okBody = `{"count":3,"after_cursor":"next"}`

func TestRateLimitedHonoursRetryAfter(t *testing.T) {
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusTooManyRequests, `{"error":"APIRateLimitExceeded","description":"Number of allowed API requests per minute exceeded"}`)
			return
		}
		writeJSON(w, http.StatusOK, okBody)
	})
	m := newMetrics(t)
	c := New(testOptions(m))
	var v page
	if _, err := c.GetJSON(context.Background(), s.url(), &v); err != nil {
		t.Fatal(err)
	}
	if v.Count != 3 || v.AfterCursor != "next" {
		t.Errorf("decoded %+v", v)
	}
	hits := s.Hits()
	if len(hits) != 2 {
		t.Fatalf("%d requests, want 2", len(hits))
	}
	if gap := hits[1].at.Sub(hits[0].at); gap < time.Second {
		t.Errorf("retry %v after the 429, want at least Retry-After's 1s", gap)
	}
	if got := retries(m, "rate_limited"); got != 1 {
		t.Errorf("retries{rate_limited} = %v, want 1", got)
	}
	if got := requests(m, "429"); got != 1 {
		t.Errorf("requests{429} = %v, want 1", got)
	}
	if got := requests(m, "200"); got != 1 {
		t.Errorf("requests{200} = %v, want 1", got)
	}
}

func TestServerErrorsRetried(t *testing.T) {
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n < 2 {
			writeJSON(w, http.StatusInternalServerError, `{"error":"InternalError"}`)
			return
		}
		writeJSON(w, http.StatusOK, okBody)
	})
	m := newMetrics(t)
	c := New(testOptions(m))
	var v page
	h, err := c.GetJSON(context.Background(), s.url(), &v)
	if err != nil {
		t.Fatal(err)
	}
	if h.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("returned headers %v", h)
	}
	if v.Count != 3 {
		t.Errorf("decoded %+v", v)
	}
	if n := len(s.Hits()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
	if got := retries(m, "server_error"); got != 2 {
		t.Errorf("retries{server_error} = %v, want 2", got)
	}
	if got := requests(m, "500"); got != 2 {
		t.Errorf("requests{500} = %v, want 2", got)
	}
	if got := requests(m, "200"); got != 1 {
		t.Errorf("requests{200} = %v, want 1", got)
	}
	if n := series(m.Requests); n != 2 {
		t.Errorf("%d requests_total series, want 2 (500 and 200)", n)
	}
	if n := series(m.Retries); n != 1 {
		t.Errorf("%d retries_total series, want 1", n)
	}
}

func TestBrokenBodyRetried(t *testing.T) {
	tests := []struct {
		name  string
		first func(w http.ResponseWriter)
	}{
		{"invalid JSON", func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, `{"count":3,"after_cur`) }},
		{"cut short of Content-Length", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "200")
			writeJSON(w, http.StatusOK, `{"count":3,`)
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
				if n == 0 {
					tc.first(w)
					return
				}
				writeJSON(w, http.StatusOK, okBody)
			})
			m := newMetrics(t)
			c := New(testOptions(m))
			var v page
			if _, err := c.GetJSON(context.Background(), s.url(), &v); err != nil {
				t.Fatal(err)
			}
			if v.Count != 3 || v.AfterCursor != "next" {
				t.Errorf("decoded %+v", v)
			}
			if n := len(s.Hits()); n != 2 {
				t.Errorf("%d requests, want 2", n)
			}
			if got := retries(m, "transport"); got != 1 {
				t.Errorf("retries{transport} = %v, want 1", got)
			}
			// The broken answer is a transport fault, not a 200.
			if got := requests(m, "error"); got != 1 {
				t.Errorf(`requests{code="error"} = %v, want 1 (the broken answer)`, got)
			}
			if got := requests(m, "200"); got != 1 {
				t.Errorf("requests{200} = %v, want 1 (the whole answer)", got)
			}
		})
	}
}

func TestBrokenBodyExhausted(t *testing.T) {
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, `{"count":`)
	})
	m := newMetrics(t)
	o := testOptions(m)
	o.RetryMax = 1
	_, err := New(o).GetJSON(context.Background(), s.url(), &page{})
	var be *BodyError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v, want a BodyError", err)
	}
	if n := len(s.Hits()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	if got := retries(m, "transport"); got != 1 {
		t.Errorf("retries{transport} = %v, want 1", got)
	}
	if !strings.Contains(err.Error(), source) || !strings.Contains(err.Error(), exportURL) {
		t.Errorf("error %q does not name the source and endpoint", err)
	}
}

func TestRetriesExhausted(t *testing.T) {
	const token = "oauth-SECRET-t0ken"
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusInternalServerError, `{"error":"InternalError","description":"Something went wrong"}`)
	})
	m := newMetrics(t)
	o := testOptions(m)
	o.RetryMax = 2
	o.Authorize = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
	start := time.Now()
	_, err := New(o).GetJSON(context.Background(), s.url(), &page{})
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v with 50ms max backoff", d)
	}
	var se *StatusError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v (%T), want a *StatusError", err, err)
	}
	if se.Status != 500 || se.Source != source || se.Endpoint != exportURL || se.Method != http.MethodGet {
		t.Errorf("StatusError = %+v", se)
	}
	if se.Message != "InternalError: Something went wrong" {
		t.Errorf("Message = %q", se.Message)
	}
	msg := err.Error()
	for _, want := range []string{source, exportURL, "500"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not contain %q", msg, want)
		}
	}
	for _, bad := range []string{"Y3Vyc29yU2VjcmV0", "cursor=", "per_page", "?", token, "Bearer", "127.0.0.1"} {
		if strings.Contains(msg, bad) {
			t.Errorf("error %q contains %q", msg, bad)
		}
	}
	if n := len(s.Hits()); n != 3 {
		t.Errorf("%d requests, want 3 (1 + RetryMax 2)", n)
	}
	if got := requests(m, "500"); got != 3 {
		t.Errorf("requests{500} = %v, want 3", got)
	}
	if got := retries(m, "server_error"); got != 2 {
		t.Errorf("retries{server_error} = %v, want 2: the last attempt is not retried", got)
	}
}

func TestNoRetriesOption(t *testing.T) {
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusBadGateway, `<html>bad gateway</html>`)
	})
	m := newMetrics(t)
	o := testOptions(m)
	o.RetryMax = -1
	_, err := New(o).GetJSON(context.Background(), s.url(), &page{})
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusBadGateway || se.Message != "" {
		t.Fatalf("err = %#v", err)
	}
	if n := len(s.Hits()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if got := retries(m, "server_error"); got != 0 {
		t.Errorf("retries{server_error} = %v, want 0", got)
	}
}

func TestUnauthorizedNotRetried(t *testing.T) {
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusUnauthorized, `{"error":"Couldn't authenticate you"}`)
	})
	m := newMetrics(t)
	_, err := New(testOptions(m)).GetJSON(context.Background(), s.url(), &page{})
	var se *StatusError
	if !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a 401 StatusError", err)
	}
	if !strings.Contains(err.Error(), "Couldn't authenticate you") {
		t.Errorf("error %q lacks the vendor's message", err)
	}
	if !strings.Contains(err.Error(), "401 Unauthorized") {
		t.Errorf("error %q lacks the status", err)
	}
	if n := len(s.Hits()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if got := requests(m, "401"); got != 1 {
		t.Errorf("requests{401} = %v, want 1", got)
	}
	if n := series(m.Retries); n != 0 {
		t.Errorf("%d retries_total series, want none", n)
	}
}

func TestVendorMessageShapes(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"error":"RecordNotFound","description":"Not found"}`, "RecordNotFound: Not found"},
		{`{"error":{"title":"Forbidden","message":"You do not have access to this page"}}`, "You do not have access to this page"},
		{`{"message":"Access denied"}`, "Access denied"},
		{`not json`, ""},
		{`{"error":"` + strings.Repeat("x", 300) + `"}`, strings.Repeat("x", 197) + "…"},
	}
	for _, tc := range tests {
		if got := Sanitize(vendorMessage([]byte(tc.body)), maxMessageLen); got != tc.want {
			t.Errorf("vendorMessage(%.40s) = %q, want %q", tc.body, got, tc.want)
		}
	}
}

func TestResponseTooLarge(t *testing.T) {
	big := `{"count":1,"pad":"` + strings.Repeat("a", 4096) + `"}`
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, big)
	})
	m := newMetrics(t)
	o := testOptions(m)
	o.MaxBody = 1024
	var v page
	_, err := New(o).GetJSON(context.Background(), s.url(), &v)
	if err == nil {
		t.Fatalf("no error for a %d-byte body over a 1024-byte limit", len(big))
	}
	if !errors.Is(err, errTooLarge) {
		t.Errorf("err = %v, want errTooLarge", err)
	}
	if !strings.Contains(err.Error(), source) || !strings.Contains(err.Error(), exportURL) {
		t.Errorf("error %q does not name the source and endpoint", err)
	}
	if v.Count != 0 {
		t.Errorf("decoded an oversized body: %+v", v)
	}
	if n := len(s.Hits()); n != 1 {
		t.Errorf("%d requests, want 1: an oversized body is not retried", n)
	}
	if n := series(m.Retries); n != 0 {
		t.Errorf("%d retries_total series, want none", n)
	}

	// A body of exactly MaxBody bytes is fine.
	exact := `{"count":7}`
	s2 := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, exact) })
	o.MaxBody = int64(len(exact))
	if _, err := New(o).GetJSON(context.Background(), s2.url(), &v); err != nil || v.Count != 7 {
		t.Errorf("body at the limit: %v, %+v", err, v)
	}
}

func TestClosedConnectionRetried(t *testing.T) {
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
			return
		}
		writeJSON(w, http.StatusOK, okBody)
	})
	m := newMetrics(t)
	var v page
	if _, err := New(testOptions(m)).GetJSON(context.Background(), s.url(), &v); err != nil {
		t.Fatal(err)
	}
	if v.Count != 3 {
		t.Errorf("decoded %+v", v)
	}
	if n := len(s.Hits()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
	if got := requests(m, "error"); got != 1 {
		t.Errorf(`requests{code="error"} = %v, want 1`, got)
	}
	if got := retries(m, "transport"); got != 1 {
		t.Errorf("retries{transport} = %v, want 1", got)
	}
	if got := requests(m, "200"); got != 1 {
		t.Errorf("requests{200} = %v, want 1", got)
	}
}

func TestConnectionRefused(t *testing.T) {
	s := httptest.NewServer(http.NotFoundHandler())
	url := s.URL + exportURL + "?cursor=Y3Vyc29yU2VjcmV0"
	s.Close()
	m := newMetrics(t)
	o := testOptions(m)
	o.RetryMax = 1
	_, err := New(o).GetJSON(context.Background(), url, &page{})
	if err == nil {
		t.Fatal("no error from a closed server")
	}
	var se *StatusError
	if errors.As(err, &se) {
		t.Errorf("transport failure reported as a status: %v", err)
	}
	if strings.Contains(err.Error(), "Y3Vyc29yU2VjcmV0") || !strings.Contains(err.Error(), exportURL) {
		t.Errorf("error %q", err)
	}
	if got := requests(m, "error"); got != 2 {
		t.Errorf(`requests{code="error"} = %v, want 2`, got)
	}
	if got := retries(m, "transport"); got != 1 {
		t.Errorf("retries{transport} = %v, want 1", got)
	}
}

func TestCredentialsNeverLeak(t *testing.T) {
	const (
		user  = "admin@acme.example/token"
		token = "Zx9SECRETapiTOKENqq"
	)
	basic := base64.StdEncoding.EncodeToString([]byte(user + ":" + token))
	var logs bytes.Buffer
	// Scenarios, each a sequence of answers:
	// 0: connection closed, 500, 401 (final);
	// 1: 500 until retries are exhausted;
	// 2: broken body, then success;
	// 3: 429 with a Retry-After too long to wait for.
	var mu sync.Mutex
	mode, k := 0, 0
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		md, i := mode, k
		k++
		mu.Unlock()
		if got := r.Header.Get("Authorization"); got != "Basic "+basic {
			t.Errorf("request %d: Authorization = %q", n, got)
		}
		switch {
		case md == 0 && i == 0:
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case md == 0 && i == 1, md == 1:
			writeJSON(w, http.StatusInternalServerError, `{"error":"InternalError"}`)
		case md == 0:
			writeJSON(w, http.StatusUnauthorized, `{"error":"Couldn't authenticate you"}`)
		case md == 2 && i == 0:
			writeJSON(w, http.StatusOK, `{"count":`)
		case md == 2:
			writeJSON(w, http.StatusOK, okBody)
		case md == 3:
			w.Header().Set("Retry-After", "600")
			writeJSON(w, http.StatusTooManyRequests, `{"error":"APIRateLimitExceeded"}`)
		}
	})
	m := newMetrics(t)
	o := testOptions(m)
	o.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	o.Authorize = func(r *http.Request) { r.SetBasicAuth(user, token) }
	c := New(o)

	var errs []error
	for md := 0; md < 4; md++ {
		mu.Lock()
		mode, k = md, 0
		mu.Unlock()
		_, err := c.GetJSON(context.Background(), s.url(), &page{})
		if md != 2 && err == nil {
			t.Fatalf("scenario %d: no error", md)
		}
		if md == 2 && err != nil {
			t.Fatalf("scenario 2: %v", err)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}

	if n := len(s.Hits()); n != 3+4+2+1 {
		t.Errorf("%d requests, want 10: the scenarios did not run as planned", n)
	}
	if !strings.Contains(logs.String(), "retrying upstream request") {
		t.Errorf("no retry logged at debug level: %q", logs.String())
	}
	for _, secret := range []string{token, basic, "Basic ", "SECRET"} {
		for _, err := range errs {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error %q contains %q", err, secret)
			}
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain %q:\n%s", secret, logs.String())
		}
	}
}

func TestRetryAfterTooLong(t *testing.T) {
	for _, code := range []int{http.StatusTooManyRequests, http.StatusServiceUnavailable} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Retry-After", "3600")
				writeJSON(w, code, `{"error":"TooManyRequests"}`)
			})
			m := newMetrics(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			start := time.Now()
			_, err := New(testOptions(m)).GetJSON(ctx, s.url(), &page{})
			if d := time.Since(start); d > time.Second {
				t.Errorf("waited %v for a Retry-After over RetryAfterMax", d)
			}
			var se *StatusError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a StatusError", err)
			}
			if se.Status != code || se.RetryAfter != time.Hour {
				t.Errorf("StatusError = %+v, want status %d and RetryAfter 1h", se, code)
			}
			if n := len(s.Hits()); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			if got := requests(m, strconv.Itoa(code)); got != 1 {
				t.Errorf("requests{%d} = %v, want 1", code, got)
			}
			if n := series(m.Retries); n != 0 {
				t.Errorf("%d retries_total series, want none", n)
			}
		})
	}
}

func TestServiceUnavailableHonoursShortRetryAfter(t *testing.T) {
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			w.Header().Set("Retry-After", "0.3")
			writeJSON(w, http.StatusServiceUnavailable, `{"error":"Maintenance"}`)
			return
		}
		writeJSON(w, http.StatusOK, okBody)
	})
	m := newMetrics(t)
	if _, err := New(testOptions(m)).GetJSON(context.Background(), s.url(), &page{}); err != nil {
		t.Fatal(err)
	}
	hits := s.Hits()
	if len(hits) != 2 {
		t.Fatalf("%d requests, want 2", len(hits))
	}
	if gap := hits[1].at.Sub(hits[0].at); gap < 300*time.Millisecond {
		t.Errorf("retried %v after the 503, want at least 300ms", gap)
	}
	if got := retries(m, "server_error"); got != 1 {
		t.Errorf("retries{server_error} = %v, want 1", got)
	}
}

func TestRateLimitGauge(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		want    float64
	}{
		{"first header", map[string]string{"X-Rate-Limit-Remaining": "17", "ratelimit-remaining": "42"}, 17},
		{"first unparsable", map[string]string{"X-Rate-Limit-Remaining": "n/a", "ratelimit-remaining": "42"}, 42},
		{"only second", map[string]string{"Ratelimit-Remaining": "399"}, 399},
		{"none", map[string]string{"X-Rate-Limit": "700"}, -5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.headers {
					w.Header().Set(k, v)
				}
				writeJSON(w, http.StatusOK, okBody)
			})
			m := newMetrics(t)
			m.RateLimitRemaining.WithLabelValues(source).Set(-5) // sentinel
			o := testOptions(m)
			o.RateLimitHeaders = []string{"X-Rate-Limit-Remaining", "ratelimit-remaining"}
			if _, err := New(o).GetJSON(context.Background(), s.url(), &page{}); err != nil {
				t.Fatal(err)
			}
			if got := testutil.ToFloat64(m.RateLimitRemaining.WithLabelValues(source)); got != tc.want {
				t.Errorf("rate limit gauge = %v, want %v", got, tc.want)
			}
		})
	}

	// The gauge follows 429s too, where it matters most.
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Rate-Limit-Remaining", "0")
		w.Header().Set("Retry-After", "600")
		writeJSON(w, http.StatusTooManyRequests, `{}`)
	})
	m := newMetrics(t)
	m.RateLimitRemaining.WithLabelValues(source).Set(-5)
	o := testOptions(m)
	o.RateLimitHeaders = []string{"X-Rate-Limit-Remaining"}
	New(o).GetJSON(context.Background(), s.url(), &page{})
	if got := testutil.ToFloat64(m.RateLimitRemaining.WithLabelValues(source)); got != 0 {
		t.Errorf("rate limit gauge after a 429 = %v, want 0", got)
	}
}

func TestRequestHeaders(t *testing.T) {
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, okBody)
	})
	m := newMetrics(t)
	o := testOptions(m)
	o.Authorize = func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") }
	if _, err := New(o).GetJSON(context.Background(), s.url(), &page{}); err != nil {
		t.Fatal(err)
	}
	h := s.Hits()[0]
	if got := h.header.Get("User-Agent"); got != userAgent {
		t.Errorf("User-Agent = %q, want %q", got, userAgent)
	}
	if got := h.header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q", got)
	}
	if got := h.header.Get("Authorization"); got != "Bearer abc" {
		t.Errorf("Authorization = %q", got)
	}
	if h.query != "cursor=Y3Vyc29yU2VjcmV0&per_page=1000" {
		t.Errorf("query = %q", h.query)
	}
}

func TestDoJSONSendsBodyOnEveryAttempt(t *testing.T) {
	var bodies []string
	var mu sync.Mutex
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		var b bytes.Buffer
		b.ReadFrom(r.Body)
		mu.Lock()
		bodies = append(bodies, r.Method+" "+r.Header.Get("Content-Type")+" "+b.String())
		mu.Unlock()
		if n == 0 {
			writeJSON(w, http.StatusBadGateway, `{}`)
			return
		}
		writeJSON(w, http.StatusCreated, okBody)
	})
	m := newMetrics(t)
	var v page
	if _, err := New(testOptions(m)).DoJSON(context.Background(), http.MethodPost, s.url(), map[string]int{"n": 1}, &v); err != nil {
		t.Fatal(err)
	}
	want := `POST application/json {"n":1}`
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 || bodies[0] != want || bodies[1] != want {
		t.Errorf("bodies = %q, want twice %q", bodies, want)
	}
	if v.Count != 3 {
		t.Errorf("decoded %+v", v)
	}
}

func TestContextCancelledDuringBackoff(t *testing.T) {
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, `{}`)
	})
	m := newMetrics(t)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := New(testOptions(m)).GetJSON(ctx, s.url(), &page{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 900*time.Millisecond {
		t.Errorf("returned after %v, want soon after the 200ms deadline", d)
	}
}
