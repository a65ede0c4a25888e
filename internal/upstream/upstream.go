// Package upstream is the HTTP client every collector talks to its vendor
// with: go-retryablehttp with a per-request timeout, jittered exponential
// backoff on transport errors, 5xx and broken bodies, Retry-After honoured
// on 429 and 503, a bounded number of attempts, a size limit on responses
// enforced while they are streamed into the JSON decoder, redirects
// followed only within the origin of the request (so credentials never
// travel elsewhere), and the cx_exporter_api_* self-metrics. Errors name
// the source, the endpoint and the status, never the credentials: vendor
// error text is length-limited, stripped of control characters and of any
// echo of the request's credentials before it reaches an error.
package upstream

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the self-metrics of upstream requests, shared by all sources.
type Metrics struct {
	Requests           *prometheus.CounterVec // source, code
	Retries            *prometheus.CounterVec // source, reason
	RateLimitRemaining *prometheus.GaugeVec   // source
}

// NewMetrics creates and registers the metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cx_exporter_api_requests_total",
			Help: "Upstream HTTP requests by status code (error for transport failures).",
		}, []string{"source", "code"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "cx_exporter_api_retries_total",
			Help: "Retried upstream requests by reason.",
		}, []string{"source", "reason"}),
		RateLimitRemaining: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "cx_exporter_api_rate_limit_remaining",
			Help: "Upstream quota left, from the vendor's rate-limit headers.",
		}, []string{"source"}),
	}
	reg.MustRegister(m.Requests, m.Retries, m.RateLimitRemaining)
	return m
}

// Init exposes a source's retry counters at zero before the first retry.
func (m *Metrics) Init(source string) {
	for _, reason := range []string{"rate_limited", "server_error", "transport"} {
		m.Retries.WithLabelValues(source, reason)
	}
}

// Options configure a Client.
type Options struct {
	Source    string // the source's instance name, for metrics and errors
	UserAgent string
	// Timeout bounds one attempt (default 30s).
	Timeout time.Duration
	// RetryMax is the number of retries after the first attempt; negative
	// means none (default 4).
	RetryMax int
	// RetryWaitMin and RetryWaitMax bound the backoff (default 1s, 30s).
	// A Retry-After longer than RetryAfterMax (default 2m) is not waited
	// for: the request fails and the next sync tries again.
	RetryWaitMin, RetryWaitMax, RetryAfterMax time.Duration
	// MaxBody refuses larger responses (default DefaultMaxBody). The
	// limit is enforced while the body is streamed into the decoder.
	MaxBody int64
	// Authorize sets the credentials on each request.
	Authorize func(*http.Request)
	// RateLimitHeaders name the headers holding the quota left, first found wins.
	RateLimitHeaders []string
	Metrics          *Metrics
	Logger           *slog.Logger
}

// DefaultMaxBody is the default size limit of a response body: 16 MiB,
// several times the largest page a vendor serves at its maximum page size
// (a Zendesk export page of 1,000 tickets with metric sets is 2–6 MB). The
// JSON decoder's buffer can grow to twice what it has read, so a refused
// body costs at most about 2×16 MiB of transient heap, well inside the
// chart's 128 MiB memory limit; a 64 MiB limit would not be.
const DefaultMaxBody = 16 << 20

// maxRedirects bounds a chain of same-origin redirects.
const maxRedirects = 10

// Client performs upstream requests for one source.
type Client struct {
	o  Options
	hc *retryablehttp.Client
}

// New returns a client.
func New(o Options) *Client {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.RetryMax == 0 {
		o.RetryMax = 4
	}
	o.RetryMax = max(o.RetryMax, 0)
	if o.RetryWaitMin <= 0 {
		o.RetryWaitMin = time.Second
	}
	if o.RetryWaitMax <= 0 {
		o.RetryWaitMax = 30 * time.Second
	}
	if o.RetryAfterMax <= 0 {
		o.RetryAfterMax = 2 * time.Minute
	}
	if o.MaxBody <= 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{o: o}
	hc := retryablehttp.NewClient()
	hc.HTTPClient.Timeout = o.Timeout
	hc.HTTPClient.CheckRedirect = SameOriginRedirects(o.Source)
	hc.RetryMax = o.RetryMax
	hc.RetryWaitMin, hc.RetryWaitMax = o.RetryWaitMin, o.RetryWaitMax
	hc.Logger = nil
	hc.CheckRetry = c.checkRetry
	hc.Backoff = c.backoff
	hc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	hc.PrepareRetry = func(r *http.Request) error { reauthorize(o.Authorize, r); return nil } // fresh signatures (Udesk's nonce) on every retry
	c.hc = hc
	return c
}

func reauthorize(a func(*http.Request), r *http.Request) {
	if a != nil {
		a(r)
	}
}

