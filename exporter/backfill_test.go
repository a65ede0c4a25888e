package exporter_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/exporter"
	"github.com/cx-exporter/cx-exporter/internal/fake"
	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
)

const agent = 361000000001

// scriptedZendesk is a three-day account: tickets created, replied,
// solved, reopened and rated at known times from day0.
func scriptedZendesk(t *testing.T, day0 time.Time) *fakezendesk.Server {
	zd := fakezendesk.NewServer(fakezendesk.Options{Email: "a@example.invalid", APIToken: "test-token-not-a-secret", RateLimit: 100000, PageSize: 2})
	t.Cleanup(zd.Close)
	h := func(n int) time.Time { return day0.Add(time.Duration(n) * time.Hour) }
	reply := fakezendesk.Comment{AuthorID: agent, Public: true, Body: "On it."}
	status := func(s string) func(*fakezendesk.Ticket) { return func(t *fakezendesk.Ticket) { t.Status = s } }
	t1 := zd.CreateTicket(fakezendesk.Ticket{Priority: "high", Channel: "web", Subject: "one"}, h(1))
	zd.UpdateTicket(t1, h(2), status("open"), reply)
	zd.UpdateTicket(t1, h(5), status("solved"))
	zd.UpdateTicket(t1, h(6), func(t *fakezendesk.Ticket) { t.Satisfaction = "good" })
	zd.CreateTicket(fakezendesk.Ticket{Priority: "normal", Channel: "email", Subject: "two"}, h(25))
	t3 := zd.CreateTicket(fakezendesk.Ticket{Priority: "normal", Channel: "email", Subject: "three"}, h(26))
	zd.UpdateTicket(t3, h(27), status("open"), reply)
	zd.UpdateTicket(t3, h(28), status("solved"))
	zd.UpdateTicket(t3, h(30), status("open"), fakezendesk.Comment{AuthorID: fakezendesk.RequesterID(t3), Public: true, Body: "Still broken"})
	zd.UpdateTicket(t3, h(50), status("solved"), reply)
	return zd
}

func backfillEnv(t *testing.T, zd *fakezendesk.Server) {
	for k, v := range map[string]string{
		"CX_ZENDESK_URL": zd.URL, "CX_ZENDESK_EMAIL": "a@example.invalid", "CX_ZENDESK_API_TOKEN": "test-token-not-a-secret",
		"CX_ZENDESK_PAGE_SIZE": "2", "CX_ZENDESK_EXPORT_RATE": "60000", "CX_STATE_DIR": t.TempDir(),
	} {
		t.Setenv(k, v)
	}
}

// samples reads OpenMetrics files into series → timestamp → value,
// failing on a sample repeated at one timestamp or going back in time.
func samples(t *testing.T, files []string) map[string]map[int64]float64 {
	t.Helper()
	out := map[string]map[int64]float64{}
	last := map[string]int64{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(b, []byte("# EOF\n")) {
			t.Fatalf("%s does not end with # EOF", f)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if strings.HasPrefix(line, "#") {
				continue
			}
			i := strings.LastIndexByte(line, ' ')
			j := strings.LastIndexByte(line[:i], ' ')
			series, v, ts := canonical(line[:j]), line[j+1:i], line[i+1:]
			sec, err := strconv.ParseInt(ts, 10, 64)
			if err != nil {
				t.Fatalf("%s: %q: timestamp: %v", f, line, err)
			}
			val, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %q: value: %v", f, line, err)
			}
			if l, ok := last[series]; ok && sec <= l {
				t.Fatalf("%s: %s at %d after %d: duplicated or out of order", f, series, sec, l)
			}
			last[series] = sec
			if out[series] == nil {
				out[series] = map[int64]float64{}
			}
			out[series][sec] = val
		}
	}
	return out
}

// canonical sorts a series' labels (values without commas).
func canonical(series string) string {
	name, labels, _ := strings.Cut(strings.TrimSuffix(series, "}"), "{")
	l := strings.Split(labels, ",")
	slices.Sort(l)
	return name + "{" + strings.Join(l, ",") + "}"
}

