package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"

	"github.com/cx-exporter/cx-exporter/exporter"
)

// backfillCmd is `cx-exporter backfill`: it writes each source's history
// as OpenMetrics files for `promtool tsdb create-blocks-from openmetrics`
// (docs/backfill.md). It is a subcommand rather than a second binary: it
// needs every vendor, both engines and the CX_* configuration, which the
// exporter binary already holds, so it adds little to it, and users find
// it in the image they already run.
func backfillCmd(args []string) int {
	fs := flag.NewFlagSet("cx-exporter backfill", flag.ContinueOnError)
	since := fs.String("since", "90d", "how far back from the end to start (Prometheus duration: 90d, 2w, 36h)")
	until := fs.String("until", "", "end of the backfill (RFC 3339); default: each source's watermark in CX_STATE_DIR")
	step := fs.String("step", "5m", "interval between samples; over 5m (Prometheus' default lookback) needs --query.lookback-delta of at least the step")
	out := fs.String("out", "backfill", "directory of the OpenMetrics files and the resume checkpoints")
	sources := fs.String("source", "", "comma-separated source names to backfill (default: every enabled source with a history)")
	chunk := fs.String("chunk", "1d", "time span of one output file and checkpoint")
	labels := labelFlag{}
	fs.Var(labels, "label", "name=value added to every sample, repeatable (the job and instance labels your scrape gives the live series)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: cx-exporter backfill [flags]\n\nWrites the enabled sources' history (configured by the CX_* variables) as OpenMetrics\nfiles for `promtool tsdb create-blocks-from openmetrics`; see docs/backfill.md.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	o := exporter.BackfillOptions{Out: *out, Labels: labels, Progress: os.Stderr}
	for _, d := range []struct {
		name, v string
		dst     *time.Duration
	}{{"--since", *since, &o.Since}, {"--step", *step, &o.Step}, {"--chunk", *chunk, &o.Chunk}} {
		v, err := model.ParseDuration(d.v)
		if err != nil || v <= 0 {
			fmt.Fprintf(os.Stderr, "cx-exporter backfill: %s %q: want a positive duration such as 90d or 5m\n", d.name, d.v)
			return 2
		}
		*d.dst = time.Duration(v)
	}
	if o.Step > 5*time.Minute {
		fmt.Fprintf(os.Stderr, "cx-exporter backfill: warning: --step %s is over Prometheus' default 5m lookback: run it with --query.lookback-delta=%s or instant queries between steps find nothing\n", *step, *step)
	}
	if *until != "" {
		t, err := time.Parse(time.RFC3339, *until)
		if err != nil {
			fmt.Fprintf(os.Stderr, "cx-exporter backfill: --until %q: want RFC 3339 (2026-11-30T00:00:00Z)\n", *until)
			return 2
		}
		o.Until = t
	}
	if *sources != "" {
		o.Sources = strings.Split(*sources, ",")
	}
	cfg, err := exporter.Load(false)
	if err != nil {
		fmt.Fprintf(os.Stderr, "cx-exporter: invalid configuration:\n%v\n", err)
		return 1
	}
	level, format := promslog.NewLevel(), promslog.NewFormat()
	_ = level.Set(cfg.LogLevel)
	_ = format.Set(cfg.LogFormat)
	logger := promslog.New(&promslog.Config{Level: level, Format: format})
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	results, err := exporter.Backfill(ctx, cfg, logger, o)
	for _, r := range results {
		state := "written"
		if r.AlreadyDone {
			state = "already complete"
		}
		fmt.Printf("%s: %s to %s, %d files %s, %d samples, %d changes, %d requests, %s\n", r.Source,
			r.From.UTC().Format(time.RFC3339), r.Until.UTC().Format(time.RFC3339), len(r.Files), state, r.Samples, r.Changes, r.Requests, r.Elapsed.Round(time.Millisecond))
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "cx-exporter backfill: %v\n", err)
		if ctx.Err() != nil {
			fmt.Fprintln(os.Stderr, "cx-exporter backfill: interrupted; run the same command again to resume from the last complete file")
		}
		return 1
	}
	return 0
}

// labelFlag collects repeated --label name=value flags.
type labelFlag map[string]string

func (l labelFlag) String() string { return "" }

func (l labelFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || !model.LabelName(k).IsValidLegacy() {
		return fmt.Errorf("%q: want name=value", v)
	}
	l[k] = val
	return nil
}
