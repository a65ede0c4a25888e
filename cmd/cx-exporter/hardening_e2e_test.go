package main_test

import (
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

// TestE2EEchoedCredentialsNeverShown: an upstream whose 401 body echoes
// the request's Authorization header (and the user and password in it).
// Neither the log nor the unauthenticated landing page shows any of it.
func TestE2EEchoedCredentialsNeverShown(t *testing.T) {
	t.Parallel()
	basic := base64.StdEncoding.EncodeToString([]byte(e2eEmail + "/token:" + e2eToken))
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":"Couldn't authenticate you","description":"Authorization: %s (user %s, password %s)\r\n<script>x</script>"}`,
			r.Header.Get("Authorization"), u, p)
	}))
	t.Cleanup(up.Close)
	exp := e2e.Start(t, []string{
		"CX_ZENDESK_URL=" + up.URL,
		"CX_ZENDESK_EMAIL=" + e2eEmail,
		"CX_ZENDESK_API_TOKEN=" + e2eToken,
		"CX_STATE_DIR=" + t.TempDir(),
		"CX_POLL_INTERVAL=1s",
		"CX_HTTP_RETRIES=0",
		"CX_LOG_LEVEL=debug",
	})
	var page string
	for deadline := time.Now().Add(20 * time.Second); ; {
		_, body, err := exp.Get("/")
		if err == nil && strings.Contains(body, "401") {
			page = body
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the landing page never showed the 401:\n%s\n%s", body, e2e.Tail(exp.Logs(), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(exp.Logs(), "sync failed") {
		t.Fatalf("no sync failure logged:\n%s", exp.Logs())
	}
	shown := map[string]string{"landing page": html.UnescapeString(page), "log": exp.Logs()}
	for where, text := range shown {
		for _, secret := range []string{e2eToken, basic, "Basic " + basic} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s shows %q:\n%s", where, secret, text)
			}
		}
		if !strings.Contains(text, "[REDACTED]") {
			t.Errorf("the %s does not show the redacted vendor text:\n%s", where, text)
		}
	}
	if strings.Contains(page, "<script>") {
		t.Errorf("the landing page renders the vendor's markup:\n%s", page)
	}
}

// shutdownBound is how soon after SIGTERM the process must have exited,
// whatever the upstream does: the kit's 5 s fetch grace plus the HTTP
// server's shutdown, a third of the chart's terminationGracePeriodSeconds.
const shutdownBound = 10 * time.Second

// TestE2ESigtermBounded: SIGTERM while a fetch hangs (an upstream that
// never answers, with the default 30 s request timeout and 4 retries) or
// waits out a 429 with Retry-After: 120 exits cleanly within
// shutdownBound. It used to take 159 s and over 240 s.
func TestE2ESigtermBounded(t *testing.T) {
	t.Parallel()
	cases := map[string]func(w http.ResponseWriter, r *http.Request, release <-chan struct{}){
		"hung upstream": func(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		},
		"429 Retry-After 120": func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
			w.Header().Set("Retry-After", "120")
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprintln(w, "Number of allowed incremental export API requests per minute exceeded")
		},
	}
	for name, handle := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			served := make(chan struct{}, 100)
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				served <- struct{}{}
				handle(w, r, release)
			}))
			t.Cleanup(up.Close)
			t.Cleanup(func() { close(release) })
			exp := e2e.Start(t, []string{
				"CX_ZENDESK_URL=" + up.URL,
				"CX_ZENDESK_EMAIL=" + e2eEmail,
				"CX_ZENDESK_API_TOKEN=" + e2eToken,
				"CX_STATE_DIR=" + t.TempDir(),
			})
			select {
			case <-served:
			case <-time.After(20 * time.Second):
				t.Fatalf("no request reached the upstream:\n%s", exp.Logs())
			}
			time.Sleep(500 * time.Millisecond) // inside the request, or the retry wait
			start := time.Now()
			err := exp.Stop()
			took := time.Since(start)
			t.Logf("exited %s after SIGTERM", took.Round(10*time.Millisecond))
			if err != nil {
				t.Fatalf("SIGTERM: %v\n%s", err, e2e.Tail(exp.Logs(), 2000))
			}
			if took > shutdownBound {
				t.Errorf("exited %s after SIGTERM, want within %s", took, shutdownBound)
			}
		})
	}
}
