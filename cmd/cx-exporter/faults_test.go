package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
)

func TestE2EZendeskFaults(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	s.start()
	s.Synced()
	up := e2e.Series("cx_exporter_source_up", "source", "zendesk", "kind", "zendesk")
	retries := func(reason string) string {
		return e2e.Series("cx_exporter_api_retries_total", "source", "zendesk", "reason", reason)
	}

	// 429 with Retry-After: 2 → the next request no sooner than 2 s later.
	s.zd.SetRetryAfter(2)
	s.zd.ResetRequests()
	s.zd.InjectFault(fakezendesk.Fault429, 1)
	s.zd.Put(fakezendesk.Ticket{ID: 1, Status: "open", Priority: "normal", Channel: "web", CreatedAt: time.Now().UTC()})
	m := s.Synced()
	reqs := s.zd.Requests()
	saw429 := false
	for i, r := range reqs {
		if r.Status == 429 {
			saw429 = true
			if i+1 >= len(reqs) {
				t.Fatal("no request after the 429")
			}
			if gap := reqs[i+1].At.Sub(r.At); gap < 2*time.Second {
				t.Errorf("request %s after a 429 with Retry-After: 2", gap)
			}
			break
		}
	}
	if !saw429 {
		t.Error("the fake never answered 429")
	}
	if m[retries("rate_limited")] < 1 {
		t.Errorf("%s = %v", retries("rate_limited"), m[retries("rate_limited")])
	}

	// A 500 and a truncated body are retried; the ticket still counts once.
	s.zd.InjectFault(fakezendesk.Fault500, 1)
	s.zd.Put(fakezendesk.Ticket{ID: 2, Status: "open", Priority: "normal", Channel: "web", CreatedAt: time.Now().UTC()})
	m = s.Synced()
	s.zd.InjectFault(fakezendesk.FaultTruncated, 1)
	s.zd.Put(fakezendesk.Ticket{ID: 3, Status: "open", Priority: "normal", Channel: "web", CreatedAt: time.Now().UTC()})
	m = s.Synced()
	if m[retries("server_error")] < 1 || m[retries("transport")] < 1 {
		t.Errorf("retries: server_error %v, transport %v; want both ≥ 1", m[retries("server_error")], m[retries("transport")])
	}
	created := hd("helpdesk_tickets_created_total", "normal", "web")
	if m[created] != 3 {
		t.Errorf("%s = %v, want 3", created, m[created])
	}

	// Down: source_up goes 0, and back to 1 once the fake answers again.
	s.zd.InjectFault(fakezendesk.FaultDown, -1)
	s.WaitFor("source_up 0", func(m map[string]float64) bool { v, ok := m[up]; return ok && v == 0 })
	if code, _, _ := s.Exp.Get("/-/healthy"); code != 200 {
		t.Errorf("/-/healthy = %d while a source is down", code)
	}
	s.zd.ClearFaults()
	s.WaitFor("source_up 1", func(m map[string]float64) bool { return m[up] == 1 })
	if strings.Contains(s.Exp.Logs(), e2eToken) {
		t.Error("the API token appears in the logs")
	}

	// SIGTERM in the middle of a 4-page sync: the page in flight is
	// committed, the process exits cleanly, and a restart counts the rest
	// exactly once.
	s.zd.ResetRequests()
	for i := range 20 {
		s.zd.Put(fakezendesk.Ticket{ID: int64(500 + i), Status: "open", Priority: "low", Channel: "chat", CreatedAt: time.Now().UTC()})
	}
	for deadline := time.Now().Add(20 * time.Second); len(s.zd.Requests()) < 2 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	stopped := time.Now()
	if err := s.Exp.Stop(); err != nil {
		t.Fatalf("SIGTERM mid-sync: %v\n%s", err, e2e.Tail(s.Exp.Logs(), 2000))
	}
	if d := time.Since(stopped); d > 5*time.Second {
		t.Errorf("shutdown took %s", d)
	}
	s.start()
	m = s.WaitFor("the 20 tickets", func(m map[string]float64) bool {
		return m[hd("helpdesk_tickets_created_total", "low", "chat")] >= 20
	})
	m = s.Synced()
	if got := m[hd("helpdesk_tickets_created_total", "low", "chat")]; got != 20 {
		t.Errorf("after SIGTERM and restart: %v tickets created, want 20", got)
	}
}

