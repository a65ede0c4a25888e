package main_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

// TestBackfillCommandErrors checks that `cx-exporter backfill` refuses bad
// flags naming the flag, and a source that has never run without --until
// naming what to do, before any request.
func TestBackfillCommandErrors(t *testing.T) {
	t.Parallel()
	bin := e2e.Binary(t)
	state := t.TempDir()
	base := []string{"PATH=" + os.Getenv("PATH"), "CX_STATE_DIR=" + state,
		"CX_ZENDESK_URL=http://127.0.0.1:1", "CX_ZENDESK_EMAIL=a@example.invalid", "CX_ZENDESK_API_TOKEN=test-token-not-a-secret"}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--step=soon"}, 2, "--step"},
		{[]string{"--since=-3d"}, 2, "--since"},
		{[]string{"--until=yesterday"}, 2, "--until"},
		{[]string{"--label=no-equals"}, 2, "name=value"},
		{[]string{"--out=" + t.TempDir()}, 1, "never run; pass --until"},
	} {
		cmd := exec.Command(bin, append([]string{"backfill"}, c.args...)...)
		cmd.Env = base
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != c.code || !strings.Contains(string(out), c.want) {
			t.Errorf("backfill %v: exit %d, output %q; want exit %d naming %q", c.args, code, out, c.code, c.want)
		}
		if strings.Contains(string(out), "test-token-not-a-secret") {
			t.Errorf("backfill %v printed the token: %s", c.args, out)
		}
	}
	if entries, _ := os.ReadDir(state); len(entries) != 0 {
		t.Errorf("the backfill wrote the state directory: %v", entries)
	}
}
