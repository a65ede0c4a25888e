package exporter_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayers checks that the arrows between the folders point down: the
// process (exporter, cmd) above the vendors (collectors/<vendor>), above
// the kit and the engines, above the libraries under internal/; and that
// no production package imports a package of ours named like a test
// helper.
func TestLayers(t *testing.T) {
	const mod = "github.com/cx-exporter/cx-exporter/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, mod+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	engines := map[string]bool{"collectors/helpdesk": true, "collectors/billing": true, "collectors/helpdesk/businesshours": true}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		pkg := strings.TrimPrefix(f[0], mod)
		for _, imp := range f[1:] {
			if !strings.HasPrefix(imp, mod) {
				continue
			}
			dep := strings.TrimPrefix(imp, mod)
			checked++
			switch {
			case strings.HasSuffix(dep, "test"):
				t.Errorf("%s imports %s, named like a test helper", pkg, dep)
			case strings.HasPrefix(pkg, "collectors/") && (strings.HasPrefix(dep, "exporter") || strings.HasPrefix(dep, "cmd/")):
				t.Errorf("%s imports %s: a vendor or engine imports the process", pkg, dep)
			case strings.HasPrefix(pkg, "internal/") && !strings.HasPrefix(pkg, "internal/e2e") &&
				(strings.HasPrefix(dep, "collectors/") || strings.HasPrefix(dep, "exporter")):
				t.Errorf("%s imports %s: a library imports a layer above it", pkg, dep)
			case engines[pkg] && !engines[dep]:
				t.Errorf("%s imports %s: an engine imports a vendor, the kit or a library", pkg, dep)
			case pkg == "collectors/source" && dep != "collectors/helpdesk" && dep != "collectors/billing" && !strings.HasPrefix(dep, "internal/"):
				t.Errorf("collectors/source imports %s: the kit imports a vendor", dep)
			case strings.HasPrefix(pkg, "exporter") && strings.HasPrefix(dep, "collectors/") &&
				dep != "collectors/source" && !engines[dep]:
				t.Errorf("%s imports %s: the process names a vendor (it finds vendors through the registry)", pkg, dep)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("only %d imports of the module checked: go list output changed?", checked)
	}
}