func TestBackfillZendeskHistory(t *testing.T) {
	until := time.Now().UTC().Truncate(24 * time.Hour)
	day0 := until.Add(-72 * time.Hour)
	zd := scriptedZendesk(t, day0)
	backfillEnv(t, zd)
	cfg, err := exporter.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	var progress bytes.Buffer
	res, err := exporter.Backfill(context.Background(), cfg, slog.New(slog.DiscardHandler), exporter.BackfillOptions{
		Since: 72 * time.Hour, Until: until, Step: time.Hour, Out: out, Progress: &progress,
		Labels: map[string]string{"job": "cx-exporter"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Files) != 3 {
		t.Fatalf("results %+v: want one source, three daily files", res)
	}
	if !strings.Contains(progress.String(), "eta=") || !strings.Contains(progress.String(), "100.0%") {
		t.Errorf("progress lines lack an ETA or the end:\n%s", progress.String())
	}
	m := samples(t, res[0].Files)
	at := func(name, labels string, h int) float64 {
		t.Helper()
		s := m[canonical(name+`{job="cx-exporter",`+labels+`,source="zendesk"}`)]
		if s == nil {
			return -1
		}
		v, ok := s[day0.Add(time.Duration(h)*time.Hour).Unix()]
		if !ok {
			return -1
		}
		return v
	}
	web, email := `channel="web",priority="high"`, `channel="email",priority="normal"`
	for _, c := range []struct {
		name, labels string
		hour         int
		want         float64
	}{
		{"helpdesk_tickets_created_total", web, 0, -1}, // no series before its first ticket
		{"helpdesk_tickets_created_total", web, 1, 1},
		{"helpdesk_open_tickets", web + `,status="new"`, 1, 1},
		{"helpdesk_awaiting_first_reply_tickets", web, 1, 1},
		{"helpdesk_open_tickets", web + `,status="open"`, 2, 1},
		{"helpdesk_awaiting_first_reply_tickets", web, 2, 0},
		{"helpdesk_first_reply_seconds_count", web + `,hours="calendar"`, 2, 1},
		{"helpdesk_first_reply_seconds_sum", web + `,hours="calendar"`, 2, 3600},
		{"helpdesk_tickets_solved_total", web, 4, 0},
		{"helpdesk_tickets_solved_total", web, 5, 1},
		{"helpdesk_resolution_seconds_sum", web + `,hours="calendar"`, 5, 4 * 3600},
		{"helpdesk_tickets_solved_first_contact_total", web, 5, 1},
		{"helpdesk_open_tickets", web + `,status="open"`, 5, 0},
		{"helpdesk_satisfaction_ratings_total", web + `,rating="good"`, 6, 1},
		{"helpdesk_tickets_created_total", email, 26, 2},
		{"helpdesk_open_tickets", email + `,status="new"`, 26, 2},
		{"helpdesk_tickets_solved_total", email, 29, 1},
		{"helpdesk_tickets_reopened_total", email, 30, 1},
		{"helpdesk_open_tickets", email + `,status="open"`, 30, 1},
		{"helpdesk_tickets_solved_total", email, 71, 2},
		{"helpdesk_tickets_first_solved_total", email, 71, 1},
		// FCR counts at the first solve (one reply, no reopen yet) and,
		// a counter, keeps it after the reopen.
		{"helpdesk_tickets_solved_first_contact_total", email, 29, 1},
		{"helpdesk_tickets_solved_first_contact_total", email, 71, 1},
		{"helpdesk_open_tickets", email + `,status="new"`, 71, 1},
		{"helpdesk_open_ticket_oldest_age_seconds", email, 71, 46 * 3600},
		{"helpdesk_replies_per_solved_ticket_count", email, 71, 1},
	} {
		if got := at(c.name, c.labels, c.hour); got != c.want {
			t.Errorf("%s{%s} at hour %d = %v, want %v", c.name, c.labels, c.hour, got, c.want)
		}
	}
	for series, s := range m {
		for ts := range s {
			if ts < day0.Unix() || ts >= until.Unix() {
				t.Fatalf("%s has a sample at %d, outside [%d, %d)", series, ts, day0.Unix(), until.Unix())
			}
		}
	}
	// Run again: the checkpoint says it is done, nothing is rewritten.
	again, err := exporter.Backfill(context.Background(), cfg, slog.New(slog.DiscardHandler), exporter.BackfillOptions{
		Since: 72 * time.Hour, Until: until, Step: time.Hour, Out: out, Labels: map[string]string{"job": "cx-exporter"},
	})
	if err != nil || !again[0].AlreadyDone {
		t.Fatalf("second run: %+v, %v; want already done", again, err)
	}
}

// cancelAfter cancels a context at the n-th progress line that ends a
// chunk file.
type cancelAfter struct {
	mu     sync.Mutex
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n--; c.n == 0 {
		c.cancel()
	}
	return len(p), nil
}

func TestBackfillResumesWithoutDuplicates(t *testing.T) {
	until := time.Now().UTC().Truncate(24 * time.Hour)
	day0 := until.Add(-72 * time.Hour)
	zd := scriptedZendesk(t, day0)
	backfillEnv(t, zd)
	cfg, err := exporter.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	resumesLikeWhole(t, cfg, until)
}

// resumesLikeWhole backfills the 72 hours before until once whole, then
// interrupted after its first chunk and resumed, and compares the files.
func resumesLikeWhole(t *testing.T, cfg *exporter.Config, until time.Time) {
	t.Helper()
	opts := func(out string, w io.Writer) exporter.BackfillOptions {
		return exporter.BackfillOptions{Since: 72 * time.Hour, Until: until, Step: 30 * time.Minute, Out: out, Progress: w, ProgressEvery: time.Hour}
	}
	whole := t.TempDir()
	ref, err := exporter.Backfill(context.Background(), cfg, slog.New(slog.DiscardHandler), opts(whole, nil))
	if err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	_, err = exporter.Backfill(ctx, cfg, slog.New(slog.DiscardHandler), opts(out, &cancelAfter{n: 1, cancel: cancel}))
	if err == nil {
		t.Fatal("the interrupted backfill reported success")
	}
	first, _ := filepath.Glob(filepath.Join(out, "*.om"))
	if len(first) == 0 || len(first) >= 3 {
		t.Fatalf("interrupted after the first chunk, %d files are in place, want 1 or 2", len(first))
	}
	var progress bytes.Buffer
	res, err := exporter.Backfill(context.Background(), cfg, slog.New(slog.DiscardHandler), opts(out, &progress))
	if err != nil {
		t.Fatal(err)
	}
	if !res[0].Resumed || !strings.Contains(progress.String(), "resuming at") {
		t.Fatalf("second run did not resume: %+v\n%s", res[0], progress.String())
	}
	if len(res[0].Files) != len(ref[0].Files) {
		t.Fatalf("resumed run has %d files, the uninterrupted one %d", len(res[0].Files), len(ref[0].Files))
	}
	leftovers, _ := filepath.Glob(filepath.Join(out, ".tmp-*"))
	if len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
	samples(t, res[0].Files) // no duplicated sample across the files
	for i := range res[0].Files {
		a, _ := os.ReadFile(ref[0].Files[i])
		b, _ := os.ReadFile(res[0].Files[i])
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from the uninterrupted run's %s", res[0].Files[i], ref[0].Files[i])
		}
	}
}

// TestBackfillResolvesNames: with group in CX_TICKET_LABELS, backfilled
// series carry the group's name read from the vendor's directory, as the
// live source labels them, so that backfilled and live series join; a
// group the directory no longer lists keeps its id.
func TestBackfillResolvesNames(t *testing.T) {
	until := time.Now().UTC().Truncate(24 * time.Hour)
	day0 := until.Add(-24 * time.Hour)
	zd := fakezendesk.NewServer(fakezendesk.Options{Email: "a@example.invalid", APIToken: "test-token-not-a-secret", RateLimit: 100000, PageSize: 2})
	t.Cleanup(zd.Close)
	zd.PutGroup(fake.Person{ID: 601, Name: "Billing"})
	solved := func(t *fakezendesk.Ticket) { t.Status = "solved" }
	reply := fakezendesk.Comment{AuthorID: agent, Public: true, Body: "Done."}
	t1 := zd.CreateTicket(fakezendesk.Ticket{Priority: "high", Channel: "web", Subject: "one", GroupID: 601}, day0.Add(time.Hour))
	zd.UpdateTicket(t1, day0.Add(2*time.Hour), solved, reply)
	t2 := zd.CreateTicket(fakezendesk.Ticket{Priority: "high", Channel: "web", Subject: "two", GroupID: 699}, day0.Add(3*time.Hour))
	zd.UpdateTicket(t2, day0.Add(4*time.Hour), solved, reply)
	backfillEnv(t, zd)
	t.Setenv("CX_TICKET_LABELS", "group")
	cfg, err := exporter.Load(false)
	if err != nil {
		t.Fatal(err)
	}
	res, err := exporter.Backfill(context.Background(), cfg, slog.New(slog.DiscardHandler), exporter.BackfillOptions{
		Since: 24 * time.Hour, Until: until, Step: time.Hour, Out: t.TempDir(), Progress: io.Discard,
	})
	if err != nil {
		t.Fatal(err)
	}
	m := samples(t, res[0].Files)
	solvedBy := func(group string) float64 {
		s := m[canonical(`helpdesk_tickets_solved_total{group="`+group+`",source="zendesk"}`)]
		return s[until.Add(-time.Hour).Unix()]
	}
	if got := solvedBy("Billing"); got != 1 {
		t.Errorf(`solved in group "Billing" = %v, want 1`, got)
	}
	if got := solvedBy("699"); got != 1 {
		t.Errorf(`solved in the unlisted group "699" = %v, want 1 (its id)`, got)
	}
	for series := range m {
		if strings.Contains(series, `group="601"`) {
			t.Errorf("backfilled series labelled by a listed group's id: %s", series)
		}
	}
	n := 0
	for _, r := range zd.Requests() {
		if r.Path == fakezendesk.GroupsPath {
			n++
		}
	}
	if n == 0 || n > 3 {
		t.Errorf("%d groups directory requests, want 1 to 3 (one read, and a re-read for an unknown id at most every 5 minutes)", n)
	}
}
