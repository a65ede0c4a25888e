package survey

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// demoToken enables the survey endpoint in demo mode when CX_SURVEY_TOKEN
// is unset; the simulated survey tool posts with it.
const demoToken = "demo-survey-token-not-a-secret"

// demo simulates a survey tool: every second it posts one NPS, one CSAT and one CES
// answer to the exporter's own endpoint.
func demo(c *Config) (*source.DemoRun, error) {
	c.Token = demoToken
	return &source.DemoRun{
		Title: "survey tool",
		Simulate: func(ctx context.Context, self string, logger *slog.Logger) {
			if self != "" {
				simulateSurveys(ctx, self+SurveyPath, logger)
			}
		},
		Close: func() {},
	}, nil
}

// simulateSurveys posts to url until ctx ends.
func simulateSurveys(ctx context.Context, url string, logger *slog.Logger) {
	rnd := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed))
	run := strconv.FormatUint(rnd.Uint64(), 36) // ids are unique across demo runs
	client := &http.Client{Timeout: 5 * time.Second}
	t := time.NewTicker(time.Second)
	defer t.Stop()
	pick := func(vals []string) string { return vals[rnd.IntN(len(vals))] }
	priorities := append([]string{""}, helpdesk.Priorities...) // "": not given
	channels := append([]string{""}, helpdesk.Channels...)
	failed := false
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := time.Now().UTC().Format(time.RFC3339)
		var nps int
		switch p := rnd.IntN(100); {
		case p < 50: // promoters ~50%
			nps = 9 + rnd.IntN(2)
		case p < 80: // passives ~30%
			nps = 7 + rnd.IntN(2)
		default: // detractors ~20%
			nps = rnd.IntN(7)
		}
		csat := [...]int{5, 5, 5, 5, 4, 4, 4, 3, 3, 2, 1}[rnd.IntN(11)]
		ces := [...]int{1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7}[rnd.IntN(11)]
		batch := []map[string]any{
			{"id": fmt.Sprintf("demo-%s-%d-nps", run, n), "type": "nps", "score": nps, "created_at": now},
			{"id": fmt.Sprintf("demo-%s-%d-csat", run, n), "type": "csat", "score": csat, "created_at": now},
			{"id": fmt.Sprintf("demo-%s-%d-ces", run, n), "type": "ces", "score": ces, "created_at": now},
		}
		for _, r := range batch {
			if v := pick(priorities); v != "" {
				r["priority"] = v
			}
			if v := pick(channels); v != "" {
				r["channel"] = v
			}
		}
		body, _ := json.Marshal(batch)
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+demoToken)
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				err = fmt.Errorf("status %d", resp.StatusCode)
			}
		}
		if err != nil && ctx.Err() == nil && !failed {
			failed = true // logged once
			logger.Warn("demo mode: simulated survey post failed", "err", err)
		}
	}
}
