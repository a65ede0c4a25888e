package main_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

// Webhooks end to end: the poll interval is 10 minutes, so every change
// the test waits for reaches the metrics through a signed webhook, the
// fetch of the record it names and the same engine and state transaction
// as the poller.

// webhookKey is the series of cx_exporter_webhooks_received_total.
func webhookKey(source, result string) string {
	return e2e.Series("cx_exporter_webhooks_received_total", "source", source, "result", result)
}

// post sends a webhook request and returns the status.
func post(t *testing.T, r *http.Request) int {
	t.Helper()
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusUnauthorized && strings.TrimSpace(string(b)) != "Unauthorized" {
		t.Errorf("a 401 says more than Unauthorized: %q", b)
	}
	return resp.StatusCode
}

// rawPost posts body to url with headers.
func rawPost(t *testing.T, url string, body []byte, h map[string]string) int {
	t.Helper()
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return post(t, r)
}

// webhookCounts is the three results of a source's webhook counter.
type webhookCounts struct{ accepted, rejected, ignored float64 }

func (c webhookCounts) String() string {
	return fmt.Sprintf("accepted=%v rejected=%v ignored=%v", c.accepted, c.rejected, c.ignored)
}

func readWebhookCounts(m map[string]float64, source string) webhookCounts {
	return webhookCounts{m[webhookKey(source, "accepted")], m[webhookKey(source, "rejected")], m[webhookKey(source, "ignored")]}
}

// waitWebhookCounts waits until the source's counters equal want.
func waitWebhookCounts(w *e2e.Waiter, source string, want webhookCounts) map[string]float64 {
	w.T.Helper()
	return w.WaitFor("webhook counters "+want.String(), func(m map[string]float64) bool {
		return readWebhookCounts(m, source) == want
	})
}

// expectSeries asserts every series of want.
func expectSeries(t *testing.T, got, want map[string]float64) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok || g != w {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, w)
		}
	}
}

// within reports whether every series of want is as given.
func within(want map[string]float64) func(m map[string]float64) bool {
	return func(m map[string]float64) bool {
		for k, w := range want {
			if g, ok := m[k]; !ok || g != w {
				return false
			}
		}
		return true
	}
}

// latencies records change-to-metric times for the log.
type latencies []time.Duration

func (l *latencies) wait(w *e2e.Waiter, what string, want map[string]float64) map[string]float64 {
	w.T.Helper()
	start := time.Now()
	m := w.WaitFor(what, within(want))
	*l = append(*l, time.Since(start))
	return m
}

// firstSync waits for the source's first successful sync (the binary may
// have run it before the wait begins).
func firstSync(w *e2e.Waiter) map[string]float64 {
	w.T.Helper()
	return w.WaitFor("the first sync", func(m map[string]float64) bool { return m[e2e.SyncSuccessKey(w.Source)] > 0 })
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
