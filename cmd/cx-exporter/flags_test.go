package main_test

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

// TestHelpGoesToStdout: -h prints every flag with its variable, and every
// variable, to standard output, and exits 0; an unknown flag exits 2 with
// the error on standard error.
func TestHelpGoesToStdout(t *testing.T) {
	t.Parallel()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(e2e.Binary(t), "-h")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("-h: %v\n%s", err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("-h wrote to stderr: %q", stderr.String())
	}
	for _, want := range []string{
		"-web.listen-address", "CX_LISTEN_ADDRESS", "-web.config.file", "CX_WEB_CONFIG_FILE",
		"-web.telemetry-path", "CX_TELEMETRY_PATH", "-log.level", "CX_LOG_LEVEL", "-log.format",
		"-version", "-demo", "CX_ZENDESK_SUBDOMAIN", "which wins",
	} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("-h output lacks %q", want)
		}
	}
	stdout.Reset()
	stderr.Reset()
	cmd = exec.Command(e2e.Binary(t), "--no-such-flag")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Errorf("unknown flag: %v, want exit 2", err)
	}
	if !strings.Contains(stderr.String(), "no-such-flag") || stdout.Len() > 0 {
		t.Errorf("unknown flag: stdout %q, stderr %q", stdout.String(), stderr.String())
	}
}

// TestVersionIsTheVERSIONFile builds the binary with the Makefile's linker
// flags, as make build and the release do: --version prints the version in
// the VERSION file, the one source of the binary's, the image's and the
// chart's version.
func TestVersionIsTheVERSIONFile(t *testing.T) {
	t.Parallel()
	root := e2e.Root()
	want, err := os.ReadFile(filepath.Join(root, "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	ldflags, err := exec.Command("make", "-s", "-C", root, "print-ldflags").Output()
	if err != nil {
		t.Fatalf("make print-ldflags: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "cx-exporter")
	build := exec.Command("go", "build", "-ldflags", strings.TrimSpace(string(ldflags)), "-o", bin, "./cmd/cx-exporter")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if first := strings.SplitN(string(out), "\n", 2)[0]; !strings.HasPrefix(first, "cx-exporter, version "+strings.TrimSpace(string(want))+" ") {
		t.Errorf("--version = %q, want version %s from VERSION", first, strings.TrimSpace(string(want)))
	}
}

// TestFlagsWinOverVariables: each ecosystem flag overrides its CX_*
// variable (an invalid variable value does not matter when the flag is
// given); /metrics is the instrumented promhttp handler at the
// --web.telemetry-path, and build info comes from prometheus/common/version.
func TestFlagsWinOverVariables(t *testing.T) {
	t.Parallel()
	addr := e2e.FreeAddr(t)
	cmd := exec.Command(e2e.Binary(t), "-demo", "--web.listen-address="+addr, "--web.telemetry-path=/flag-metrics",
		"--log.level=debug", "--log.format=json")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "CX_STATE_DIR=" + t.TempDir(),
		"CX_LISTEN_ADDRESS=256.0.0.1:bad", "CX_TELEMETRY_PATH=/env-metrics", "CX_LOG_LEVEL=loud", "CX_LOG_FORMAT=xml"}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	get := func(path string) (int, string) {
		r, err := http.Get("http://" + addr + path)
		if err != nil {
			return 0, err.Error()
		}
		defer r.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(r.Body)
		return r.StatusCode, b.String()
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code, _ := get("/-/healthy"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
			t.Fatalf("not serving on --web.listen-address %s:\n%s", addr, logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, _ := get("/env-metrics"); code != http.StatusNotFound {
		t.Errorf("/env-metrics = %d, want 404 (the flag wins)", code)
	}
	get("/flag-metrics")
	code, body := get("/flag-metrics")
	if code != 200 {
		t.Fatalf("/flag-metrics = %d", code)
	}
	for _, want := range []string{
		`promhttp_metric_handler_requests_total{code="200"} 1`,
		`promhttp_metric_handler_requests_in_flight 1`,
		`cx_exporter_build_info{branch="",goarch=`,
		`version="e2e"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/flag-metrics lacks %q", want)
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait() // the log writer is done once Wait returns
	if !strings.Contains(logs.String(), `"level":"DEBUG"`) {
		t.Errorf("--log.level=debug --log.format=json: no JSON debug line in\n%.2000s", logs.String())
	}
}

// TestRulesAndDashboardsSubcommands: the binary writes the rules with a
// thresholds file and the dashboards, so neither needs a Go toolchain.
func TestRulesAndDashboardsSubcommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	thresholds := filepath.Join(dir, "t.yaml")
	if err := os.WriteFile(thresholds, []byte("Selector: job=\"cx-prod\"\nExtraLabels: {team: cx-sre}\nCSATMin: 0.85\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(e2e.Binary(t), "rules", "-thresholds", thresholds).Output()
	if err != nil {
		t.Fatalf("rules: %v", err)
	}
	for _, want := range []string{`helpdesk_open_tickets{job="cx-prod"}`, "team: cx-sre", "< 0.85\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("cx-exporter rules -thresholds: output lacks %q", want)
		}
	}
	if err := exec.Command(e2e.Binary(t), "rules", "-thresholds", filepath.Join(dir, "missing")).Run(); err == nil {
		t.Error("rules with a missing thresholds file exited 0")
	}
	if out, err := exec.Command(e2e.Binary(t), "dashboards", "-dir", dir).CombinedOutput(); err != nil {
		t.Fatalf("dashboards: %v\n%s", err, out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) < 3 {
		t.Errorf("cx-exporter dashboards wrote %d files", len(files))
	}
}
