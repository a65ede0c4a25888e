package upstream

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// origins records whether a server was reached, and with which credentials.
type origins struct {
	mu   sync.Mutex
	auth []string
}

func (o *origins) handler(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.auth = append(o.auth, r.Header.Get("Authorization"))
	o.mu.Unlock()
	writeJSON(w, http.StatusOK, okBody)
}

func (o *origins) seen() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.auth...)
}

// TestRedirectToAnotherOriginRefused: a redirect to another port, from
// https to http, or to another host is an error naming the source and the
// endpoint, is not followed, and the credentials never reach the target.
func TestRedirectToAnotherOriginRefused(t *testing.T) {
	const token = "redirect-SECRET-token-7f"
	target := &origins{}
	plain := httptest.NewServer(http.HandlerFunc(target.handler)) // http, another port
	t.Cleanup(plain.Close)
	plainURL, _ := url.Parse(plain.URL)

	redirector := func(to string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, to+exportURL+"?cursor=abc", http.StatusFound)
		})
	}
	tlsSrv := httptest.NewTLSServer(redirector(plain.URL))
	t.Cleanup(tlsSrv.Close)
	portSrv := httptest.NewServer(redirector(plain.URL))
	t.Cleanup(portSrv.Close)
	// The same listener under another name: another host, same port.
	hostSrv := httptest.NewServer(nil)
	hostSrv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.Host, "localhost:") {
			target.handler(w, r)
			return
		}
		http.Redirect(w, r, "http://localhost:"+mustPort(t, hostSrv.URL)+exportURL, http.StatusMovedPermanently)
	})
	t.Cleanup(hostSrv.Close)

	cases := []struct {
		name, url, to string
		client        *http.Client
	}{
		{"other port", portSrv.URL, "http://127.0.0.1:" + plainURL.Port(), nil},
		{"https to http", tlsSrv.URL, "http://127.0.0.1:" + plainURL.Port(), tlsSrv.Client()},
		{"other host", hostSrv.URL, "http://localhost:" + mustPort(t, hostSrv.URL), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := newMetrics(t)
			o := testOptions(m)
			o.Authorize = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
			c := New(o)
			if tc.client != nil {
				c.hc.HTTPClient.Transport = tc.client.Transport
			}
			_, err := c.GetJSON(context.Background(), tc.url+exportURL+"?cursor=Y3Vyc29yU2VjcmV0", &page{})
			var re *RedirectError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a RedirectError", err)
			}
			if re.To != tc.to {
				t.Errorf("To = %q, want %q", re.To, tc.to)
			}
			for _, want := range []string{source, exportURL, "redirect", tc.to} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not name %q", err, want)
				}
			}
			for _, leak := range []string{token, "Y3Vyc29yU2VjcmV0"} {
				if strings.Contains(err.Error(), leak) {
					t.Errorf("error %q contains %q", err, leak)
				}
			}
			if seen := target.seen(); len(seen) != 0 {
				t.Errorf("the redirect was followed: the target saw %d requests (Authorization %q)", len(seen), seen)
			}
			if got := requests(m, "302") + requests(m, "301"); got != 1 {
				t.Errorf("requests{30x} = %v, want 1", got)
			}
			if n := series(m.Retries); n != 0 {
				t.Errorf("a refused redirect was retried (%d retries series)", n)
			}
		})
	}
}

func mustPort(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port()
}

// TestSameOriginRedirectFollowed: a redirect within the origin is
// followed, with the credentials.
func TestSameOriginRedirectFollowed(t *testing.T) {
	const token = "same-origin-token-42"
	var gotAuth atomic.Value
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, exportURL, http.StatusTemporaryRedirect)
	})
	mux.HandleFunc(exportURL, func(w http.ResponseWriter, r *http.Request) {
		gotAuth.Store(r.Header.Get("Authorization"))
		writeJSON(w, http.StatusOK, okBody)
	})
	s := httptest.NewServer(mux)
	t.Cleanup(s.Close)
	o := testOptions(newMetrics(t))
	o.Authorize = func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
	var v page
	if _, err := New(o).GetJSON(context.Background(), s.URL+"/old", &v); err != nil {
		t.Fatal(err)
	}
	if v.Count != 3 {
		t.Errorf("decoded %+v", v)
	}
	if got, _ := gotAuth.Load().(string); got != "Bearer "+token {
		t.Errorf("Authorization after a same-origin redirect = %q", got)
	}
}

