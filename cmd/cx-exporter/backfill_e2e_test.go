package main_test

import (
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
)

// TestE2EBackfillLongerThanSyncTimeout (issue 10, item 1) scales the
// 100k-ticket first backfill down: 60 tickets of history, 5 a page, one
// page every 0.5 s (≈6 s in all) against a CX_SYNC_TIMEOUT of 1 s. Every
// sync runs out of time after committing pages; none of them is a failure:
// cx_exporter_source_up never reads 0 once a sync has ended, the backfill
// shows as such, the backlog is not exported while it climbs, and the sync
// that reaches the end of the stream completes the backfill.
func TestE2EBackfillLongerThanSyncTimeout(t *testing.T) {
	t.Parallel()
	s := newScenario(t)
	const history = 60
	created := time.Now().UTC().Add(-48 * time.Hour)
	for i := 1; i <= history; i++ {
		s.zd.Put(fakezendesk.Ticket{ID: int64(i), Status: "open", Priority: "normal", Channel: "web", CreatedAt: created})
	}
	s.env = append(s.env, "CX_SYNC_TIMEOUT=1s")
	s.start()

	up := e2e.Series("cx_exporter_source_up", "source", "zendesk", "kind", "zendesk")
	duration := e2e.Series("cx_exporter_last_sync_duration_seconds", "source", "zendesk")
	backfill := e2e.Series("cx_exporter_backfill_in_progress", "source", "zendesk")
	open := hd("helpdesk_open_tickets", "normal", "web", "status", "open")
	sawBackfill, sawPartial := false, false
	deadline := time.Now().Add(60 * time.Second)
	for {
		text, err := s.Exp.Scrape()
		if err != nil {
			t.Fatal(err)
		}
		m, err := e2e.Samples(text)
		if err != nil {
			t.Fatal(err)
		}
		if b, ok := m[backfill]; !ok {
			t.Fatalf("%s is not exported", backfill)
		} else if b == 1 {
			sawBackfill = true
			if strings.Contains(text, "helpdesk_open_tickets{") {
				t.Fatalf("the backlog is exported while the backfill is in progress:\n%s", text)
			}
			if _, ended := m[duration]; ended {
				sawPartial = true
				if m[up] != 1 {
					t.Fatalf("cx_exporter_source_up = %v during a healthy backfill\n%s", m[up], e2e.Tail(s.Exp.Logs(), 3000))
				}
			}
		} else {
			if m[open] != history {
				t.Errorf("after the backfill %s = %v, want %d", open, m[open], history)
			}
			if m[up] != 1 {
				t.Errorf("cx_exporter_source_up = %v after the backfill", m[up])
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("backfill not complete after 60s\n%s", e2e.Tail(s.Exp.Logs(), 3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !sawBackfill || !sawPartial {
		t.Errorf("never saw the backfill in progress (%v) after a sync ran out of time (%v): the test proves nothing", sawBackfill, sawPartial)
	}
	logs := s.Exp.Logs()
	if strings.Contains(logs, "sync failed") {
		t.Errorf("a healthy backfill logged a failed sync:\n%s", e2e.Tail(logs, 3000))
	}
	if !strings.Contains(logs, "ran out of time after committing pages") || !strings.Contains(logs, "first backfill complete") {
		t.Errorf("logs lack the partial syncs or the end of the backfill:\n%s", e2e.Tail(logs, 3000))
	}
	// A restart does not start a backfill over.
	if err := s.Exp.Stop(); err != nil {
		t.Fatal(err)
	}
	s.start()
	if m := s.Samples(); m[backfill] != 0 {
		t.Errorf("after a restart %s = %v", backfill, m[backfill])
	}
}
