// Command cx-exporter exports customer-support and subscription-billing
// KPIs to Prometheus. Configuration is by CX_* environment variables and
// the Prometheus ecosystem's flags (cx-exporter -h lists both).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/version"

	rules "github.com/cx-exporter/cx-exporter/alerts/gen"
	_ "github.com/cx-exporter/cx-exporter/collectors/all" // every vendor registers itself
	dashboards "github.com/cx-exporter/cx-exporter/dashboards/gen"
	"github.com/cx-exporter/cx-exporter/exporter"
)

// The version is stamped with -ldflags "-X github.com/prometheus/common/version.Version=..."
// (and Revision, Branch, BuildUser, BuildDate): the Makefile and the release
// configuration take it from the VERSION file.
func init() {
	if version.Version == "" {
		version.Version = "dev"
	}
}

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) >= 2 && args[0] == "state" && args[1] == "check" {
		return stateCheck(stdout, stderr)
	}
	if len(args) >= 1 && args[0] == "rules" {
		return rules.Main(args[1:], stdout, stderr)
	}
	if len(args) >= 1 && args[0] == "dashboards" {
		return dashboards.Main(args[1:], stdout, stderr)
	}
	if len(args) >= 1 && args[0] == "backfill" {
		return backfillCmd(args[1:])
	}
	fs := flag.NewFlagSet("cx-exporter", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed below; -h goes to stdout
	demo := fs.Bool("demo", false, "run built-in simulated vendor APIs and poll them (or CX_DEMO)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	for _, v := range exporter.Flags() {
		fs.String(v.Flag, v.Default, v.Desc+" (or "+v.Name+")")
	}
	fs.Usage = func() {} // the flag package calls it on errors too
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout, fs)
			return 0
		}
		fmt.Fprintf(stderr, "cx-exporter: %v\nRun cx-exporter -h for the flags and variables.\n", err)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "cx-exporter: unexpected argument %q\nRun cx-exporter -h for the flags and variables.\n", fs.Arg(0))
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, version.Print("cx-exporter"))
		return 0
	}
	// A flag given on the command line wins over its variable.
	set := map[string]string{}
	fs.Visit(func(f *flag.Flag) {
		if f.Name != "demo" && f.Name != "version" {
			set[f.Name] = f.Value.String()
		}
	})
	cfg, err := exporter.LoadWith(*demo, set)
	if err != nil {
		fmt.Fprintf(stderr, "cx-exporter: invalid configuration:\n%v\n", err)
		return 1
	}
	level, format := promslog.NewLevel(), promslog.NewFormat()
	_ = level.Set(cfg.LogLevel)
	_ = format.Set(cfg.LogFormat)
	logger := promslog.New(&promslog.Config{Level: level, Format: format, Writer: stderr})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	l, err := net.Listen("tcp", cfg.ListenAddress)
	if err != nil {
		logger.Error("CX_LISTEN_ADDRESS (--web.listen-address)", "err", err)
		return 1
	}
	if err := exporter.StartDemo(ctx, cfg, logger, l.Addr().String()); err != nil {
		logger.Error("demo", "err", err)
		return 1
	}
	e, err := exporter.New(cfg, logger, exporter.Build{Version: version.Version, Revision: version.GetRevision()})
	if err != nil {
		l.Close()
		logger.Error("start-up failed", "err", err)
		return 1
	}
	defer e.Close()
	logger.Info("cx-exporter listening", "address", l.Addr().String(), "version", version.Info(), "build_context", version.BuildContext())
	if err := e.Run(ctx, l); err != nil {
		logger.Error("server", "err", err)
		return 1
	}
	return 0
}

// usage is cx-exporter -h: the commands, the flags and every variable.
func usage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, `Usage: cx-exporter [flags]
       cx-exporter state check   checks the state file in CX_STATE_DIR
       cx-exporter rules [-thresholds FILE] [-o FILE]
                                 writes the Prometheus rules with your thresholds,
                                 selector and labels (-print-defaults lists them; -h)
       cx-exporter dashboards [-dir DIR] [-selector MATCHERS]
                                 writes the Grafana dashboards (-h)
       cx-exporter backfill -h   writes past KPIs for promtool (docs/backfill.md)

Each flag also has a CX_* variable; a flag given on the command line wins.

Flags:
`)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprintf(w, "\nEnvironment:\n")
	exporter.Usage(w)
}

// stateCheck is `cx-exporter state check`: it checks the state file in
// CX_STATE_DIR (default ./data) and exits 0 when it is usable or absent.
func stateCheck(stdout, stderr io.Writer) int {
	if err := exporter.CheckState(stdout); err != nil {
		fmt.Fprintf(stderr, "cx-exporter: %v\n", err)
		return 1
	}
	return 0
}