// StatusError is a final non-2xx answer.
type StatusError struct {
	Source, Method, Endpoint string
	Status                   int
	Message                  string // the vendor's error text, trimmed
	RetryAfter               time.Duration
}

func (e *StatusError) Error() string {
	msg := fmt.Sprintf("%s: %s %s: %d %s", e.Source, e.Method, e.Endpoint, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// BodyError is a response body that could not be read or decoded: retried,
// as a truncated body usually means a cut connection.
type BodyError struct {
	err error
	// Malformed is set when the body was complete, valid JSON that does
	// not have the expected shape (a field of the wrong type, data after
	// the value): the vendor's page is nonsense. Otherwise the body was
	// cut, unreadable or not JSON at all: a transport fault, which drops
	// no record.
	Malformed bool
}

func (e *BodyError) Error() string { return e.err.Error() }
func (e *BodyError) Unwrap() error { return e.err }

// RedirectError is a redirect to another origin (scheme, host or port),
// refused and not followed: following it could carry the request's
// credentials to a party that must not see them.
type RedirectError struct {
	Source, Method, Endpoint string
	Status                   int
	// To is the origin redirected to, scheme://host:port: never the
	// userinfo, path or query of the Location.
	To string
}

func (e *RedirectError) Error() string {
	return fmt.Sprintf("%s: %s %s: %d %s: redirect to another origin (%s) refused; set the source's URL to the final address",
		e.Source, e.Method, e.Endpoint, e.Status, http.StatusText(e.Status), e.To)
}

// SameOriginRedirects is an http.Client.CheckRedirect that follows
// redirects only within the origin of the first request: the credentials
// a request carries go nowhere else. A redirect to another scheme, host
// or port is a *RedirectError; source names the source in it.
func SameOriginRedirects(source string) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0]
		if to := origin(req.URL); to != origin(first.URL) {
			e := &RedirectError{Source: source, Method: first.Method, Endpoint: first.URL.Path, To: to}
			if req.Response != nil {
				e.Status = req.Response.StatusCode
			}
			return e
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("%s: %s %s: stopped after %d redirects", source, first.Method, first.URL.Path, maxRedirects)
		}
		return nil
	}
}

// origin is scheme://host:port with the scheme's default port made explicit.
func origin(u *url.URL) string {
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return scheme + "://" + strings.ToLower(u.Hostname()) + ":" + port
}

// DefaultHooks fills in the hooks that a collector's Options leave nil:
// *now becomes time.Now, *logger a logger that discards, and *reject (when
// the collector passes one) a no-op.
func DefaultHooks(now *func() time.Time, logger **slog.Logger, reject *func(id, reason string, err error)) {
	if *now == nil {
		*now = time.Now
	}
	if *logger == nil {
		*logger = slog.New(slog.DiscardHandler)
	}
	if reject != nil && *reject == nil {
		*reject = func(string, string, error) {}
	}
}

// errTooLarge is permanent: retrying would fetch the same oversized body.
var errTooLarge = errors.New("response larger than the limit")

// GetJSON fetches url and decodes a 2xx body into v, retrying as the
// package doc says. It returns the final response's headers.
func (c *Client) GetJSON(ctx context.Context, url string, v any) (http.Header, error) {
	return c.DoJSON(ctx, http.MethodGet, url, nil, v)
}

// DoJSON sends body (nil, or JSON-encoded) and decodes a 2xx answer into v.
func (c *Client) DoJSON(ctx context.Context, method, url string, body, v any) (http.Header, error) {
	var raw any
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		raw = b
	}
	req, err := retryablehttp.NewRequestWithContext(ctx, method, url, raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.o.Source, err)
	}
	endpoint := req.URL.Path
	req.Header.Set("User-Agent", c.o.UserAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	var secrets []string
	if c.o.Authorize != nil {
		before := req.Header.Clone()
		c.o.Authorize(req.Request)
		secrets = credentials(before, req.Request)
	}
	var statusErr *StatusError
	req.SetResponseHandler(func(resp *http.Response) error {
		defer func() { resp.Body.Close(); resp.Body = handledBody{} }()
		err := c.readResponse(resp, v)
		code := strconv.Itoa(resp.StatusCode)
		var be *BodyError
		if errors.As(err, &be) && !be.Malformed {
			code = "error" // a transport fault: the answer never arrived whole
		}
		c.count(resp, code)
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			statusErr = c.statusError(method, endpoint, resp, secrets)
			return statusErr
		}
		return err
	})
	resp, err := c.hc.Do(req)
	if statusErr != nil {
		return nil, statusErr
	}
	if err == nil && resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) {
		// Retries exhausted on a status that is normally retried.
		defer resp.Body.Close()
		return nil, c.statusError(method, endpoint, resp, secrets)
	}
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		var re *RedirectError
		if errors.As(err, &re) {
			return nil, re
		}
		msg := fmt.Sprintf("%s: %s %s: %v", c.o.Source, method, endpoint, cleanErr(err))
		return nil, &cleanError{msg: Sanitize(msg, maxErrorLen, secrets...), err: cleanErr(err)}
	}
	return resp.Header, nil
}

