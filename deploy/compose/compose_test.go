// Package compose_test checks the local monitoring stack in this directory
// without Docker: promtool and amtool (from ../../bin, make tools, or PATH)
// check the Prometheus and Alertmanager configs, and the paths that
// docker-compose.yml mounts are resolved as the containers will see them, so
// that Prometheus finds the rules and Grafana the dashboards.
package compose_test

import (
	"net"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root not found at %s: %v", root, err)
	}
	return root
}

// tool finds a pinned tool in <repo>/bin or PATH.
func tool(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), "bin", name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	t.Fatalf("%s not found in %s nor in PATH: run make tools", name, filepath.Join(repoRoot(t), "bin"))
	return ""
}

// run runs a tool from the repository root, as CI and a developer would.
func run(t *testing.T, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(tool(t, name), args...)
	cmd.Dir = repoRoot(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func TestPrometheusConfig(t *testing.T) {
	run(t, "promtool", "check", "config", "deploy/compose/prometheus.yml")
}

func TestAlertmanagerConfig(t *testing.T) {
	run(t, "amtool", "check-config", "deploy/compose/alertmanager.yml")
}

// compose is the part of docker-compose.yml these tests read.
type compose struct {
	Services map[string]struct {
		Image string `json:"image"`
		Build *struct {
			Context    string `json:"context"`
			Dockerfile string `json:"dockerfile"`
		} `json:"build"`
		Command []string `json:"command"`
		Ports   []string `json:"ports"`
		Volumes []string `json:"volumes"`
	} `json:"services"`
}

func readYAML(t *testing.T, file string, v any) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, v); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
}

func readCompose(t *testing.T) compose {
	t.Helper()
	var c compose
	readYAML(t, "docker-compose.yml", &c)
	for _, s := range []string{"cx-exporter", "prometheus", "alertmanager", "grafana"} {
		if _, ok := c.Services[s]; !ok {
			t.Fatalf("docker-compose.yml has no service %s", s)
		}
	}
	return c
}

// hostPath maps a path inside a service's container to the host, through
// the service's bind mounts (relative sources are relative to this
// directory); "" when no bind mount covers it.
func hostPath(t *testing.T, c compose, service, containerPath string) string {
	t.Helper()
	best, bestTarget := "", ""
	for _, v := range c.Services[service].Volumes {
		parts := strings.Split(v, ":")
		if len(parts) < 2 || !(strings.HasPrefix(parts[0], ".") || strings.HasPrefix(parts[0], "/")) {
			continue // a named volume
		}
		src, target := parts[0], path.Clean(parts[1])
		rel, ok := strings.CutPrefix(containerPath, target)
		if !ok || (rel != "" && !strings.HasPrefix(rel, "/")) || len(target) <= len(bestTarget) {
			continue
		}
		abs, err := filepath.Abs(filepath.Join(filepath.FromSlash(src), filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		best, bestTarget = abs, target
	}
	return best
}

func TestExporterService(t *testing.T) {
	c := readCompose(t)
	s := c.Services["cx-exporter"]
	if s.Build == nil {
		t.Fatal("cx-exporter is not built from the repository")
	}
	ctx := filepath.Join(filepath.FromSlash(s.Build.Context))
	if abs, _ := filepath.Abs(ctx); abs != repoRoot(t) {
		t.Errorf("build context %s is not the repository root", s.Build.Context)
	}
	if _, err := os.Stat(filepath.Join(ctx, filepath.FromSlash(s.Build.Dockerfile))); err != nil {
		t.Errorf("build dockerfile: %v", err)
	}
	if !slices.Contains(s.Command, "-demo=${CX_DEMO:-true}") {
		t.Errorf("cx-exporter command %v, want -demo by default", s.Command)
	}
}

func TestPrometheusFindsRulesAndTargets(t *testing.T) {
	c := readCompose(t)
	cfgInContainer := ""
	for _, v := range c.Services["prometheus"].Volumes {
		if strings.HasPrefix(v, "./prometheus.yml:") {
			cfgInContainer = strings.Split(v, ":")[1]
		}
	}
	if cfgInContainer == "" {
		t.Fatal("docker-compose.yml does not mount ./prometheus.yml into prometheus")
	}
	var cfg struct {
		RuleFiles []string `json:"rule_files"`
		Alerting  struct {
			Alertmanagers []struct {
				StaticConfigs []struct {
					Targets []string `json:"targets"`
				} `json:"static_configs"`
			} `json:"alertmanagers"`
		} `json:"alerting"`
		ScrapeConfigs []struct {
			JobName                       string `json:"job_name"`
			ScrapeNativeHistograms        bool   `json:"scrape_native_histograms"`
			AlwaysScrapeClassicHistograms bool   `json:"always_scrape_classic_histograms"`
			StaticConfigs                 []struct {
				Targets []string `json:"targets"`
			} `json:"static_configs"`
		} `json:"scrape_configs"`
	}
	readYAML(t, "prometheus.yml", &cfg)

	// Every rule file resolves, inside the container, to the repository's.
	if len(cfg.RuleFiles) == 0 {
		t.Error("prometheus.yml loads no rules")
	}
	for _, rf := range cfg.RuleFiles {
		inContainer := path.Join(path.Dir(cfgInContainer), rf)
		host := hostPath(t, c, "prometheus", inContainer)
		want := filepath.Join(repoRoot(t), "alerts", "cx-exporter.rules.yml")
		if host != want {
			t.Errorf("rule file %s is %s in the container, which is %q on the host; want %s", rf, inContainer, host, want)
		}
	}

	// Targets name the compose services.
	var exporterJob bool
	for _, sc := range cfg.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				checkTarget(t, c, target)
				if target == "cx-exporter:9860" {
					exporterJob = true
					if !sc.ScrapeNativeHistograms || !sc.AlwaysScrapeClassicHistograms {
						t.Errorf("job %s: want scrape_native_histograms and always_scrape_classic_histograms", sc.JobName)
					}
				}
			}
		}
	}
	if !exporterJob {
		t.Error("prometheus.yml does not scrape cx-exporter:9860")
	}
	for _, am := range cfg.Alerting.Alertmanagers {
		for _, st := range am.StaticConfigs {
			for _, target := range st.Targets {
				checkTarget(t, c, target)
			}
		}
	}
}