// endless is a JSON body that never ends: `{"pad":"aaaa…`.
type endless struct{ started bool }

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	if !e.started {
		n = copy(p, `{"pad":"`)
		e.started = true
	}
	for i := n; i < len(p); i++ {
		p[i] = 'a'
	}
	return len(p), nil
}

// TestOversizedBodyBoundedHeap streams a 200 MiB body (no Content-Length)
// and checks that it is refused once past the limit, with the heap
// allocated while reading it bounded by a small multiple of the limit,
// not by the body: the decoder's buffer doubles up to twice the limit, and
// the smaller buffers it outgrew are garbage until the next GC. The old
// io.ReadAll of up to 64 MiB needed several times 64 MiB.
func TestOversizedBodyBoundedHeap(t *testing.T) {
	const body = 200 << 20
	var sent atomic.Int64
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		k, _ := io.Copy(w, io.LimitReader(&endless{}, body))
		sent.Add(k)
	})
	m := newMetrics(t)
	c := New(testOptions(m)) // the default limit
	// ReadMemStats is process-wide: anything else the process does while
	// the body is read (under a loaded machine, the test server's and the
	// runtime's own work) adds to the figures, never takes from them. The
	// client's own cost is the same each time, so the least of three reads
	// is the measurement.
	var peak, alloc uint64
	reads := 0
	for i := 0; i < 3; i++ {
		reads++
		p, a := measureHeap(t, func() {
			_, err := c.GetJSON(context.Background(), s.url(), &page{})
			if !errors.Is(err, errTooLarge) {
				t.Errorf("err = %v, want errTooLarge", err)
			}
		})
		if i == 0 || p < peak {
			peak = p
		}
		if i == 0 || a < alloc {
			alloc = a
		}
		if peak <= 4*DefaultMaxBody && alloc <= 5*DefaultMaxBody {
			break
		}
	}
	t.Logf("limit %d MiB, body %d MiB: peak heap in use +%.1f MiB, allocated %.1f MiB",
		DefaultMaxBody>>20, body>>20, float64(peak)/(1<<20), float64(alloc)/(1<<20))
	if limit := uint64(4 * DefaultMaxBody); peak > limit {
		t.Errorf("peak heap in use grew by %d MiB, want at most %d MiB", peak>>20, limit>>20)
	}
	if limit := uint64(5 * DefaultMaxBody); alloc > limit {
		t.Errorf("allocated %d MiB reading the body, want at most %d MiB", alloc>>20, limit>>20)
	}
	if got, calls := requests(m, "200"), float64(reads); got != calls {
		t.Errorf("requests{200} = %v after %v reads, want one each: an oversized body is not retried", got, calls)
	}
	if DefaultMaxBody > 32<<20 {
		t.Errorf("DefaultMaxBody %d MiB: too close to the chart's 128 MiB memory limit", DefaultMaxBody>>20)
	}
}

// measureHeap runs f and returns the peak growth of the heap in use over
// the baseline (sampled every millisecond) and the bytes f allocated.
func measureHeap(t *testing.T, f func()) (peak, alloc uint64) {
	t.Helper()
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var max atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > base.HeapInuse && ms.HeapInuse-base.HeapInuse > max.Load() {
				max.Store(ms.HeapInuse - base.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	var end runtime.MemStats
	runtime.ReadMemStats(&end)
	return max.Load(), end.TotalAlloc - base.TotalAlloc
}

// BenchmarkOversizedBody reports the bytes allocated to refuse a 200 MiB
// body: `go test -run '^$' -bench OversizedBody -benchmem ./internal/upstream/`.
func BenchmarkOversizedBody(b *testing.B) {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = io.Copy(w, io.LimitReader(&endless{}, 200<<20))
	}))
	defer s.Close()
	c := New(Options{Source: source, RetryMax: -1, Metrics: NewMetrics(prometheus.NewRegistry())})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.GetJSON(context.Background(), s.URL, &page{}); !errors.Is(err, errTooLarge) {
			b.Fatal(err)
		}
	}
}

