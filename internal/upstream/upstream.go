// Package upstream is the HTTP client every collector talks to its vendor
// with: go-retryablehttp with a per-request timeout, jittered exponential
// backoff on transport errors, 5xx and broken bodies, Retry-After honoured
// on 429 and 503, a bounded number of attempts, a size limit on responses,
// and the cx_exporter_api_* self-metrics. Errors name the source, the
// endpoint and the status, never the credentials.
package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"time"

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
	// MaxBody refuses larger responses (default 64 MiB).
	MaxBody int64
	// Authorize sets the credentials on each request.
	Authorize func(*http.Request)
	// RateLimitHeaders name the headers holding the quota left, first found wins.
	RateLimitHeaders []string
	Metrics          *Metrics
	Logger           *slog.Logger
}

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
		o.MaxBody = 64 << 20
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{o: o}
	hc := retryablehttp.NewClient()
	hc.HTTPClient.Timeout = o.Timeout
	hc.RetryMax = o.RetryMax
	hc.RetryWaitMin, hc.RetryWaitMax = o.RetryWaitMin, o.RetryWaitMax
	hc.Logger = nil
	hc.CheckRetry = c.checkRetry
	hc.Backoff = c.backoff
	hc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	c.hc = hc
	return c
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
type BodyError struct{ err error }

func (e *BodyError) Error() string { return e.err.Error() }
func (e *BodyError) Unwrap() error { return e.err }

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

// RejectMalformedBody reports err to reject as a malformed_page when it
// is a BodyError (the page could not be read or decoded), and returns err.
func RejectMalformedBody(err error, reject func(id, reason string, err error)) error {
	var be *BodyError
	if errors.As(err, &be) {
		reject("", "malformed_page", err)
	}
	return err
}

// MalformedPage reports a page that decoded but did not make sense to
// reject as a malformed_page, and returns err as "source: path: err".
func MalformedPage(source, path string, err error, reject func(id, reason string, err error)) error {
	reject("", "malformed_page", err)
	return fmt.Errorf("%s: %s: %w", source, path, err)
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
	if c.o.Authorize != nil {
		c.o.Authorize(req.Request)
	}
	var statusErr *StatusError
	req.SetResponseHandler(func(resp *http.Response) error {
		defer func() { resp.Body.Close(); resp.Body = handledBody{} }()
		b, err := io.ReadAll(io.LimitReader(resp.Body, c.o.MaxBody+1))
		if err != nil {
			return &BodyError{fmt.Errorf("reading body: %w", err)}
		}
		if int64(len(b)) > c.o.MaxBody {
			return errTooLarge
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			statusErr = &StatusError{Source: c.o.Source, Method: method, Endpoint: endpoint,
				Status: resp.StatusCode, Message: vendorMessage(b)}
			statusErr.RetryAfter, _ = retryAfter(resp)
			return statusErr
		}
		if err := json.Unmarshal(b, v); err != nil {
			return &BodyError{fmt.Errorf("decoding body: %w", err)}
		}
		return nil
	})
	resp, err := c.hc.Do(req)
	if statusErr != nil {
		return nil, statusErr
	}
	if err == nil && resp != nil && (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) {
		// Retries exhausted on a status that is normally retried.
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		e := &StatusError{Source: c.o.Source, Method: method, Endpoint: endpoint, Status: resp.StatusCode, Message: vendorMessage(b)}
		e.RetryAfter, _ = retryAfter(resp)
		return nil, e
	}
	if err != nil {
		if resp != nil {
			resp.Body.Close()
		}
		return nil, fmt.Errorf("%s: %s %s: %w", c.o.Source, method, endpoint, cleanErr(err))
	}
	return resp.Header, nil
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
		}
	}
	for _, s := range []string{e.Description, e.Message} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	msg := ""
	for i, p := range parts {
		if i > 0 {
			msg += ": "
		}
		msg += p
	}
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return msg
}

// handledBody replaces the body of a response the response handler has
// read: retryablehttp calls checkRetry again after the handler, and that
// second call must not count the attempt twice.
type handledBody struct{}

func (handledBody) Read([]byte) (int, error) { return 0, io.EOF }
func (handledBody) Close() error             { return nil }

// checkRetry counts each attempt and decides whether to retry it. Retries
// are counted in backoff, which only runs when a retry will happen.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if resp == nil {
		c.count(nil, err)
	} else if _, handled := resp.Body.(handledBody); !handled {
		c.count(resp, err)
	}
	var be *BodyError
	switch {
	case errors.As(err, &be):
		return true, nil
	case err != nil && resp == nil:
		return true, nil
	case err != nil:
		return false, err
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		if d, ok := retryAfter(resp); ok && d > c.o.RetryAfterMax {
			return false, nil
		}
		return true, nil
	case resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented:
		return true, nil
	default:
		return false, nil
	}
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

func (c *Client) count(resp *http.Response, err error) {
	code := "error"
	if err == nil && resp != nil {
		code = strconv.Itoa(resp.StatusCode)
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