// checkTarget checks that host:port names a compose service (or localhost).
func checkTarget(t *testing.T, c compose, target string) {
	t.Helper()
	host, _, err := net.SplitHostPort(target)
	if err != nil {
		t.Errorf("target %q: %v", target, err)
		return
	}
	if _, ok := c.Services[host]; !ok && host != "localhost" {
		t.Errorf("target %q names no compose service", target)
	}
}

func TestGrafanaProvisioning(t *testing.T) {
	c := readCompose(t)
	// Grafana reads its provisioning from /etc/grafana/provisioning.
	prov := hostPath(t, c, "grafana", "/etc/grafana/provisioning")
	if prov == "" {
		t.Fatal("docker-compose.yml mounts nothing at /etc/grafana/provisioning")
	}

	var ds struct {
		Datasources []struct {
			UID, Type, URL string
			IsDefault      bool `json:"isDefault"`
		} `json:"datasources"`
	}
	readYAML(t, filepath.Join(prov, "datasources", "prometheus.yml"), &ds)
	if len(ds.Datasources) != 1 || ds.Datasources[0].UID != "prometheus" || ds.Datasources[0].Type != "prometheus" || !ds.Datasources[0].IsDefault {
		t.Errorf("datasources %+v, want one default Prometheus with uid prometheus", ds.Datasources)
	} else if u := strings.TrimPrefix(ds.Datasources[0].URL, "http://"); u != "prometheus:9090" {
		t.Errorf("datasource URL %s, want http://prometheus:9090", ds.Datasources[0].URL)
	}

	var dp struct {
		Providers []struct {
			Type    string `json:"type"`
			Options struct {
				Path string `json:"path"`
			} `json:"options"`
		} `json:"providers"`
	}
	readYAML(t, filepath.Join(prov, "dashboards", "cx-exporter.yml"), &dp)
	if len(dp.Providers) != 1 || dp.Providers[0].Type != "file" {
		t.Fatalf("dashboard providers %+v, want one file provider", dp.Providers)
	}
	dir := hostPath(t, c, "grafana", dp.Providers[0].Options.Path)
	if dir == "" {
		t.Fatalf("the dashboard provider reads %s, which docker-compose.yml does not mount", dp.Providers[0].Options.Path)
	}
	committed, err := filepath.Glob(filepath.Join(repoRoot(t), "dashboards", "*.json"))
	if err != nil || len(committed) == 0 {
		t.Fatalf("no committed dashboards/*.json (%v)", err)
	}
	for _, f := range committed {
		want, _ := os.ReadFile(f)
		got, err := os.ReadFile(filepath.Join(dir, filepath.Base(f)))
		if err != nil || string(got) != string(want) {
			t.Errorf("Grafana's dashboard directory %s (%s in the container) lacks %s", dir, dp.Providers[0].Options.Path, filepath.Base(f))
		}
	}
}
