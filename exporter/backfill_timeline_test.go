package exporter_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/exporter"
	fakefreshdesk "github.com/cx-exporter/cx-exporter/internal/fake/freshdesk"
)

// TestBackfillTimelineResumes: a vendor replayed from its records'
// timestamps (source.Timeline: Freshdesk) resumes an interrupted backfill
// from its checkpoint's time, re-reading the records, and writes the
// same files as an uninterrupted run.
func TestBackfillTimelineResumes(t *testing.T) {
	until := time.Now().UTC().Truncate(24 * time.Hour)
	day0 := until.Add(-72 * time.Hour)
	h := func(n int) time.Time { return day0.Add(time.Duration(n) * time.Hour) }
	fd := fakefreshdesk.NewServer(fakefreshdesk.Options{APIKey: "test-key-not-a-secret", PageSize: 2, NoRateLimit: true})
	t.Cleanup(fd.Close)
	fd.Put(fakefreshdesk.Ticket{ID: 1, Status: 4, Priority: 3, Source: 2, CreatedAt: h(-30), UpdatedAt: h(5),
		Stats: fakefreshdesk.Stats{FirstRespondedAt: h(-29), ResolvedAt: h(5)}})
	fd.Put(fakefreshdesk.Ticket{ID: 2, Status: 2, Priority: 2, Source: 1, CreatedAt: h(25), UpdatedAt: h(50),
		Stats: fakefreshdesk.Stats{FirstRespondedAt: h(26), ResolvedAt: h(30)}})
	fd.Put(fakefreshdesk.Ticket{ID: 3, Status: 5, Priority: 2, Source: 1, CreatedAt: h(26), UpdatedAt: h(60),
		Stats: fakefreshdesk.Stats{FirstRespondedAt: h(40), ResolvedAt: h(60), ClosedAt: h(60)}})
	fd.RateAt(3, -103, h(61))
	for k, v := range map[string]string{"CX_FRESHDESK_URL": fd.URL, "CX_FRESHDESK_API_KEY": "test-key-not-a-secret", "CX_STATE_DIR": t.TempDir()} {
		t.Setenv(k, v)
	}
	cfg, err := exporter.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	resumesLikeWhole(t, cfg, until)

	// The replay reached the engine: the files hold the created tickets.
	res, err := exporter.Backfill(context.Background(), cfg, slog.New(slog.DiscardHandler),
		exporter.BackfillOptions{Since: 72 * time.Hour, Until: until, Step: time.Hour, Out: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Source != "freshdesk" || res[0].Changes == 0 || res[0].Requests != 4 {
		t.Errorf("backfill %+v: want freshdesk's changes in 4 requests (3 tickets at 2 a page, deleted, ratings)", res[0])
	}
}