// maxErrorLen bounds an error message built from what a server sent.
const maxErrorLen = 512

// maxMessageLen bounds the vendor's error text in a StatusError.
const maxMessageLen = 200

// cleanError is an error whose text was sanitised; it still unwraps to
// the original, for errors.Is and errors.As.
type cleanError struct {
	msg string
	err error
}

func (e *cleanError) Error() string { return e.msg }
func (e *cleanError) Unwrap() error { return e.err }

// statusError builds the error of a final non-2xx answer. Only the first
// few KiB of the body are read: enough for a vendor's error text.
func (c *Client) statusError(method, endpoint string, resp *http.Response, secrets []string) *StatusError {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<10))
	e := &StatusError{Source: c.o.Source, Method: method, Endpoint: endpoint, Status: resp.StatusCode,
		Message: Sanitize(vendorMessage(b), maxMessageLen, secrets...)}
	e.RetryAfter, _ = retryAfter(resp)
	return e
}

// readResponse decodes a 2xx body into v as it streams in, refusing it
// as soon as it passes the size limit: a body is never held whole, and
// an oversized one costs no more than the limit. A non-2xx body is left
// to statusError.
func (c *Client) readResponse(resp *http.Response, v any) error {
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil
	}
	if resp.ContentLength > c.o.MaxBody {
		return fmt.Errorf("%w (%d bytes announced, limit %d)", errTooLarge, resp.ContentLength, c.o.MaxBody)
	}
	lr := &limitedReader{r: resp.Body, left: c.o.MaxBody}
	dec := json.NewDecoder(lr)
	err := dec.Decode(v)
	if err == nil {
		// Only white space may follow the value.
		if _, err = dec.Token(); err == io.EOF {
			return nil
		}
	}
	var typeErr *json.UnmarshalTypeError
	switch {
	case lr.exceeded:
		return fmt.Errorf("%w (limit %d bytes)", errTooLarge, c.o.MaxBody)
	case lr.err != nil:
		return &BodyError{err: fmt.Errorf("reading body: %w", lr.err)}
	case errors.As(err, &typeErr):
		return &BodyError{err: fmt.Errorf("decoding body: %w", err), Malformed: true}
	case err == nil:
		return &BodyError{err: errors.New("decoding body: data after the JSON value"), Malformed: true}
	}
	return &BodyError{err: fmt.Errorf("decoding body: %w", err)}
}

// limitedReader reads at most left bytes plus one: reading past the limit
// fails with errTooLarge and sets exceeded. It remembers a read error.
type limitedReader struct {
	r        io.Reader
	left     int64
	exceeded bool
	err      error
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.exceeded {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if l.left < 0 {
		l.exceeded = true
		return n, errTooLarge
	}
	if err != nil && err != io.EOF {
		l.err = err
	}
	return n, err
}

// credentials lists what authorize put on a request: the value of every
// credential-like header it set (Authorization, Cookie, any name with
// auth, key, token, secret or session in it; not a version header such
// as Stripe-Version), the token of an Authorization scheme, a basic-auth
// user and password, and the URL's userinfo. Values shorter than 4 bytes
// (Freshdesk's "X" password) are no secret and are left out.
func credentials(before http.Header, r *http.Request) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 4 && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for name, vals := range r.Header {
		if slices.Equal(before[name], vals) || !credentialHeader(name) {
			continue
		}
		for _, v := range vals {
			add(v)
			if scheme, rest, ok := strings.Cut(v, " "); ok {
				add(strings.TrimSpace(rest))
				if strings.EqualFold(scheme, "Basic") {
					if b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(rest)); err == nil {
						user, pass, _ := strings.Cut(string(b), ":")
						add(string(b))
						add(user)
						add(pass)
					}
				}
			}
		}
	}
	if u := r.URL.User; u != nil {
		add(u.Username())
		if p, ok := u.Password(); ok {
			add(p)
		}
	}
	// Longest first, so that a value is redacted before its parts.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// credentialHeader reports whether a header's name says it carries a