// TestAnnouncedOversizedBodyNotRead: a Content-Length over the limit is
// refused before the body is read.
func TestAnnouncedOversizedBodyNotRead(t *testing.T) {
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(2<<20))
		w.WriteHeader(http.StatusOK)
		_, _ = io.Copy(w, io.LimitReader(&endless{}, 2<<20))
	})
	o := testOptions(newMetrics(t))
	o.MaxBody = 1 << 20
	_, err := New(o).GetJSON(context.Background(), s.url(), &page{})
	if !errors.Is(err, errTooLarge) || !strings.Contains(err.Error(), "announced") {
		t.Errorf("err = %v, want errTooLarge for the announced length", err)
	}
}

// TestEchoedCredentialsRedacted: an upstream whose error body echoes the
// request's credentials (the Authorization header, the basic-auth user and
// password, a bearer token, an API-key header) and control characters:
// none of it reaches the error or the log.
func TestEchoedCredentialsRedacted(t *testing.T) {
	const (
		user   = "admin@acme.example/token"
		pass   = "Zx9SECRETapiTOKENqq"
		bearer = "bearer-SECRET-0123456789"
		apiKey = "key-SECRET-abcdef"
	)
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	authorizers := map[string]func(*http.Request){
		"basic":   func(r *http.Request) { r.SetBasicAuth(user, pass) },
		"bearer":  func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+bearer) },
		"api key": func(r *http.Request) { r.Header.Set("X-Api-Key", apiKey) },
	}
	for name, authorize := range authorizers {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
				echo := r.Header.Get("Authorization") + " " + r.Header.Get("X-Api-Key")
				u, p, _ := r.BasicAuth()
				body := fmt.Sprintf(`{"error":"Unauthorized","description":"bad credentials %s (user %s, password %s)\u001b[31m\r\nInjected: line\u202e"}`, echo, u, p)
				writeJSON(w, http.StatusUnauthorized, body)
			})
			var logs bytes.Buffer
			o := testOptions(newMetrics(t))
			o.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			o.Authorize = authorize
			_, err := New(o).GetJSON(context.Background(), s.url(), &page{})
			var se *StatusError
			if !errors.As(err, &se) || se.Status != http.StatusUnauthorized {
				t.Fatalf("err = %v, want a 401 StatusError", err)
			}
			msg := err.Error()
			for _, secret := range []string{pass, bearer, apiKey, basic, strings.TrimPrefix(basic, "Basic "), user} {
				if strings.Contains(msg, secret) || strings.Contains(logs.String(), secret) {
					t.Errorf("the error or the log contains %q: %q", secret, msg)
				}
			}
			if !strings.Contains(msg, "[REDACTED]") || !strings.Contains(msg, "bad credentials") {
				t.Errorf("error %q: want the vendor's text with the credentials redacted", msg)
			}
			if strings.ContainsAny(msg, "\x1b\r\n\u202e") {
				t.Errorf("error %q keeps control characters", msg)
			}
			if len(se.Message) > maxMessageLen {
				t.Errorf("message of %d bytes, want at most %d", len(se.Message), maxMessageLen)
			}
		})
	}
}

