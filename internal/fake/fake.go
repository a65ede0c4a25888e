// Package fake is the scaffolding the fake vendor APIs under internal/fake
// share: a fault switch, a request log, credential checks and a rate-limit
// window. It keeps state only: each vendor writes its own wire format
// (error bodies, header names, status codes) from it.
package fake

import (
	"context"
	"encoding/base64"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault is a failure a fake can be told to produce. Each fake serves the
// ones its vendor can show, in that vendor's wire format, and says which.
type Fault int

// The faults.
const (
	// FaultNone serves requests normally.
	FaultNone Fault = iota
	// Fault429 refuses the request as rate limited, with Retry-After.
	Fault429
	// Fault500 answers a server error.
	Fault500
	// FaultSlow holds the answer, then serves it normally.
	FaultSlow
	// FaultTruncated answers 200 with the body cut in half.
	FaultTruncated
	// FaultUnknownStatus serves a record with a status the vendor never
	// sends.
	FaultUnknownStatus
	// FaultDown closes the connection without answering.
	FaultDown
	// FaultExpireTokens expires every access token issued so far.
	FaultExpireTokens
)

var faultNames = map[Fault]string{FaultNone: "none", Fault429: "429", Fault500: "500", FaultSlow: "slow",
	FaultTruncated: "truncated", FaultUnknownStatus: "unknown-status", FaultDown: "down", FaultExpireTokens: "expire-tokens"}

// String returns the fault's name.
func (f Fault) String() string {
	if n, ok := faultNames[f]; ok {
		return n
	}
	return "fault(" + strconv.Itoa(int(f)) + ")"
}

// Faults is a fault switch: the next n requests fail with one Fault, with
// the Retry-After an injected 429 carries and a latency added to answers.
// The zero value serves normally. It is safe for concurrent use.
type Faults struct {
	mu         sync.Mutex
	fault      Fault
	left       int
	retryAfter int
	latency    time.Duration
}

// Inject makes the next n requests fail with f (n < 0: every request until
// Clear; n == 0 or FaultNone clears). It replaces any fault already
// injected.
func (s *Faults) Inject(f Fault, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == FaultNone || n == 0 {
		s.fault, s.left = FaultNone, 0
		return
	}
	s.fault, s.left = f, n
}

// Clear stops injecting faults.
func (s *Faults) Clear() { s.Inject(FaultNone, 0) }

// Take consumes one occurrence of the injected fault and returns it;
// FaultNone when none is injected.
func (s *Faults) Take() Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.left == 0 {
		return FaultNone
	}
	f := s.fault
	if s.left > 0 {
		s.left--
		if s.left == 0 {
			s.fault = FaultNone
		}
	}
	return f
}

// SetRetryAfter sets the Retry-After seconds of injected 429 answers.
func (s *Faults) SetRetryAfter(sec int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retryAfter = sec
}

// RetryAfter returns the Retry-After seconds of injected 429 answers.
func (s *Faults) RetryAfter() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.retryAfter
}

// SetLatency sets how long Delay holds an answer.
func (s *Faults) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// Latency returns how long Delay holds an answer.
func (s *Faults) Latency() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency
}

// Delay waits out the latency (on the real clock). It reports false when
// ctx ended first.
func (s *Faults) Delay(ctx context.Context) bool {
	d := s.Latency()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// RequestLog records the requests a fake received, as a vendor's own
// Request type R. It is safe for concurrent use.
type RequestLog[R any] struct {
	mu    sync.Mutex
	reqs  []R
	epoch uint64 // bumped by Reset
}

// Entry names a request added to a RequestLog, to complete it once
// answered.
type Entry struct {
	epoch uint64
	i     int
}

// Add records a request and returns its entry.
func (l *RequestLog[R]) Add(r R) Entry {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = append(l.reqs, r)
	return Entry{l.epoch, len(l.reqs) - 1}
}

// Update applies fn to a recorded request, unless the log was reset since.
func (l *RequestLog[R]) Update(e Entry, fn func(*R)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e.epoch == l.epoch && e.i < len(l.reqs) {
		fn(&l.reqs[e.i])
	}
}

// All returns the requests recorded so far, in arrival order.
func (l *RequestLog[R]) All() []R {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.reqs)
}