// credential.
func credentialHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"auth", "key", "token", "secret", "session", "cookie"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// Sanitize makes text that came from outside (a vendor's error body, a
// transport error quoting a server's bytes) safe for a log line, an error
// or a web page: invalid UTF-8 and control and formatting characters
// removed (line breaks become spaces), every occurrence of a secret
// replaced with [REDACTED], and the result cut to at most maxLen bytes on
// a character boundary, with "…" when cut.
func Sanitize(s string, maxLen int, secrets ...string) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			return ' '
		case unicode.IsControl(r), unicode.Is(unicode.Cf, r):
			return -1
		}
		return r
	}, s)
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "[REDACTED]")
		}
	}
	if len(s) > maxLen {
		cut := maxLen - len("…")
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// cleanErr drops the URL that net/http puts in transport errors: the
// message names the endpoint already.
func cleanErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// vendorMessage extracts a short error text from a vendor's error body.
func vendorMessage(b []byte) string {
	var e struct {
		Error       any    `json:"error"`
		Description string `json:"description"`
		Message     string `json:"message"`
	}
	if json.Unmarshal(b, &e) != nil {
		return ""
	}
	var parts []string
	switch v := e.Error.(type) {
	case string:
		parts = append(parts, v)
	case map[string]any:
		if m, ok := v["message"].(string); ok {
			parts = append(parts, m)
		} else if m, ok := v["detail"].(string); ok { // Paddle's
			parts = append(parts, m)
		}
	}
	for _, s := range []string{e.Description, e.Message} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, ": ")
}

// handledBody replaces the body of a response the response handler has
// read: retryablehttp calls checkRetry again after the handler, and that
// second call must not count the attempt twice.
type handledBody struct{}

func (handledBody) Read([]byte) (int, error) { return 0, io.EOF }
func (handledBody) Close() error             { return nil }

// checkRetry decides whether to retry an attempt, and counts the attempts
// that the response handler will not see: transport failures, refused
// redirects and answers that are retried. An answer that is not retried
// goes to the response handler, which counts it once it knows whether its
// body arrived whole. Retries are counted in backoff, which only runs when
// a retry will happen.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	var be *BodyError
	var re *RedirectError
	switch {
	case resp == nil:
		c.count(nil, "error")
		return true, nil
	case errors.As(err, &re):
		c.count(resp, strconv.Itoa(resp.StatusCode))
		return false, err
	case isHandled(resp): // after the response handler, which counted the attempt
		if errors.As(err, &be) {
			return true, nil
		}
		return false, err
	case err != nil:
		c.count(resp, "error")
		return false, err
	}
	retry := false
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		d, ok := retryAfter(resp)
		retry = !ok || d <= c.o.RetryAfterMax
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		retry = true
	}
	if retry {
		c.count(resp, strconv.Itoa(resp.StatusCode))
	}
	return retry, nil
}

func isHandled(resp *http.Response) bool {
	_, ok := resp.Body.(handledBody)
	return ok
}

// retryReason labels a retry of an attempt that ended with resp.
func retryReason(resp *http.Response) string {
	switch {
	case resp == nil:
		return "transport"
	case resp.StatusCode == http.StatusTooManyRequests:
		return "rate_limited"
	case resp.StatusCode >= 500:
		return "server_error"
	default: // a body that could not be read or decoded
		return "transport"
	}
}

// count records one attempt under code, and the quota left that its
// answer announces.
func (c *Client) count(resp *http.Response, code string) {
	if resp != nil {
		for _, h := range c.o.RateLimitHeaders {
			if v, perr := strconv.ParseFloat(resp.Header.Get(h), 64); perr == nil {
				c.o.Metrics.RateLimitRemaining.WithLabelValues(c.o.Source).Set(v)
				break
			}
		}
	}
	c.o.Metrics.Requests.WithLabelValues(c.o.Source, code).Inc()
}

// backoff honours Retry-After on 429 and 503, and otherwise waits an
// exponentially growing, jittered time between min and max.
func (c *Client) backoff(lo, hi time.Duration, attempt int, resp *http.Response) time.Duration {
	reason := retryReason(resp)
	c.o.Metrics.Retries.WithLabelValues(c.o.Source, reason).Inc()
	c.o.Logger.Debug("retrying upstream request", "src", c.o.Source, "reason", reason)
	if resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) {
		if d, ok := retryAfter(resp); ok && d <= c.o.RetryAfterMax {
			return d
		}
	}
	d := lo << min(attempt, 16)
	if d > hi || d <= 0 {
		d = hi
	}
	// Full jitter in [d/2, d]: spreads retries of many exporters apart.
	return d/2 + rand.N(d/2+1)
}

// retryAfter parses a Retry-After header in seconds or as an HTTP date.
func retryAfter(resp *http.Response) (time.Duration, bool) {
	h := resp.Header.Get("Retry-After")
	if h == "" {
		return 0, false
	}
	if s, err := strconv.ParseFloat(h, 64); err == nil && s >= 0 {
		const maxSeconds = 1e9 // ~31 years: longer is "not soon", and would overflow
		return time.Duration(min(s, maxSeconds) * float64(time.Second)), true
	}
	if t, err := http.ParseTime(h); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}