// TestConfigErrors checks that invalid configuration fails at start-up,
// naming the variable, and that -h lists every variable.
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	bin := e2e.Binary(t)
	secret := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte("file-fixture-token-z9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	zd := []string{"CX_ZENDESK_SUBDOMAIN=acme", "CX_ZENDESK_EMAIL=a@example.invalid", "CX_ZENDESK_API_TOKEN=cfg-fixture-token"}
	cases := []struct {
		env  []string
		want string
	}{
		{nil, "no source configured"},
		{append(zd, "CX_POLL_INTERVAL=often"), "CX_POLL_INTERVAL"},
		{append(zd, "CX_TICKET_LABELS=priority,customer"), "CX_TICKET_LABELS"},
		{append(zd, "CX_BUSINESS_HOURS=Mox-Fri 09:00-17:00"), "CX_BUSINESS_HOURS"},
		{append(zd, "CX_TIMEZONE=Mars/Olympus"), "CX_TIMEZONE"},
		{append(zd, "CX_HOLIDAYS=2026-13-40"), "CX_HOLIDAYS"},
		{append(zd, "CX_FIRST_REPLY_TARGETS=urgent=soon"), "CX_FIRST_REPLY_TARGETS"},
		{append(zd, "CX_SLA_HOURS=sometimes"), "CX_SLA_HOURS"},
		{append(zd, "CX_RESOLUTION_TARGETS=urgent=4h,high=1week"), "CX_RESOLUTION_TARGETS"},
		{append(zd, "CX_RESOLUTION_TARGETS=vip=1d"), "CX_RESOLUTION_TARGETS"},
		{append(zd, "CX_SUPPORT_COST_MONTHLY=25000"), "CX_SUPPORT_COST_MONTHLY"},
		{append(zd, "CX_SUPPORT_COST_MONTHLY=lots USD"), "CX_SUPPORT_COST_MONTHLY"},
		{append(zd, "CX_SUPPORT_COST_MONTHLY=-5 USD"), "CX_SUPPORT_COST_MONTHLY"},
		{append(zd, "CX_SUPPORT_COST_MONTHLY=25000 US$"), "CX_SUPPORT_COST_MONTHLY"},
		{append(zd, "CX_LOG_LEVEL=loud"), "CX_LOG_LEVEL"},
		{append(zd, "CX_WEB_CONFIG_FILE=/nonexistent/web.yml"), "CX_WEB_CONFIG_FILE"},
		{[]string{"CX_ZENDESK_SUBDOMAIN=acme", "CX_ZENDESK_EMAIL=a@example.invalid"}, "CX_ZENDESK_API_TOKEN"},
		{append(zd, "CX_ZENDESK_API_TOKEN_FILE="+secret), "CX_ZENDESK_API_TOKEN_FILE"}, // both set
		// A URL's userinfo is never printed, user included.
		{append(zd, "CX_ZENDESK_URL=ftp://cfg-fixture-user:cfg-fixture-token@example.invalid/"), "CX_ZENDESK_URL"},
		{append(zd, "CX_ZENDESK_URL=cfg-fixture-user:cfg-fixture-token@example.invalid"), "CX_ZENDESK_URL"},
	}
	for _, c := range cases {
		cmd := exec.Command(bin)
		cmd.Env = append([]string{"CX_STATE_DIR=" + t.TempDir()}, c.env...)
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("%v: started, want a configuration error", c.env)
			continue
		}
		if !strings.Contains(string(out), c.want) {
			t.Errorf("%v: error does not name %s:\n%s", c.env, c.want, out)
		}
		for _, secret := range []string{"cfg-fixture-token", "file-fixture-token-z9", "cfg-fixture-user"} {
			if strings.Contains(string(out), secret) {
				t.Errorf("%v: the error quotes a secret:\n%s", c.env, out)
			}
		}
	}
	out, err := exec.Command(bin, "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("-h: %v", err)
	}
	for _, v := range []string{"CX_LISTEN_ADDRESS", "CX_STATE_DIR", "CX_ZENDESK_API_TOKEN_FILE", "CX_BUSINESS_HOURS", "CX_MAX_LABEL_VALUES",
		"CX_RESOLUTION_TARGETS", "CX_SUPPORT_COST_MONTHLY", "-demo"} {
		if !strings.Contains(string(out), v) {
			t.Errorf("-h does not list %s", v)
		}
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == "CX_" {
			t.Errorf("-h lists a variable without a name: %q", line)
		}
	}
}
