package main_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

// procStatus reads a "VmHWM:   1234 kB" field of /proc/<pid>/status, bytes.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb << 10
		}
	}
	t.Fatalf("%s not in /proc/%d/status", field, pid)
	return 0
}

// TestSurveyFloodBounded (issue 10, item 2) floods the real binary with
// authenticated survey pushes, all at once: 100 bodies of 1 MiB (≈3,000
// small answers each, over the per-request cap) and 200 bodies of 1,000
// answers with new 200-byte ids (most refused 503: 4 bodies in flight at
// most); then a sustained push of 120,000 new ids, past the 100,000-id
// cap, which each sync prunes back to 90,000. Peak RSS stays within the
// chart's 128 MiB memory limit and the state file under 96 MiB; the
// numbers are logged (go test -v -run TestSurveyFloodBounded ./cmd/cx-exporter/).
func TestSurveyFloodBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("a flood")
	}
	t.Parallel()
	const token = "flood-fixture-token-5k2"
	dir := t.TempDir()
	exp := e2e.Start(t, []string{"CX_SURVEY_TOKEN=" + token, "CX_STATE_DIR=" + dir, "CX_POLL_INTERVAL=1s"})
	before := procStatus(t, exp.Pid(), "VmRSS")

	answer := func(id string) string {
		return fmt.Sprintf(`{"id":%q,"type":"nps","score":9,"created_at":"2026-11-27T08:00:00Z","channel":"web","priority":"normal"}`, id)
	}
	big := func(n int) string {
		var b strings.Builder
		b.WriteString("[")
		for i := 0; b.Len() < 1<<20-200; i++ {
			if i > 0 {
				b.WriteString(",")
			}
			b.WriteString(answer(fmt.Sprintf("big-%d-%d", n, i)))
		}
		b.WriteString("]")
		return b.String()
	}
	capped := func(n int) string {
		items := make([]string, 1000)
		for i := range items {
			items[i] = answer(fmt.Sprintf("flood-%03d-%04d-%s", n, i, strings.Repeat("x", 200)))
		}
		return "[" + strings.Join(items, ",") + "]"
	}
	var bodies []string
	for i := range 100 {
		bodies = append(bodies, big(i))
	}
	for i := range 200 {
		bodies = append(bodies, capped(i))
	}
	codes := map[int]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 60 * time.Second}
	start := time.Now()
	for _, body := range bodies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, "http://"+exp.Addr+"/api/v1/survey-responses", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+token)
			code := 0
			if r, err := client.Do(req); err == nil {
				code = r.StatusCode
				r.Body.Close()
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	took := time.Since(start)
	peak := procStatus(t, exp.Pid(), "VmHWM")
	fi, err := os.Stat(filepath.Join(dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("flood of %d requests at once in %s: answers %v (0: connection closed while sending a refused body); RSS %.1f MiB before, peak %.1f MiB; state.db %.1f MiB",
		len(bodies), took.Round(time.Millisecond), codes, float64(before)/(1<<20), float64(peak)/(1<<20), float64(fi.Size())/(1<<20))
	for code := range codes {
		if code != 0 && code != 200 && code != http.StatusRequestEntityTooLarge && code != http.StatusServiceUnavailable {
			t.Errorf("%d requests answered %d", codes[code], code)
		}
	}

	// Then a sustained push, 4 at a time, of 120,000 new ids: past the
	// 100,000-id cap the exporter answers 503 until a sync prunes.
	codes = map[int]int{}
	work := make(chan int)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				req, _ := http.NewRequest(http.MethodPost, "http://"+exp.Addr+"/api/v1/survey-responses", strings.NewReader(capped(1000+i)))
				req.Header.Set("Authorization", "Bearer "+token)
				code := 0
				if r, err := client.Do(req); err == nil {
					code = r.StatusCode
					r.Body.Close()
				}
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}
		}()
	}
	start = time.Now()
	for i := range 120 {
		work <- i
	}
	close(work)
	wg.Wait()
	took = time.Since(start)
	peak = procStatus(t, exp.Pid(), "VmHWM")
	if fi, err = os.Stat(filepath.Join(dir, "state.db")); err != nil {
		t.Fatal(err)
	}
	t.Logf("sustained push of 120 x 1,000 new ids in %s: answers %v; peak RSS %.1f MiB; state.db %.1f MiB",
		took.Round(time.Millisecond), codes, float64(peak)/(1<<20), float64(fi.Size())/(1<<20))
	if !strings.Contains(exp.Logs(), "survey response ids pruned") {
		t.Error("120,000 new ids and no pruning: the id cap did not hold")
	}
	if peak > 128<<20 {
		t.Errorf("peak RSS %.1f MiB, over the chart's 128 MiB limit", float64(peak)/(1<<20))
	}
	if fi.Size() > 96<<20 {
		t.Errorf("state.db grew to %.1f MiB", float64(fi.Size())/(1<<20))
	}
	if code, _, err := exp.Get("/metrics"); err != nil || code != 200 {
		t.Errorf("/metrics after the flood: %d %v", code, err)
	}
}
