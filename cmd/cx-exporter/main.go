// Command cx-exporter exports customer-support and subscription-billing
// KPIs to Prometheus. Configuration is by CX_* environment variables
// (cx-exporter -h lists them).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/common/promslog"

	_ "github.com/cx-exporter/cx-exporter/collectors/all" // every vendor registers itself
	"github.com/cx-exporter/cx-exporter/exporter"
)

// Set with -ldflags "-X main.version=... -X main.revision=...".
var (
	version  = "dev"
	revision = "unknown"
)

func main() { os.Exit(run()) }

func run() int {
	if len(os.Args) >= 3 && os.Args[1] == "state" && os.Args[2] == "check" {
		return stateCheck()
	}
	if len(os.Args) >= 2 && os.Args[1] == "backfill" {
		return backfillCmd(os.Args[2:])
	}
	fs := flag.NewFlagSet("cx-exporter", flag.ContinueOnError)
	demo := fs.Bool("demo", false, "run built-in simulated vendor APIs and poll them (CX_DEMO)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: cx-exporter [-demo] [-version]\n       cx-exporter state check   (checks the state file in CX_STATE_DIR)\n       cx-exporter backfill -h   (writes past KPIs for promtool; docs/backfill.md)\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nEnvironment:\n")
		exporter.Usage(fs.Output())
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	if *showVersion {
		fmt.Printf("cx-exporter %s (revision %s)\n", version, revision)
		return 0
	}
	cfg, err := exporter.Load(*demo)
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
	l, err := net.Listen("tcp", cfg.ListenAddress)
	if err != nil {
		logger.Error("CX_LISTEN_ADDRESS", "err", err)
		return 1
	}
	if err := exporter.StartDemo(ctx, cfg, logger, l.Addr().String()); err != nil {
		logger.Error("demo", "err", err)
		return 1
	}
	e, err := exporter.New(cfg, logger, exporter.Build{Version: version, Revision: revision})
	if err != nil {
		l.Close()
		logger.Error("start-up failed", "err", err)
		return 1
	}
	defer e.Close()
	logger.Info("cx-exporter listening", "address", l.Addr().String(), "version", version)
	if err := e.Run(ctx, l); err != nil {
		logger.Error("server", "err", err)
		return 1
	}
	return 0
}

// stateCheck is `cx-exporter state check`: it checks the state file in
// CX_STATE_DIR (default ./data) and exits 0 when it is usable or absent.
func stateCheck() int {
	if err := exporter.CheckState(os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "cx-exporter: %v\n", err)
		return 1
	}
	return 0
}
