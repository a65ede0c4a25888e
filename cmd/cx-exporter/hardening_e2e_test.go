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