// Reset forgets the requests recorded so far.
func (l *RequestLog[R]) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.reqs = nil
	l.epoch++
}

// StatusWriter remembers the status a handler answered (0 while nothing
// is written).
type StatusWriter struct {
	http.ResponseWriter
	Status int
}

// WriteHeader records the first status.
func (w *StatusWriter) WriteHeader(code int) {
	if w.Status == 0 {
		w.Status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write records an implicit 200.
func (w *StatusWriter) Write(b []byte) (int, error) {
	if w.Status == 0 {
		w.Status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Auth is the set of credentials a fake accepts. With none configured it
// accepts every request.
type Auth struct {
	// User, when set, is the Basic user accepted, with Password (any
	// password when Password is empty).
	User, Password string
	// Token, when set, is the Bearer token accepted.
	Token string
}

// Open reports whether no credentials are configured.
func (a Auth) Open() bool { return a.User == "" && a.Token == "" }

// Allows checks a request's Authorization header.
func (a Auth) Allows(r *http.Request) bool {
	if a.Open() {
		return true
	}
	if tok, ok := BearerToken(r); ok && a.Token != "" && tok == a.Token {
		return true
	}
	if user, pass, ok := BasicAuth(r); ok && a.User != "" && user == a.User && (a.Password == "" || pass == a.Password) {
		return true
	}
	return false
}

// BearerToken returns the token of a Bearer Authorization header.
func BearerToken(r *http.Request) (string, bool) {
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return tok, true
}

// BasicAuth returns the credentials of a Basic Authorization header; the
// password (and its colon) may be left out, as API-key users often do.
func BasicAuth(r *http.Request) (user, pass string, ok bool) {
	scheme, raw, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return "", "", false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(raw))
	if err != nil {
		return "", "", false
	}
	user, pass, _ = strings.Cut(string(b), ":")
	return user, pass, true
}

// RateLimiter is a request budget per fixed window. It is safe for
// concurrent use.
type RateLimiter struct {
	// Limit is the number of requests a window serves.
	Limit int
	// Window is the window's length.
	Window time.Duration
	// Aligned starts windows at multiples of Window (Intercom's); otherwise
	// a window starts at its first request.
	Aligned bool
	// Off counts requests but never refuses one.
	Off bool

	mu    sync.Mutex
	start time.Time
	used  int
}

// Budget is the state of a RateLimiter's window after a request.
type Budget struct {
	// Limited: the request is refused.
	Limited bool
	// Limit and Remaining are the window's budget and what is left of it.
	Limit, Remaining int
	// Reset is when the window ends.
	Reset time.Time
}

// Take counts a request arriving at now against the current window,
// unless the budget is spent (and the limiter is not Off), which refuses
// it.
func (l *RateLimiter) Take(now time.Time) Budget { return l.budget(now, true) }

// Peek returns the current window's state without counting a request.
func (l *RateLimiter) Peek(now time.Time) Budget { return l.budget(now, false) }

func (l *RateLimiter) budget(now time.Time, consume bool) Budget {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.start.IsZero() || now.Sub(l.start) >= l.Window || now.Before(l.start) {
		l.start, l.used = now, 0
		if l.Aligned {
			l.start = now.Truncate(l.Window)
		}
	}
	b := Budget{Limit: l.Limit, Reset: l.start.Add(l.Window)}
	if consume {
		if l.used >= l.Limit && !l.Off {
			b.Limited = true
		} else {
			l.used++
		}
	}
	b.Remaining = max(l.Limit-l.used, 0)
	return b
}

// RetryAfter is the whole seconds from now to the window's end, at least 1.
func (b Budget) RetryAfter(now time.Time) int {
	return max(int(math.Ceil(b.Reset.Sub(now).Seconds())), 1)
}

// Response is an answer before it is written, so that a fault can still
// alter it.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Write sends the response, with a Content-Length that matches the body as
// sent, and returns its status.
func (resp Response) Write(w http.ResponseWriter) int {
	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	h.Set("Content-Length", strconv.Itoa(len(resp.Body)))
	w.WriteHeader(resp.Status)
	_, _ = w.Write(resp.Body)
	return resp.Status
}
