package stripe

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/source"
	"github.com/cx-exporter/cx-exporter/internal/state"
	"github.com/cx-exporter/cx-exporter/internal/upstream"
)

// stripeMock finds the pinned stripe-mock in <repo>/bin, then on PATH.
func stripeMock(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "..", "bin", "stripe-mock")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath("stripe-mock"); err == nil {
		return p
	}
	t.Fatal("stripe-mock not found in ./bin or PATH: run make tools")
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startStripeMock runs stripe-mock on a free HTTP port (HTTPS on another)
// and returns its base URL.
func startStripeMock(t *testing.T) string {
	t.Helper()
	bin := stripeMock(t)
	httpPort, httpsPort := freePort(t), freePort(t)
	cmd := exec.Command(bin, "-http-port", fmt.Sprint(httpPort), "-https-port", fmt.Sprint(httpsPort))
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := fmt.Sprintf("127.0.0.1:%d", httpPort)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return "http://" + addr
		}
		if time.Now().After(deadline) {
			t.Fatalf("stripe-mock not listening after 20s:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestStripeMockConformance runs the real collector against stripe-mock,
// which checks every path and parameter against Stripe's OpenAPI spec: a
// full sync, an incremental one, and the follow-up requests (items
// paging, discount and coupon look-ups). Every request must be answered
// 2xx. stripe-mock's fixtures are nonsense, so rejected records are fine.
func TestStripeMockConformance(t *testing.T) {
	base := startStripeMock(t)
	reg := prometheus.NewRegistry()
	metrics := upstream.NewMetrics(reg)
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	var rejects []string
	c, err := New(Options{
		Deps:     source.Deps{Name: "stripe", Client: upstream.Options{Metrics: metrics, RetryMax: -1, Timeout: 10 * time.Second}, State: store.Source("stripe"), Reject: func(id, reason string, err error) { rejects = append(rejects, reason+": "+err.Error()) }},
		BaseURL:  base,
		APIKey:   "sk_test_123",
		PageSize: 100,
		Tracker:  billing.NewTracker(billing.Config{Watermark: time.Now()}),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := c.Sync(ctx); err != nil {
		t.Fatalf("full sync: %v", err)
	}
	cur, err := c.loadCursor()
	if err != nil || cur.Mode != "events" {
		t.Fatalf("cursor after the full sync = %+v, %v; want events mode", cur, err)
	}
	if err := c.Sync(ctx); err != nil {
		t.Fatalf("incremental sync: %v", err)
	}
	// The follow-up requests, which stripe-mock's fixtures never trigger.
	p := &pending{raw: subscriptionJSON{ID: "sub_123"}, itemsHasMore: true}
	if err := c.pageItems(ctx, p); err != nil {
		t.Fatalf("subscription items: %v", err)
	}
	look := &lookup{c: c, ctx: ctx, sub: "sub_123", mem: map[string][]byte{}, put: map[string][]byte{}}
	look.discount("di_123")
	look.coupon("co_123")
	if look.err != nil {
		t.Fatalf("look-ups: %v", look.err)
	}
	t.Logf("rejected (expected with stripe-mock's fixtures): %q", rejects)

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, mf := range mfs {
		if mf.GetName() != "cx_exporter_api_requests_total" {
			continue
		}
		for _, m := range mf.Metric {
			code := label(m, "code")
			total += m.GetCounter().GetValue()
			if !strings.HasPrefix(code, "2") {
				t.Errorf("stripe-mock answered %v request(s) with %s", m.GetCounter().GetValue(), code)
			}
		}
	}
	if total < 6 {
		t.Errorf("%v requests made, want at least 6 (marker, list, events ×2, items, look-ups)", total)
	}
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.Label {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