func TestSanitize(t *testing.T) {
	tests := []struct {
		in      string
		max     int
		secrets []string
		want    string
	}{
		{"plain", 100, nil, "plain"},
		{"a\nb\tc\rd", 100, nil, "a b c d"},
		{"bell\x07 esc\x1b[0m bidi\u202eend", 100, nil, "bell esc[0m bidiend"},
		{"bad \xff utf8", 100, nil, "bad  utf8"},
		{"token s3cr3t-token and s3cr3t", 100, []string{"s3cr3t-token", "s3cr3t"}, "token [REDACTED] and [REDACTED]"},
		{"split s3c\x00r3t", 100, []string{"s3cr3t"}, "split [REDACTED]"},
		{strings.Repeat("é", 100), 11, nil, "éééé…"},
	}
	for _, tc := range tests {
		if got := Sanitize(tc.in, tc.max, tc.secrets...); got != tc.want {
			t.Errorf("Sanitize(%q, %d) = %q, want %q", tc.in, tc.max, got, tc.want)
		}
	}
}

// TestBodyFaultsClassified: a cut, unreadable or non-JSON body is a
// transport fault (requests{code="error"}, retried); complete JSON of the
// wrong shape is Malformed.
func TestBodyFaultsClassified(t *testing.T) {
	tests := []struct {
		name      string
		write     func(w http.ResponseWriter)
		malformed bool
	}{
		{"truncated", func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, `{"count":3,"after_cur`) }, false},
		{"cut short of Content-Length", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "200")
			writeJSON(w, http.StatusOK, `{"count":3,`)
		}, false},
		{"not JSON", func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, `<html>proxy error</html>`) }, false},
		{"wrong type", func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, `{"count":"three"}`) }, true},
		{"data after the value", func(w http.ResponseWriter) { writeJSON(w, http.StatusOK, okBody+`{"count":4}`) }, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) { tc.write(w) })
			m := newMetrics(t)
			o := testOptions(m)
			o.RetryMax = 1
			_, err := New(o).GetJSON(context.Background(), s.url(), &page{})
			var be *BodyError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v, want a BodyError", err)
			}
			if be.Malformed != tc.malformed {
				t.Errorf("Malformed = %v, want %v (%v)", be.Malformed, tc.malformed, err)
			}
			code := "error"
			if tc.malformed {
				code = "200"
			}
			if got := requests(m, code); got != 2 {
				t.Errorf("requests{code=%q} = %v, want 2", code, got)
			}
		})
	}
}

// TestBodyReadTimeoutIsTransportFault: a body that stalls past the
// request timeout is a transport fault, retried.
func TestBodyReadTimeoutIsTransportFault(t *testing.T) {
	release := make(chan struct{})
	s := newServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n == 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write([]byte(`{"count":`))
			w.(http.Flusher).Flush()
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		writeJSON(w, http.StatusOK, okBody)
	})
	t.Cleanup(func() { close(release) })
	m := newMetrics(t)
	o := testOptions(m)
	o.Timeout = 200 * time.Millisecond
	var v page
	if _, err := New(o).GetJSON(context.Background(), s.url(), &v); err != nil {
		t.Fatal(err)
	}
	if got := requests(m, "error"); got != 1 {
		t.Errorf(`requests{code="error"} = %v, want 1`, got)
	}
	if got := retries(m, "transport"); got != 1 {
		t.Errorf("retries{transport} = %v, want 1", got)
	}
}

func TestCredentialsOfARequest(t *testing.T) {
	r, _ := http.NewRequest(http.MethodGet, "https://apiuser:apipass@example.invalid/x", nil)
	r.Header.Set("User-Agent", userAgent)
	before := r.Header.Clone()
	r.SetBasicAuth("key-0123", "X")
	r.Header.Set("Stripe-Version", "2024-06-20")
	r.Header.Set("X-Api-Key", "k-abcdef")
	got := credentials(before, r)
	want := map[string]bool{"Basic " + base64.StdEncoding.EncodeToString([]byte("key-0123:X")): true,
		base64.StdEncoding.EncodeToString([]byte("key-0123:X")): true, "key-0123:X": true, "key-0123": true,
		"k-abcdef": true, "apiuser": true, "apipass": true}
	for _, c := range got {
		if !want[c] {
			t.Errorf("credentials include %q", c)
		}
		delete(want, c)
	}
	for c := range want {
		t.Errorf("credentials miss %q", c)
	}
}
