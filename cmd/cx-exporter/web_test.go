package main_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/cx-exporter/cx-exporter/internal/e2e"
)

// TestWebConfigBasicAuth checks that CX_WEB_CONFIG_FILE reaches
// exporter-toolkit: /metrics needs the configured credentials.
func TestWebConfigBasicAuth(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join(t.TempDir(), "web.yml")
	// bcrypt of "scrape-fixture-pass", a test fixture.
	web := "basic_auth_users:\n  prometheus: $2a$10$gLzPtXofLMeNfDucUYZ27uX.iPE4C9swhetsBm2WlBpAdIfnblbc.\n"
	if err := os.WriteFile(cfg, []byte(web), 0o600); err != nil {
		t.Fatal(err)
	}
	exp := e2e.Start(t, []string{"CX_STATE_DIR=" + t.TempDir(), "CX_WEB_CONFIG_FILE=" + cfg}, "-demo")
	get := func(user, pass string) int {
		req, _ := http.NewRequest("GET", "http://"+exp.Addr+"/metrics", nil)
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	if code := get("", ""); code != http.StatusUnauthorized {
		t.Errorf("no credentials: %d, want 401", code)
	}
	if code := get("prometheus", "wrong"); code != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", code)
	}
	if code := get("prometheus", "scrape-fixture-pass"); code != http.StatusOK {
		t.Errorf("right password: %d, want 200", code)
	}
}
