package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

// TestCorruptStateRefused (issue 10, item 5): the binary refuses to start
// on a 0-byte or damaged state file, naming the file and the recovery,
// with exit 1 and no panic; `cx-exporter state check` says the same.
func TestCorruptStateRefused(t *testing.T) {
	t.Parallel()
	bin := e2e.Binary(t)
	for name, content := range map[string][]byte{
		"empty":   nil,
		"garbage": []byte(strings.Repeat("not a bbolt file ", 1000)),
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "state.db")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			env := []string{"PATH=" + os.Getenv("PATH"), "CX_STATE_DIR=" + dir, "CX_LISTEN_ADDRESS=127.0.0.1:0",
				"CX_ZENDESK_SUBDOMAIN=acme", "CX_ZENDESK_EMAIL=a@example.invalid", "CX_ZENDESK_API_TOKEN=state-fixture-token"}
			cmd := exec.Command(bin)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
				t.Fatalf("exit %v, want 1:\n%s", err, out)
			}
			for _, want := range []string{path, "corrupt", "move it aside"} {
				if !strings.Contains(string(out), want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(string(out), "panic") || strings.Contains(string(out), "goroutine ") {
				t.Errorf("a panic:\n%s", out)
			}
			if fi, _ := os.Stat(path); fi.Size() != int64(len(content)) {
				t.Error("the damaged file was changed")
			}
			check := exec.Command(bin, "state", "check")
			check.Env = env
			if out, err := check.CombinedOutput(); err == nil || !strings.Contains(string(out), path) {
				t.Errorf("state check: %v\n%s", err, out)
			}
		})
	}
}
