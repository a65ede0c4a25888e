// Command webhooklatency measures how fresh webhooks make the metrics:
// it builds and runs the real cx-exporter binary with a 10-minute poll
// interval against a vendor's fake, which signs and sends a webhook at
// each change, and prints the p50 and p95 time from a change to the
// first scrape that shows it, then the upstream requests a burst of 1,000
// webhook events costs, counted on the fake's request log.
//
//	go run ./internal/bench/webhooklatency [-vendor zendesk,stripe,...] [-changes 100] [-burst 1000]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

// vendor drives one vendor's fake.
type vendor interface {
	name() string
	env() []string
	// sendWebhooks points the fake's webhooks at url.
	sendWebhooks(url string)
	// change makes the i-th change (i from 1).
	change(i int)
	// reached reports whether a scrape shows the i-th change.
	reached(m map[string]float64, i int) bool
	// burst makes n changes at once, each of them one webhook event.
	burst(n int)
	// reads counts the fake's requests a webhook fetch makes, and the
	// webhooks it sent.
	reads() int
	webhooks() int
	close()
}

var vendors = map[string]func() vendor{"zendesk": newZendesk, "stripe": newStripe, "chargebee": newChargebee, "paddle": newPaddle,
	"intercom": newIntercom, "freshdesk": newFreshdesk, "helpscout": newHelpScout,
	"edesk": newEdesk, "udesk": newUdesk}

func main() {
	which := flag.String("vendor", "zendesk,stripe,chargebee,paddle,intercom,freshdesk,helpscout,edesk,udesk", "comma-separated vendors")
	changes := flag.Int("changes", 100, "changes timed, one after the other")
	burst := flag.Int("burst", 1000, "webhook events of the cost burst")
	flag.Parse()
	bin, err := build()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer os.RemoveAll(filepath.Dir(bin))
	fmt.Printf("poll interval 10m; %d changes timed, spaced 0-500 ms at random; scrapes every 25 ms\n", *changes)
	fmt.Printf("%-8s %8s %8s %8s %8s  %s\n", "vendor", "p50", "p95", "max", "polls", "requests per 1,000 webhook events")
	for _, name := range strings.Split(*which, ",") {
		mk, ok := vendors[name]
		if !ok {
			fmt.Fprintln(os.Stderr, "unknown vendor", name)
			os.Exit(2)
		}
		if err := run(bin, mk(), *changes, *burst); err != nil {
			fmt.Fprintln(os.Stderr, name+":", err)
			os.Exit(1)
		}
	}
}

func build() (string, error) {
	dir, err := os.MkdirTemp("", "cx-bench-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "cx-exporter")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/cx-exporter")
	cmd.Dir = e2e.Root()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
}

func freeAddr() string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func scrape(addr string) (map[string]float64, error) {
	r, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	return e2e.Samples(string(b))
}

// waitFor scrapes every 25 ms until cond holds.
func waitFor(addr string, timeout time.Duration, cond func(map[string]float64) bool) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if m, err := scrape(addr); err == nil && cond(m) {
			return nil
		}
		time.Sleep(25 * time.Millisecond)
	}
	return fmt.Errorf("timed out after %s", timeout)
}

func run(bin string, v vendor, changes, burst int) error {
	defer v.close()
	dir, err := os.MkdirTemp("", "cx-bench-state-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	addr := freeAddr()
	cmd := exec.Command(bin)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "CX_LISTEN_ADDRESS=" + addr, "CX_STATE_DIR=" + dir,
		"CX_POLL_INTERVAL=10m", "CX_LOG_LEVEL=warn"}, v.env()...)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	syncKey := e2e.SyncSuccessKey(v.name())
	if err := waitFor(addr, 30*time.Second, func(m map[string]float64) bool { return m[syncKey] > 0 }); err != nil {
		return fmt.Errorf("first sync: %w\n%s", err, logs.String())
	}
	first, _ := scrape(addr)
	v.sendWebhooks("http://" + addr + "/api/v1/webhooks/" + v.name())

	var lat []time.Duration
	for i := 1; i <= changes; i++ {
		time.Sleep(time.Duration(rand.IntN(500)) * time.Millisecond)
		start := time.Now()
		v.change(i)
		if err := waitFor(addr, 60*time.Second, func(m map[string]float64) bool { return v.reached(m, i) }); err != nil {
			return fmt.Errorf("change %d: %w\n%s", i, err, logs.String())
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	pct := func(p float64) time.Duration {
		return lat[min(int(p*float64(len(lat))), len(lat)-1)].Round(time.Millisecond)
	}

	// The cost of a burst: every webhook fetched, then the fake's log.
	acceptedKey := e2e.Series("cx_exporter_webhooks_received_total", "source", v.name(), "result", "accepted")
	m, _ := scrape(addr)
	acceptedBefore, readsBefore, sentBefore := m[acceptedKey], v.reads(), v.webhooks()
	v.burst(burst)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for v.webhooks()-sentBefore < burst && ctx.Err() == nil {
		time.Sleep(20 * time.Millisecond)
	}
	if err := waitFor(addr, 2*time.Minute, func(m map[string]float64) bool { return m[acceptedKey]-acceptedBefore >= float64(burst) }); err != nil {
		return fmt.Errorf("burst: %w", err)
	}
	reads := v.reads() - readsBefore
	last, _ := scrape(addr)
	polls := last[syncKey] != first[syncKey]
	fmt.Printf("%-8s %8s %8s %8s %8v  %d (%d webhooks sent, %d accepted)\n", v.name(), pct(0.50), pct(0.95), lat[len(lat)-1].Round(time.Millisecond),
		polls, reads*1000/burst, v.webhooks()-sentBefore, int(last[acceptedKey]-acceptedBefore))
	return nil
}
