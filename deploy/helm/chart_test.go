// Package helm_test checks the Helm chart in ./cx-exporter: it lints and
// renders the chart with its default values and every ci/*-values.yaml,
// decodes every rendered object strictly into the Kubernetes API types, and
// checks what an install depends on — the security context, the probes, the
// Service selector, the state volume, and that every CX_* variable the
// Deployment sets is one the exporter really reads.
//
// helm comes from ../../bin (make tools) or PATH.
package helm_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	_ "github.com/cx-exporter/cx-exporter/collectors/all"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	rulesgen "github.com/cx-exporter/cx-exporter/alerts/gen"
	"github.com/cx-exporter/cx-exporter/exporter"
)

const (
	chartDir    = "cx-exporter"
	release     = "cx"
	namespace   = "support"
	metricsPort = 9860
	stateDir    = "/var/lib/cx-exporter"
)

// variants are the values files the chart is tested with: "" is the
// defaults, the others are ci/*-values.yaml.
var variants = []string{
	"",
	"ci/persistence-values.yaml",
	"ci/existing-secret-values.yaml",
	"ci/monitoring-values.yaml",
	"ci/networkpolicy-values.yaml",
	"ci/web-config-values.yaml",
}

// objectNamespace is where a variant puts the chart's objects.
func objectNamespace(variant string) string {
	if strings.Contains(variant, "web-config") {
		return "cx-monitoring" // namespaceOverride
	}
	return namespace
}

func variantName(v string) string {
	if v == "" {
		return "default"
	}
	return strings.TrimSuffix(filepath.Base(v), "-values.yaml")
}

// repoRoot is the module root, two levels up from this package.
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

// helmBin finds helm in <repo>/bin or PATH.
func helmBin(t *testing.T) string {
	t.Helper()
	p := filepath.Join(repoRoot(t), "bin", "helm")
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if p, err := exec.LookPath("helm"); err == nil {
		return p
	}
	t.Fatalf("helm not found in %s nor in PATH: run make tools", filepath.Join(repoRoot(t), "bin"))
	return ""
}

// helm runs helm in this directory and returns its standard output, or its
// error with standard error.
func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmBin(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.String(), fmt.Errorf("helm %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), nil
}

func valuesArgs(variant string) []string {
	if variant == "" {
		return nil
	}
	return []string{"-f", filepath.Join(chartDir, variant)}
}

func TestCIValuesFilesAreTested(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(chartDir, f)
		if !slices.Contains(variants, filepath.ToSlash(rel)) {
			t.Errorf("%s is not in this test's variants: add it", f)
		}
	}
	for _, v := range variants[1:] {
		if _, err := os.Stat(filepath.Join(chartDir, v)); err != nil {
			t.Errorf("variant %s: %v", v, err)
		}
	}
}

func TestLint(t *testing.T) {
	for _, v := range variants {
		t.Run(variantName(v), func(t *testing.T) {
			args := append([]string{"lint", "--strict", chartDir, "--namespace", namespace}, valuesArgs(v)...)
			if out, err := helm(t, args...); err != nil {
				t.Errorf("%v\n%s", err, out)
			}
		})
	}
}

// rendered is the chart's output, decoded strictly into API types.
type rendered struct {
	deployments     []*appsv1.Deployment
	services        []*corev1.Service
	serviceAccounts []*corev1.ServiceAccount
	secrets         []*corev1.Secret
	configMaps      []*corev1.ConfigMap
	pvcs            []*corev1.PersistentVolumeClaim
	networkPolicies []*networkingv1.NetworkPolicy
	serviceMonitors []*ServiceMonitor
	prometheusRules []*PrometheusRule
}

// ServiceMonitor is monitoring.coreos.com/v1 ServiceMonitor, limited to the
// fields this chart may set: strict decoding fails on anything else.
type ServiceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		JobLabel                string   `json:"jobLabel,omitempty"`
		ScrapeProtocols         []string `json:"scrapeProtocols,omitempty"`
		ScrapeClassicHistograms *bool    `json:"scrapeClassicHistograms,omitempty"`
		NamespaceSelector       struct {
			Any        bool     `json:"any,omitempty"`
			MatchNames []string `json:"matchNames,omitempty"`
		} `json:"namespaceSelector"`
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port              string           `json:"port"`
			Path              string           `json:"path,omitempty"`
			Scheme            string           `json:"scheme,omitempty"`
			TLSConfig         *SafeTLSConfig   `json:"tlsConfig,omitempty"`
			BasicAuth         *BasicAuth       `json:"basicAuth,omitempty"`
			Interval          string           `json:"interval,omitempty"`
			ScrapeTimeout     string           `json:"scrapeTimeout,omitempty"`
			HonorLabels       bool             `json:"honorLabels,omitempty"`
			Relabelings       []map[string]any `json:"relabelings,omitempty"`
			MetricRelabelings []map[string]any `json:"metricRelabelings,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

// SafeTLSConfig is prometheus-operator's SafeTLSConfig.
type SafeTLSConfig struct {
	CA                 *SecretOrConfigMap        `json:"ca,omitempty"`
	Cert               *SecretOrConfigMap        `json:"cert,omitempty"`
	KeySecret          *corev1.SecretKeySelector `json:"keySecret,omitempty"`
	ServerName         string                    `json:"serverName,omitempty"`
	InsecureSkipVerify bool                      `json:"insecureSkipVerify,omitempty"`
}

// SecretOrConfigMap is prometheus-operator's SecretOrConfigMap.
type SecretOrConfigMap struct {
	Secret    *corev1.SecretKeySelector    `json:"secret,omitempty"`
	ConfigMap *corev1.ConfigMapKeySelector `json:"configMap,omitempty"`
}

// BasicAuth is prometheus-operator's BasicAuth.
type BasicAuth struct {
	Username corev1.SecretKeySelector `json:"username"`
	Password corev1.SecretKeySelector `json:"password"`
}

// PrometheusRule is monitoring.coreos.com/v1 PrometheusRule.
type PrometheusRule struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              RulesFile `json:"spec"`
}

// RulesFile is a Prometheus rules file, and the spec of a PrometheusRule:
// the fields both accept.
type RulesFile struct {
	Groups []RuleGroup `json:"groups"`
}

type RuleGroup struct {
	Name     string `json:"name"`
	Interval string `json:"interval,omitempty"`
	Limit    int    `json:"limit,omitempty"`
	Rules    []Rule `json:"rules"`
}

type Rule struct {
	Record      string            `json:"record,omitempty"`
	Alert       string            `json:"alert,omitempty"`
	Expr        string            `json:"expr"`
	For         string            `json:"for,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

var docSeparator = regexp.MustCompile(`(?m)^---\s*$`)

// render runs helm template and decodes its output.
func render(t *testing.T, args ...string) *rendered {
	t.Helper()
	out, err := helm(t, append([]string{"template", release, chartDir, "--namespace", namespace}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	return decode(t, out)
}

func decode(t *testing.T, manifests string) *rendered {
	t.Helper()
	var r rendered
	for _, doc := range docSeparator.Split(manifests, -1) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal([]byte(doc), &tm); err != nil {
			t.Fatalf("rendered YAML does not parse: %v\n%s", err, doc)
		}
		if tm.Kind == "" {
			if strings.TrimSpace(stripComments(doc)) != "" {
				t.Errorf("rendered document without a kind:\n%s", doc)
			}
			continue
		}
		gvk := tm.APIVersion + " " + tm.Kind
		var obj any
		switch gvk {
		case "apps/v1 Deployment":
			obj = &appsv1.Deployment{}
		case "v1 Service":
			obj = &corev1.Service{}
		case "v1 ServiceAccount":
			obj = &corev1.ServiceAccount{}
		case "v1 Secret":
			obj = &corev1.Secret{}
		case "v1 ConfigMap":
			obj = &corev1.ConfigMap{}
		case "v1 PersistentVolumeClaim":
			obj = &corev1.PersistentVolumeClaim{}
		case "networking.k8s.io/v1 NetworkPolicy":
			obj = &networkingv1.NetworkPolicy{}
		case "monitoring.coreos.com/v1 ServiceMonitor":
			obj = &ServiceMonitor{}
		case "monitoring.coreos.com/v1 PrometheusRule":
			obj = &PrometheusRule{}
		default:
			t.Errorf("unexpected object %s in the chart's output", gvk)
			continue
		}
		if err := yaml.UnmarshalStrict([]byte(doc), obj); err != nil {
			t.Errorf("%s does not decode strictly: %v\n%s", gvk, err, doc)
			continue
		}
		switch o := obj.(type) {
		case *appsv1.Deployment:
			r.deployments = append(r.deployments, o)
		case *corev1.Service:
			r.services = append(r.services, o)
		case *corev1.ServiceAccount:
			r.serviceAccounts = append(r.serviceAccounts, o)
		case *corev1.Secret:
			r.secrets = append(r.secrets, o)
		case *corev1.ConfigMap:
			r.configMaps = append(r.configMaps, o)
		case *corev1.PersistentVolumeClaim:
			r.pvcs = append(r.pvcs, o)
		case *networkingv1.NetworkPolicy:
			r.networkPolicies = append(r.networkPolicies, o)
		case *ServiceMonitor:
			r.serviceMonitors = append(r.serviceMonitors, o)
		case *PrometheusRule:
			r.prometheusRules = append(r.prometheusRules, o)
		}
	}
	return &r
}

func stripComments(doc string) string {
	var b strings.Builder
	for _, l := range strings.Split(doc, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "#") {
			b.WriteString(l + "\n")
		}
	}
	return b.String()
}

// exporterVariables is every environment variable the exporter reads, as
// exporter.Variables lists them from the process's and every registered
// vendor's configuration: CX_<NAME>, and CX_<NAME>_FILE for secrets.
func exporterVariables(t *testing.T) map[string]bool {
	t.Helper()
	vars := map[string]bool{}
	for _, v := range exporter.Variables() {
		vars[v.Name] = true
		if v.Secret {
			vars[v.Name+"_FILE"] = true
		}
	}
	if len(vars) < 10 || !vars["CX_STATE_DIR"] || !vars["CX_ZENDESK_API_TOKEN_FILE"] {
		t.Fatalf("reflecting exporter.Config found %v: the registry lists too few", slices.Sorted(maps.Keys(vars)))
	}
	return vars
}

// notInChart are the exporter variables the chart deliberately has no value
// for, and why.
var notInChart = map[string]string{
	"CX_LISTEN_ADDRESS":           "the container listens on :9860, the exporter's default",
	"CX_TELEMETRY_PATH":           "the Service and ServiceMonitor scrape /metrics, the default",
	"CX_WEB_CONFIG_FILE":          "TLS or basic auth would break the probes; use extraEnv with your own volume",
	"CX_ZENDESK_API_TOKEN":        "secrets are passed as files (CX_ZENDESK_API_TOKEN_FILE)",
	"CX_ZENDESK_OAUTH_TOKEN":      "secrets are passed as files (CX_ZENDESK_OAUTH_TOKEN_FILE)",
	"CX_STRIPE_API_KEY":           "secrets are passed as files (CX_STRIPE_API_KEY_FILE)",
	"CX_PADDLE_API_KEY":           "secrets are passed as files (CX_PADDLE_API_KEY_FILE)",
	"CX_CHARGEBEE_API_KEY":        "secrets are passed as files (CX_CHARGEBEE_API_KEY_FILE)",
	"CX_FRESHDESK_API_KEY":        "secrets are passed as files (CX_FRESHDESK_API_KEY_FILE)",
	"CX_HELPSCOUT_APP_SECRET":     "secrets are passed as files (CX_HELPSCOUT_APP_SECRET_FILE)",
	"CX_INTERCOM_TOKEN":           "secrets are passed as files (CX_INTERCOM_TOKEN_FILE)",
	"CX_EDESK_API_TOKEN":          "secrets are passed as files (CX_EDESK_API_TOKEN_FILE)",
	"CX_SURVEY_TOKEN":             "secrets are passed as files (CX_SURVEY_TOKEN_FILE)",
	"CX_UDESK_API_TOKEN":          "secrets are passed as files (CX_UDESK_API_TOKEN_FILE)",
	"CX_ZENDESK_WEBHOOK_SECRET":   "secrets are passed as files (CX_ZENDESK_WEBHOOK_SECRET_FILE)",
	"CX_STRIPE_WEBHOOK_SECRET":    "secrets are passed as files (CX_STRIPE_WEBHOOK_SECRET_FILE)",
	"CX_PADDLE_WEBHOOK_SECRET":    "secrets are passed as files (CX_PADDLE_WEBHOOK_SECRET_FILE)",
	"CX_INTERCOM_WEBHOOK_SECRET":  "secrets are passed as files (CX_INTERCOM_WEBHOOK_SECRET_FILE)",
	"CX_FRESHDESK_WEBHOOK_SECRET": "secrets are passed as files (CX_FRESHDESK_WEBHOOK_SECRET_FILE)",
	"CX_HELPSCOUT_WEBHOOK_SECRET": "secrets are passed as files (CX_HELPSCOUT_WEBHOOK_SECRET_FILE)",
	"CX_EDESK_WEBHOOK_SECRET":     "secrets are passed as files (CX_EDESK_WEBHOOK_SECRET_FILE)",
	"CX_UDESK_WEBHOOK_SECRET":     "secrets are passed as files (CX_UDESK_WEBHOOK_SECRET_FILE)",
	"CX_CHARGEBEE_WEBHOOK_SECRET": "secrets are passed as files (CX_CHARGEBEE_WEBHOOK_SECRET_FILE)",
}

func TestEnvVarsAreExporterVariables(t *testing.T) {
	known := exporterVariables(t)
	set := map[string]bool{}
	for _, v := range variants {
		t.Run(variantName(v), func(t *testing.T) {
			r := render(t, valuesArgs(v)...)
			c := exporterContainer(t, r)
			for _, e := range c.Env {
				set[e.Name] = true
				if !known[e.Name] {
					t.Errorf("the Deployment sets %s, which the exporter does not read (exporter.Variables does not list it)", e.Name)
				}
				if e.ValueFrom != nil {
					t.Errorf("%s comes from valueFrom; the chart passes secrets as files (%s_FILE)", e.Name, e.Name)
				}
			}
			for _, f := range c.EnvFrom {
				t.Errorf("the Deployment uses envFrom %+v: every variable must be named", f)
			}
		})
	}
	// And the chart can set every variable the exporter reads, so that a
	// new CX_* variable is not forgotten here.
	for v := range known {
		if _, ok := notInChart[v]; !ok && !set[v] {
			t.Errorf("exporter variable %s is set by no ci/*-values.yaml variant: add a value for it to the chart (values.yaml, values.schema.json, _helpers.tpl, deploy/README.md) and to ci/persistence-values.yaml, or to notInChart with a reason", v)
		}
	}
	for v := range notInChart {
		if !known[v] {
			t.Errorf("notInChart lists %s, which the exporter no longer reads", v)
		}
	}
}

func exporterContainer(t *testing.T, r *rendered) corev1.Container {
	t.Helper()
	if len(r.deployments) != 1 {
		t.Fatalf("rendered %d Deployments, want 1", len(r.deployments))
	}
	cs := r.deployments[0].Spec.Template.Spec.Containers
	if len(cs) != 1 {
		t.Fatalf("the pod has %d containers, want 1", len(cs))
	}
	return cs[0]
}

func env(c corev1.Container) map[string]string {
	m := map[string]string{}
	for _, e := range c.Env {
		m[e.Name] = e.Value
	}
	return m
}

func TestDeployment(t *testing.T) {
	for _, v := range variants {
		t.Run(variantName(v), func(t *testing.T) {
			r := render(t, valuesArgs(v)...)
			d := r.deployments[0]
			c := exporterContainer(t, r)
			pod := d.Spec.Template.Spec

			if d.Namespace != objectNamespace(v) {
				t.Errorf("Deployment namespace %q, want %q", d.Namespace, objectNamespace(v))
			}
			if d.Spec.Replicas == nil || *d.Spec.Replicas != 1 {
				t.Errorf("replicas = %v, want 1: the bbolt state store is single-writer", d.Spec.Replicas)
			}
			if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
				t.Errorf("strategy %q, want Recreate: a rolling update would run two writers of the state store", d.Spec.Strategy.Type)
			}
			sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
			if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
				t.Errorf("the Deployment's selector %v does not match its pod labels %v (%v)", d.Spec.Selector, d.Spec.Template.Labels, err)
			}
			checkLabels(t, "Deployment", d.Labels)

			// Security context, pod and container.
			psc := pod.SecurityContext
			if psc == nil {
				t.Fatal("no pod securityContext")
			}
			if psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
				t.Error("pod: runAsNonRoot is not true")
			}
			if psc.RunAsUser == nil || *psc.RunAsUser != 65532 {
				t.Errorf("pod: runAsUser = %v, want 65532", psc.RunAsUser)
			}
			if psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("pod: seccompProfile = %+v, want RuntimeDefault", psc.SeccompProfile)
			}
			sc := c.SecurityContext
			if sc == nil {
				t.Fatal("no container securityContext")
			}
			if sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot {
				t.Error("container: runAsNonRoot is not true")
			}
			if sc.RunAsUser == nil || *sc.RunAsUser != 65532 {
				t.Errorf("container: runAsUser = %v, want 65532", sc.RunAsUser)
			}
			if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
				t.Error("container: readOnlyRootFilesystem is not true")
			}
			if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Error("container: allowPrivilegeEscalation is not false")
			}
			if sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
				t.Errorf("container: capabilities = %+v, want drop [ALL] and nothing added", sc.Capabilities)
			}
			if sc.SeccompProfile == nil || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
				t.Errorf("container: seccompProfile = %+v, want RuntimeDefault", sc.SeccompProfile)
			}
			if sc.Privileged != nil && *sc.Privileged {
				t.Error("container: privileged")
			}

			// Service account: none of the API's tokens.
			if pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
				t.Error("pod: automountServiceAccountToken is not false")
			}
			if len(r.serviceAccounts) != 1 {
				t.Fatalf("rendered %d ServiceAccounts, want 1", len(r.serviceAccounts))
			}
			sa := r.serviceAccounts[0]
			if sa.Name != pod.ServiceAccountName {
				t.Errorf("pod runs as ServiceAccount %q, the chart makes %q", pod.ServiceAccountName, sa.Name)
			}
			if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
				t.Error("ServiceAccount: automountServiceAccountToken is not false")
			}

			// Port and probes.
			if len(c.Ports) != 1 || c.Ports[0].Name != "http-metrics" || c.Ports[0].ContainerPort != metricsPort {
				t.Errorf("container ports %+v, want http-metrics %d", c.Ports, metricsPort)
			}
			scheme := corev1.URISchemeHTTP
			if strings.Contains(v, "web-config") {
				scheme = corev1.URISchemeHTTPS
			}
			checkProbe(t, "liveness", c, c.LivenessProbe, "/-/healthy", scheme)
			// Ready means serving (see values.yaml readinessProbe.path).
			checkProbe(t, "readiness", c, c.ReadinessProbe, "/-/healthy", scheme)

			// The state store.
			e := env(c)
			if e["CX_STATE_DIR"] != stateDir {
				t.Errorf("CX_STATE_DIR = %q, want %q", e["CX_STATE_DIR"], stateDir)
			}
			vol := mountedVolume(t, pod, c, e["CX_STATE_DIR"])
			if vol == nil {
				t.Fatalf("nothing is mounted at CX_STATE_DIR %s: the root filesystem is read-only", e["CX_STATE_DIR"])
			}
			if strings.Contains(v, "persistence") {
				if vol.PersistentVolumeClaim == nil {
					t.Fatalf("persistence is on but CX_STATE_DIR is on %+v, not a PersistentVolumeClaim", vol.VolumeSource)
				}
				if len(r.pvcs) != 1 || r.pvcs[0].Name != vol.PersistentVolumeClaim.ClaimName {
					t.Errorf("the pod mounts claim %q, the chart renders %d claims", vol.PersistentVolumeClaim.ClaimName, len(r.pvcs))
				} else {
					pvc := r.pvcs[0]
					if !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteOnce) {
						t.Errorf("PVC access modes %v, want ReadWriteOnce", pvc.Spec.AccessModes)
					}
					if q := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; q.String() != "2Gi" {
						t.Errorf("PVC size %s, want the values' 2Gi", q.String())
					}
				}
			} else {
				if vol.EmptyDir == nil {
					t.Errorf("without persistence CX_STATE_DIR should be an emptyDir, is %+v", vol.VolumeSource)
				}
				if len(r.pvcs) != 0 {
					t.Errorf("persistence is off but %d PVCs are rendered", len(r.pvcs))
				}
			}

			// Credentials are files from a Secret, never values.
			checkCredentials(t, r, pod, c, v)
		})
	}
}

func checkLabels(t *testing.T, what string, l map[string]string) {
	t.Helper()
	for _, k := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/version", "app.kubernetes.io/managed-by", "helm.sh/chart"} {
		if l[k] == "" {
			t.Errorf("%s has no %s label", what, k)
		}
	}
	if l["app.kubernetes.io/instance"] != release {
		t.Errorf("%s: app.kubernetes.io/instance = %q, want %q", what, l["app.kubernetes.io/instance"], release)
	}
}

func checkProbe(t *testing.T, what string, c corev1.Container, p *corev1.Probe, path string, scheme corev1.URIScheme) {
	t.Helper()
	if p == nil || p.HTTPGet == nil {
		t.Errorf("%s probe: %+v, want an HTTP GET of %s", what, p, path)
		return
	}
	if p.HTTPGet.Path != path {
		t.Errorf("%s probe path %q, want %q", what, p.HTTPGet.Path, path)
	}
	if port := resolvePort(c, p.HTTPGet.Port); port != metricsPort {
		t.Errorf("%s probe port %s resolves to %d, want %d", what, p.HTTPGet.Port.String(), port, metricsPort)
	}
	if p.HTTPGet.Scheme != scheme && !(p.HTTPGet.Scheme == "" && scheme == corev1.URISchemeHTTP) {
		t.Errorf("%s probe scheme %s, want %s", what, p.HTTPGet.Scheme, scheme)
	}
}

// resolvePort is the container port a probe or Service port names.
func resolvePort(c corev1.Container, p intstr.IntOrString) int32 {
	if p.Type == intstr.Int {
		return p.IntVal
	}
	for _, cp := range c.Ports {
		if cp.Name == p.StrVal {
			return cp.ContainerPort
		}
	}
	return -1
}

// mountedVolume is the volume mounted at path.
func mountedVolume(t *testing.T, pod corev1.PodSpec, c corev1.Container, path string) *corev1.Volume {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if filepath.Clean(m.MountPath) != filepath.Clean(path) {
			continue
		}
		if m.ReadOnly {
			t.Errorf("%s is mounted read-only", path)
		}
		for i := range pod.Volumes {
			if pod.Volumes[i].Name == m.Name {
				return &pod.Volumes[i]
			}
		}
		t.Errorf("volume mount %s names no volume", m.Name)
	}
	return nil
}

func checkCredentials(t *testing.T, r *rendered, pod corev1.PodSpec, c corev1.Container, variant string) {
	t.Helper()
	e := env(c)
	files := map[string]string{}
	for name, value := range e {
		if strings.HasSuffix(name, "_FILE") && name != "CX_WEB_CONFIG_FILE" { // see TestWebConfig
			files[name] = value
		}
		if (strings.Contains(name, "TOKEN") || strings.Contains(name, "KEY") || strings.Contains(name, "SECRET")) && !strings.HasSuffix(name, "_FILE") {
			t.Errorf("%s is passed as a value; secrets go in files", name)
		}
	}
	want := map[string][]string{ // variant => the _FILE variables it should set
		"default": nil,
		"persistence": {"CX_CHARGEBEE_API_KEY_FILE", "CX_EDESK_API_TOKEN_FILE", "CX_FRESHDESK_API_KEY_FILE", "CX_HELPSCOUT_APP_SECRET_FILE", "CX_INTERCOM_TOKEN_FILE",
			"CX_PADDLE_API_KEY_FILE", "CX_STRIPE_API_KEY_FILE", "CX_STRIPE_WEBHOOK_SECRET_FILE", "CX_SURVEY_TOKEN_FILE", "CX_UDESK_API_TOKEN_FILE",
			"CX_ZENDESK_API_TOKEN_FILE", "CX_ZENDESK_WEBHOOK_SECRET_FILE", "CX_CHARGEBEE_WEBHOOK_SECRET_FILE", "CX_PADDLE_WEBHOOK_SECRET_FILE", "CX_INTERCOM_WEBHOOK_SECRET_FILE", "CX_FRESHDESK_WEBHOOK_SECRET_FILE", "CX_HELPSCOUT_WEBHOOK_SECRET_FILE",
			"CX_EDESK_WEBHOOK_SECRET_FILE", "CX_UDESK_WEBHOOK_SECRET_FILE"},
		"existing-secret": {"CX_CHARGEBEE_API_KEY_FILE", "CX_EDESK_API_TOKEN_FILE", "CX_FRESHDESK_API_KEY_FILE", "CX_HELPSCOUT_APP_SECRET_FILE", "CX_INTERCOM_TOKEN_FILE",
			"CX_STRIPE_API_KEY_FILE", "CX_STRIPE_WEBHOOK_SECRET_FILE", "CX_SURVEY_TOKEN_FILE", "CX_ZENDESK_OAUTH_TOKEN_FILE", "CX_ZENDESK_WEBHOOK_SECRET_FILE"},
		"monitoring":    nil,
		"networkpolicy": {"CX_ZENDESK_OAUTH_TOKEN_FILE"},
	}[variantName(variant)]
	slices.Sort(want)
	if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, want) {
		t.Errorf("credential files %v, want %v", got, want)
	}
	for name, path := range files {
		// The file must be an item of a Secret volume mounted read-only.
		var found bool
		for _, m := range c.VolumeMounts {
			rel, err := filepath.Rel(m.MountPath, path)
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			if !m.ReadOnly {
				t.Errorf("%s: the credentials volume %s is not read-only", name, m.Name)
			}
			for _, vol := range pod.Volumes {
				if vol.Name != m.Name || vol.Secret == nil {
					continue
				}
				for _, item := range vol.Secret.Items {
					if item.Path != rel {
						continue
					}
					found = true
					if s := secretNamed(r, vol.Secret.SecretName); s != nil {
						if len(s.Data[item.Key]) == 0 {
							t.Errorf("%s: Secret %s has no key %q", name, s.Name, item.Key)
						}
					} else if variantName(variant) != "existing-secret" {
						t.Errorf("%s: Secret %s is not rendered", name, vol.Secret.SecretName)
					}
				}
			}
		}
		if !found {
			t.Errorf("%s=%s is no item of a mounted Secret volume", name, path)
		}
	}
	if variantName(variant) == "existing-secret" && len(r.secrets) != 0 {
		t.Errorf("existingSecret is set, yet the chart renders %d Secrets", len(r.secrets))
	}
	if len(files) == 0 && len(r.secrets) != 0 {
		t.Errorf("no credentials, yet %d Secrets are rendered", len(r.secrets))
	}
}

func secretNamed(r *rendered, name string) *corev1.Secret {
	for _, s := range r.secrets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func TestService(t *testing.T) {
	for _, v := range variants {
		t.Run(variantName(v), func(t *testing.T) {
			r := render(t, valuesArgs(v)...)
			c := exporterContainer(t, r)
			if len(r.services) != 1 {
				t.Fatalf("rendered %d Services, want 1", len(r.services))
			}
			s := r.services[0]
			checkLabels(t, "Service", s.Labels)
			if len(s.Spec.Selector) == 0 {
				t.Fatal("the Service has no selector")
			}
			if !labels.SelectorFromSet(s.Spec.Selector).Matches(labels.Set(r.deployments[0].Spec.Template.Labels)) {
				t.Errorf("the Service's selector %v does not match the pod labels %v", s.Spec.Selector, r.deployments[0].Spec.Template.Labels)
			}
			if len(s.Spec.Ports) != 1 {
				t.Fatalf("Service ports %+v, want one", s.Spec.Ports)
			}
			p := s.Spec.Ports[0]
			if p.Name != "http-metrics" || p.Port != metricsPort || resolvePort(c, p.TargetPort) != metricsPort {
				t.Errorf("Service port %+v, want http-metrics %d to the container's %d", p, metricsPort, metricsPort)
			}
		})
	}
}

func TestOptionalObjectsAreOffByDefault(t *testing.T) {
	r := render(t)
	if n := len(r.serviceMonitors) + len(r.prometheusRules) + len(r.configMaps) + len(r.networkPolicies) + len(r.pvcs) + len(r.secrets); n != 0 {
		t.Errorf("defaults render %d ServiceMonitors, %d PrometheusRules, %d ConfigMaps, %d NetworkPolicies, %d PVCs, %d Secrets; want none",
			len(r.serviceMonitors), len(r.prometheusRules), len(r.configMaps), len(r.networkPolicies), len(r.pvcs), len(r.secrets))
	}
}

func TestServiceMonitor(t *testing.T) {
	r := render(t, valuesArgs("ci/monitoring-values.yaml")...)
	if len(r.serviceMonitors) != 1 {
		t.Fatalf("rendered %d ServiceMonitors, want 1", len(r.serviceMonitors))
	}
	sm := r.serviceMonitors[0]
	checkLabels(t, "ServiceMonitor", sm.Labels)
	if sm.Labels["release"] != "kube-prometheus-stack" {
		t.Errorf("ServiceMonitor labels %v lack additionalLabels' release", sm.Labels)
	}
	svc := r.services[0]
	sel, err := metav1.LabelSelectorAsSelector(&sm.Spec.Selector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(svc.Labels)) {
		t.Errorf("the ServiceMonitor's selector %+v does not select the Service (labels %v): %v", sm.Spec.Selector, svc.Labels, err)
	}
	if !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{namespace}) {
		t.Errorf("namespaceSelector %+v, want the release namespace %s", sm.Spec.NamespaceSelector, namespace)
	}
	if len(sm.Spec.Endpoints) != 1 {
		t.Fatalf("endpoints %+v, want one", sm.Spec.Endpoints)
	}
	ep := sm.Spec.Endpoints[0]
	if ep.Port != svc.Spec.Ports[0].Name || ep.Path != "/metrics" {
		t.Errorf("endpoint port %q path %q, want the Service's %q and /metrics", ep.Port, ep.Path, svc.Spec.Ports[0].Name)
	}
	if ep.Interval != "30s" || ep.ScrapeTimeout != "10s" {
		t.Errorf("endpoint interval %q timeout %q, want the values' 30s and 10s", ep.Interval, ep.ScrapeTimeout)
	}
}

// readRules decodes a rules file strictly, and generically.
func readRules(t *testing.T, data []byte) (RulesFile, any) {
	t.Helper()
	var rf RulesFile
	if err := yaml.UnmarshalStrict(data, &rf); err != nil {
		t.Fatalf("rules file does not decode strictly into the PrometheusRule spec: %v", err)
	}
	var generic any
	if err := yaml.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	return rf, generic
}

// generatedRules is what `cx-exporter rules -thresholds` writes for the
// thresholds in JSON.
func generatedRules(t *testing.T, thresholds string) []byte {
	t.Helper()
	file := filepath.Join(t.TempDir(), "t.json")
	if err := os.WriteFile(file, []byte(thresholds), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errOut bytes.Buffer
	if code := rulesgen.Main([]string{"-thresholds", file}, &out, &errOut); code != 0 {
		t.Fatalf("cx-exporter rules -thresholds %s: exit %d\n%s", thresholds, code, errOut.String())
	}
	return out.Bytes()
}

// TestPrometheusRuleIsTheRulesFile: the PrometheusRule the chart renders
// from rules.thresholds is, value for value, the rules file that
// `cx-exporter rules` writes with the same thresholds: with the defaults
// (and the chart's own job and namespace as the selector), and with
// thresholds, severities, labels and a runbook base set as values.
func TestPrometheusRuleIsTheRulesFile(t *testing.T) {
	for _, tc := range []struct {
		name       string
		args       []string
		thresholds string
	}{
		{"defaults", valuesArgs("ci/monitoring-values.yaml"),
			`{"Selector": "job=\"cx-exporter\", namespace=\"support\""}`},
		{"web-config", valuesArgs("ci/web-config-values.yaml"),
			`{"Selector": "job=\"cx-exporter\", namespace=\"cx-monitoring\"", "CSATMin": 0.85, "OldestTicketMaxAge": "3d",
			  "BacklogSpikeSeverity": "critical", "ExtraLabels": {"team": "cx-sre"}, "RunbookBaseURL": "https://wiki.example/cx-runbooks"}`},
		{"selector and labels", append(valuesArgs("ci/monitoring-values.yaml"),
			"--set", `rules.thresholds.Selector=job="cx"\, cluster="eu"`, "--set", "rules.thresholds.AggregateBy={cluster,job}",
			"--set", "rules.thresholds.SLABreachedMax=12", "--set", "rules.thresholds.RecordsRejectedFor=1h",
			"--set", "rules.thresholds.ExtraLabels.team=support", "--set", "rules.thresholds.ExtraLabels.tier=two"),
			`{"Selector": "job=\"cx\", cluster=\"eu\"", "AggregateBy": ["cluster", "job"], "SLABreachedMax": 12,
			  "RecordsRejectedFor": "1h", "ExtraLabels": {"team": "support", "tier": "two"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := generatedRules(t, tc.thresholds)
			want, wantGeneric := readRules(t, src)
			out, err := helm(t, append([]string{"template", release, chartDir, "--namespace", namespace, "--show-only", "templates/prometheusrule.yaml"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			r := decode(t, out)
			if len(r.prometheusRules) != 1 {
				t.Fatalf("rendered %d PrometheusRules, want 1", len(r.prometheusRules))
			}
			pr := r.prometheusRules[0]
			checkLabels(t, "PrometheusRule", pr.Labels)
			if !reflect.DeepEqual(pr.Spec.Groups, want.Groups) {
				for i := range min(len(pr.Spec.Groups), len(want.Groups)) {
					for j := range min(len(pr.Spec.Groups[i].Rules), len(want.Groups[i].Rules)) {
						if g, w := pr.Spec.Groups[i].Rules[j], want.Groups[i].Rules[j]; !reflect.DeepEqual(g, w) {
							t.Fatalf("rule %d of group %s differs:\n got %+v\nwant %+v", j, want.Groups[i].Name, g, w)
						}
					}
				}
				t.Fatalf("the PrometheusRule's groups differ from cx-exporter rules -thresholds %s", tc.thresholds)
			}
			// Nothing lost that the typed structs do not hold either.
			var whole map[string]any
			if err := yaml.Unmarshal([]byte(docSeparator.Split(out, -1)[1]), &whole); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(whole["spec"], wantGeneric) {
				t.Errorf("the PrometheusRule's spec is not the rules file")
			}
			// Prometheus templates reach Prometheus unexpanded.
			var templated int
			for _, g := range pr.Spec.Groups {
				for _, rule := range g.Rules {
					for _, a := range rule.Annotations {
						if strings.Contains(a, "{{ $labels") || strings.Contains(a, "{{ $value") {
							templated++
						}
					}
				}
			}
			if templated == 0 {
				t.Error("no annotation of the PrometheusRule holds a {{ $labels }} or {{ $value }} template: Helm expanded them")
			}
		})
	}
}

func TestPrometheusRuleOverride(t *testing.T) {
	dir := t.TempDir()
	// The documented path: rules generated with other thresholds.
	thresholds := filepath.Join(dir, "thresholds.json")
	if err := os.WriteFile(thresholds, []byte(`{"CSATMin": 0.85}`), 0o600); err != nil {
		t.Fatal(err)
	}
	rulesFile := filepath.Join(dir, "my.rules.yml")
	gen := exec.Command("go", "run", "./cmd/cx-exporter", "rules", "-thresholds", thresholds, "-o", rulesFile)
	gen.Dir = repoRoot(t)
	if out, err := gen.CombinedOutput(); err != nil {
		t.Fatalf("cx-exporter rules -thresholds (as deploy/README.md documents): %v\n%s", err, out)
	}
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := readRules(t, data)
	r := render(t, "--set", "prometheusRule.enabled=true", "--set-file", "prometheusRule.rulesOverride="+rulesFile)
	if len(r.prometheusRules) != 1 {
		t.Fatalf("rendered %d PrometheusRules, want 1", len(r.prometheusRules))
	}
	if !reflect.DeepEqual(r.prometheusRules[0].Spec.Groups, want.Groups) {
		t.Error("with rulesOverride the PrometheusRule's groups differ from the override file")
	}
	if !strings.Contains(string(data), "0.85") {
		t.Error("the generated rules do not carry the overridden CSATMin 0.85")
	}

	// A hand-written file with Prometheus templates, kept as written.
	small := "groups:\n  - name: mine\n    rules:\n      - alert: Mine\n        expr: up == 0\n        annotations:\n          description: '{{ $labels.instance }} is down ({{ $value }})'\n"
	smallFile := filepath.Join(dir, "small.rules.yml")
	if err := os.WriteFile(smallFile, []byte(small), 0o600); err != nil {
		t.Fatal(err)
	}
	r = render(t, "--set", "prometheusRule.enabled=true", "--set-file", "prometheusRule.rulesOverride="+smallFile)
	g := r.prometheusRules[0].Spec.Groups
	if len(g) != 1 || g[0].Name != "mine" || g[0].Rules[0].Annotations["description"] != "{{ $labels.instance }} is down ({{ $value }})" {
		t.Errorf("override rendered as %+v", g)
	}

	// Not a rules file: a clear error.
	_, err = helm(t, "template", release, chartDir, "--set", "prometheusRule.enabled=true", "--set", "prometheusRule.rulesOverride=just text")
	if err == nil || !strings.Contains(err.Error(), "rulesOverride") {
		t.Errorf("a rulesOverride without groups: err = %v, want one naming rulesOverride", err)
	}
}

func TestDashboardConfigMaps(t *testing.T) {
	sources, err := filepath.Glob(filepath.Join(repoRoot(t), "dashboards", "*.json"))
	if err != nil || len(sources) == 0 {
		t.Fatalf("no dashboards/*.json (%v): the chart bundles the repository's dashboards", err)
	}
	r := render(t, valuesArgs("ci/monitoring-values.yaml")...)
	if len(r.configMaps) != len(sources) {
		t.Errorf("rendered %d dashboard ConfigMaps, want one per dashboards/*.json (%d): run deploy/helm/generate.sh", len(r.configMaps), len(sources))
	}
	byFile := map[string]*corev1.ConfigMap{}
	for _, cm := range r.configMaps {
		checkLabels(t, "ConfigMap "+cm.Name, cm.Labels)
		if cm.Labels["grafana_dashboard"] != "1" {
			t.Errorf("ConfigMap %s: labels %v lack grafana_dashboard: \"1\"", cm.Name, cm.Labels)
		}
		if cm.Annotations["grafana_folder"] != "Customer support" {
			t.Errorf("ConfigMap %s: annotations %v lack the values' grafana_folder", cm.Name, cm.Annotations)
		}
		if len(cm.Data) != 1 {
			t.Errorf("ConfigMap %s holds %d files, want one dashboard", cm.Name, len(cm.Data))
		}
		for k := range cm.Data {
			byFile[k] = cm
		}
	}
	for _, src := range sources {
		name := filepath.Base(src)
		cm := byFile[name]
		if cm == nil {
			t.Errorf("no ConfigMap holds %s: run deploy/helm/generate.sh", name)
			continue
		}
		want, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if cm.Data[name] != string(want) {
			t.Errorf("ConfigMap %s: %s differs from dashboards/%s: run deploy/helm/generate.sh", cm.Name, name, name)
		}
		if !json.Valid([]byte(cm.Data[name])) {
			t.Errorf("ConfigMap %s: %s is not valid JSON", cm.Name, name)
		}
	}

	// Label key and value are configurable.
	r = render(t, "--set", "dashboards.enabled=true", "--set", "dashboards.label=my_dashboards", "--set", "dashboards.labelValue=yes", "--set", "dashboards.namespace=grafana")
	for _, cm := range r.configMaps {
		if cm.Labels["my_dashboards"] != "yes" || cm.Namespace != "grafana" {
			t.Errorf("ConfigMap %s: labels %v namespace %q, want my_dashboards=yes in grafana", cm.Name, cm.Labels, cm.Namespace)
		}
	}
}

// TestChartFilesUpToDate is what CI's generate.sh + git diff checks, kept
// here so that a plain go test catches it too.
func TestChartFilesUpToDate(t *testing.T) {
	root := repoRoot(t)
	pairs := map[string]string{
		filepath.Join(root, "alerts", "cx-exporter.rules.yml"): filepath.Join(chartDir, "files", "cx-exporter.rules.yml"),
	}
	sources, _ := filepath.Glob(filepath.Join(root, "dashboards", "*.json"))
	for _, s := range sources {
		pairs[s] = filepath.Join(chartDir, "files", "dashboards", filepath.Base(s))
	}
	for src, dst := range pairs {
		a, err := os.ReadFile(src)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		b, err := os.ReadFile(dst)
		if err != nil || !bytes.Equal(a, b) {
			t.Errorf("%s is not a copy of %s: run deploy/helm/generate.sh", dst, src)
		}
	}
	var tpl, errOut bytes.Buffer
	if code := rulesgen.Main([]string{"-helm-template"}, &tpl, &errOut); code != 0 {
		t.Fatalf("cx-exporter rules -helm-template: %s", errOut.String())
	}
	if b, err := os.ReadFile(filepath.Join(chartDir, "files", "cx-exporter.rules.tpl")); err != nil || !bytes.Equal(b, tpl.Bytes()) {
		t.Errorf("files/cx-exporter.rules.tpl is not what cx-exporter rules -helm-template writes: run deploy/helm/generate.sh")
	}
	copies, _ := filepath.Glob(filepath.Join(chartDir, "files", "dashboards", "*.json"))
	if len(copies) != len(sources) {
		t.Errorf("the chart has %d dashboards, dashboards/ has %d: run deploy/helm/generate.sh", len(copies), len(sources))
	}
}

func TestNetworkPolicy(t *testing.T) {
	r := render(t, valuesArgs("ci/networkpolicy-values.yaml")...)
	if len(r.networkPolicies) != 1 {
		t.Fatalf("rendered %d NetworkPolicies, want 1", len(r.networkPolicies))
	}
	np := r.networkPolicies[0]
	c := exporterContainer(t, r)
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil || sel.Empty() || !sel.Matches(labels.Set(r.deployments[0].Spec.Template.Labels)) {
		t.Errorf("the NetworkPolicy's podSelector %+v does not select the exporter's pod", np.Spec.PodSelector)
	}
	if !slices.Equal(np.Spec.PolicyTypes, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress}) {
		t.Errorf("policyTypes %v, want Ingress and Egress", np.Spec.PolicyTypes)
	}
	if len(np.Spec.Ingress) != 1 || len(np.Spec.Ingress[0].Ports) != 1 {
		t.Fatalf("ingress %+v, want one rule for the metrics port", np.Spec.Ingress)
	}
	in := np.Spec.Ingress[0]
	if port := resolvePort(c, *in.Ports[0].Port); port != metricsPort {
		t.Errorf("ingress port %v resolves to %d, want %d", in.Ports[0].Port, port, metricsPort)
	}
	if len(in.From) != 1 || in.From[0].NamespaceSelector == nil || in.From[0].PodSelector == nil ||
		in.From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"] != "monitoring" ||
		in.From[0].PodSelector.MatchLabels["app.kubernetes.io/name"] != "prometheus" {
		t.Errorf("ingress from %+v, want the values' monitoring namespace and prometheus pods, as one peer", in.From)
	}
	var egress []string
	for _, rule := range np.Spec.Egress {
		if len(rule.Ports) == 0 {
			t.Errorf("an egress rule allows every port: %+v", rule)
		}
		for _, p := range rule.Ports {
			egress = append(egress, fmt.Sprintf("%s/%s", p.Port.String(), *p.Protocol))
		}
	}
	sort.Strings(egress)
	if want := []string{"443/TCP", "53/TCP", "53/UDP"}; !slices.Equal(egress, want) {
		t.Errorf("egress ports %v, want %v", egress, want)
	}

	// No selectors: the metrics port is open to any source, and only it.
	r = render(t, "--set", "networkPolicy.enabled=true")
	in = r.networkPolicies[0].Spec.Ingress[0]
	if len(in.From) != 0 || len(in.Ports) != 1 {
		t.Errorf("ingress without selectors %+v, want the metrics port from anywhere", in)
	}
}

func TestSchemaRejectsInvalidValues(t *testing.T) {
	for _, tc := range []struct {
		set     []string
		mention string
	}{
		{[]string{"config.slaHours=sometimes"}, "slaHours"},
		{[]string{"config.pollInterval=5 minutes"}, "pollInterval"},
		{[]string{"config.pollInterval=60"}, "pollInterval"},
		{[]string{"config.syncTimeout=1d"}, "syncTimeout"},
		{[]string{"config.logLevel=verbose"}, "logLevel"},
		{[]string{"config.logFormat=xml"}, "logFormat"},
		{[]string{"config.ticketLabels={priority,customer}"}, "ticketLabels"},
		{[]string{"config.firstReplyTargets.critical=1h"}, "critical"},
		{[]string{"config.firstReplyTargets.urgent=soon"}, "urgent"},
		{[]string{"config.resolutionTargets.vip=1d"}, "vip"},
		{[]string{"config.resolutionTargets.low=d"}, "low"},
		{[]string{"config.supportCostMonthly=25000"}, "supportCostMonthly"},
		{[]string{"config.supportCostMonthly=lots USD"}, "supportCostMonthly"},
		{[]string{"config.holidays={25.12.2026}"}, "holidays"},
		{[]string{"config.maxLabelValues=0"}, "maxLabelValues"},
		{[]string{"config.httpRetries=50"}, "httpRetries"},
		{[]string{"config.pollIntervall=60s"}, "pollIntervall"},
		{[]string{"zendesk.pageSize=5000"}, "pageSize"},
		{[]string{"zendesk.subdomain=acme.zendesk.com"}, "subdomain"},
		{[]string{"freshdesk.domain=acme.freshdesk.com"}, "domain"},
		{[]string{"demoHelpdesk=kayako"}, "demoHelpdesk"},
		{[]string{"replicaCount=2"}, "replicaCount"},
		{[]string{"persistence.enabled=yes"}, "enabled"},
	} {
		t.Run(strings.Join(tc.set, ","), func(t *testing.T) {
			args := []string{"template", release, chartDir}
			for _, s := range tc.set {
				args = append(args, "--set", s)
			}
			_, err := helm(t, args...)
			if err == nil {
				t.Fatalf("--set %s was accepted", strings.Join(tc.set, " "))
			}
			if !strings.Contains(err.Error(), tc.mention) || !strings.Contains(err.Error(), "schema") {
				t.Errorf("the error does not point at %s in the values schema:\n%v", tc.mention, err)
			}
		})
	}
	// And valid values pass.
	if _, err := helm(t, "template", release, chartDir, "--set", "config.pollInterval=1h30m", "--set", "config.slaHours=calendar",
		"--set", "config.firstReplyTargets.urgent=90m", "--set", "config.resolutionTargets.normal=3d", "--set", "config.resolutionTargets.high=1d12h",
		"--set", "config.supportCostMonthly=25000 USD", "--set", "config.logLevel=warn", "--set", "config.holidays={2026-12-25}"); err != nil {
		t.Errorf("valid values rejected: %v", err)
	}
}

// TestNotes renders NOTES.txt (helm template does not print it, and helm
// install --dry-run wants a cluster) by wrapping it in a ConfigMap in a copy
// of the chart.
func TestNotes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cx-exporter")
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	notes, err := os.ReadFile(filepath.Join(dir, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	wrapped := "{{- define \"test.notes\" -}}\n" + string(notes) + "\n{{- end }}\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "_notes_test.tpl"), []byte(wrapped), 0o644); err != nil {
		t.Fatal(err)
	}
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ include \"test.notes\" . | toJson }}\n"
	if err := os.WriteFile(filepath.Join(dir, "templates", "notes-test.yaml"), []byte(cm), 0o644); err != nil {
		t.Fatal(err)
	}
	notesFor := func(variant string) string {
		args := []string{"template", release, dir, "--namespace", namespace, "--show-only", "templates/notes-test.yaml"}
		if variant != "" {
			args = append(args, "-f", filepath.Join(chartDir, variant))
		}
		out, err := helm(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		var c corev1.ConfigMap
		if err := yaml.UnmarshalStrict([]byte(out), &c); err != nil {
			t.Fatal(err)
		}
		return c.Data["notes"]
	}
	for _, v := range variants {
		n := notesFor(v)
		persistence := strings.Contains(v, "persistence")
		if warned := strings.Contains(n, "persistence is disabled"); warned == persistence {
			t.Errorf("%s: NOTES warn about the emptyDir: %v, want %v\n%s", variantName(v), warned, !persistence, n)
		}
		if !strings.Contains(n, fmt.Sprintf("port-forward svc/%s-cx-exporter", release)) {
			t.Errorf("%s: NOTES lack the port-forward command:\n%s", variantName(v), n)
		}
		if noSource := strings.Contains(n, "no source is configured"); noSource != (v == "") {
			t.Errorf("%s: NOTES warn that no source is configured: %v\n%s", variantName(v), noSource, n)
		}
	}
}

// TestValuesDocumented checks that every value of the schema has a default
// in values.yaml and a row in deploy/README.md's values table.
func TestValuesDocumented(t *testing.T) {
	var schema map[string]any
	data, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &schema); err != nil {
		t.Fatalf("values.schema.json: %v", err)
	}
	var values map[string]any
	data, err = os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var leaves []string
	var walk func(prefix string, s map[string]any)
	walk = func(prefix string, s map[string]any) {
		props, _ := s["properties"].(map[string]any)
		if len(props) == 0 || prefix != "" && s["additionalProperties"] != false {
			leaves = append(leaves, prefix)
			return
		}
		for k, v := range props {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			walk(p, v.(map[string]any))
		}
	}
	walk("", schema)
	// global is Helm's, for umbrella charts; the chart reads none of it.
	leaves = slices.DeleteFunc(leaves, func(l string) bool { return l == "global" })
	if len(leaves) < 50 {
		t.Fatalf("found %d values in the schema; the walk is broken", len(leaves))
	}
	documented := func(key string) bool { return bytes.Contains(readme, []byte("| `"+key+"` |")) }
	for _, leaf := range leaves {
		// A row for an object (livenessProbe, config.firstReplyTargets)
		// documents its fields.
		row := leaf
		for !documented(row) && strings.Contains(row, ".") {
			row = row[:strings.LastIndex(row, ".")]
		}
		if !documented(row) {
			t.Errorf("the chart README's values table has no row for %s: run deploy/helm/generate.sh", leaf)
		}
		var v any = values
		for _, k := range strings.Split(row, ".") {
			m, _ := v.(map[string]any)
			var ok bool
			if v, ok = m[k]; !ok {
				t.Errorf("values.yaml has no %s, which values.schema.json describes", row)
				break
			}
		}
	}
}

// TestWebConfig: the web config comes from a Secret; the probes and the
// ServiceMonitor follow its TLS and basic auth; the umbrella-chart values
// (global, namespaceOverride, commonLabels) and the extra args, volumes and
// mounts reach the objects.
func TestWebConfig(t *testing.T) {
	r := render(t, valuesArgs("ci/web-config-values.yaml")...)
	c := exporterContainer(t, r)
	pod := r.deployments[0].Spec.Template.Spec
	path := env(c)["CX_WEB_CONFIG_FILE"]
	if path != "/etc/cx-exporter/web/web-config.yml" {
		t.Errorf("CX_WEB_CONFIG_FILE = %q", path)
	}
	var mounted bool
	for _, m := range c.VolumeMounts {
		if m.MountPath == "/etc/cx-exporter/web" && m.ReadOnly {
			for _, v := range pod.Volumes {
				mounted = mounted || v.Name == m.Name && v.Secret != nil && v.Secret.SecretName == "cx-exporter-web"
			}
		}
	}
	if !mounted {
		t.Error("the web config Secret cx-exporter-web is not mounted read-only at /etc/cx-exporter/web")
	}
	if !slices.Contains(c.Args, "--log.level=debug") {
		t.Errorf("args %v lack extraArgs", c.Args)
	}
	if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "ca" && m.MountPath == "/etc/ssl/corporate" }) ||
		!slices.ContainsFunc(pod.Volumes, func(v corev1.Volume) bool {
			return v.Name == "ca" && v.ConfigMap != nil && v.ConfigMap.Name == "corporate-ca"
		}) {
		t.Error("extraVolumeMounts/extraVolumes not rendered")
	}
	sm := r.serviceMonitors[0]
	ep := sm.Spec.Endpoints[0]
	if ep.Scheme != "https" || ep.TLSConfig == nil || ep.TLSConfig.ServerName != "cx-exporter" || ep.TLSConfig.CA.Secret.Name != "cx-exporter-web" {
		t.Errorf("ServiceMonitor endpoint scheme %q tlsConfig %+v, want https with the values' tlsConfig", ep.Scheme, ep.TLSConfig)
	}
	if sm.Spec.ScrapeClassicHistograms == nil || !*sm.Spec.ScrapeClassicHistograms {
		t.Error("serviceMonitor.scrapeClassicHistograms: true not rendered")
	}
	if !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{"cx-monitoring"}) || sm.Namespace != "cx-monitoring" {
		t.Errorf("ServiceMonitor in %q selecting %v, want namespaceOverride cx-monitoring", sm.Namespace, sm.Spec.NamespaceSelector.MatchNames)
	}
	for _, o := range []metav1.ObjectMeta{r.deployments[0].ObjectMeta, r.services[0].ObjectMeta, r.serviceAccounts[0].ObjectMeta, sm.ObjectMeta, r.prometheusRules[0].ObjectMeta} {
		if o.Namespace != "cx-monitoring" || o.Labels["team"] != "cx-sre" {
			t.Errorf("%s: namespace %q labels %v, want namespaceOverride and commonLabels", o.Name, o.Namespace, o.Labels)
		}
	}

	// Basic auth: exporter-toolkit guards /-/healthy too, so the probes
	// check the port; the ServiceMonitor authenticates.
	r = render(t, append(valuesArgs("ci/web-config-values.yaml"), "--set", "webConfig.basicAuth=true",
		"--set", "serviceMonitor.basicAuth.username.name=scrape", "--set", "serviceMonitor.basicAuth.username.key=user",
		"--set", "serviceMonitor.basicAuth.password.name=scrape", "--set", "serviceMonitor.basicAuth.password.key=pass")...)
	c = exporterContainer(t, r)
	for what, p := range map[string]*corev1.Probe{"liveness": c.LivenessProbe, "readiness": c.ReadinessProbe} {
		if p == nil || p.TCPSocket == nil || p.HTTPGet != nil || resolvePort(c, p.TCPSocket.Port) != metricsPort {
			t.Errorf("%s probe with basic auth: %+v, want a TCP check of the metrics port", what, p)
		}
	}
	if ba := r.serviceMonitors[0].Spec.Endpoints[0].BasicAuth; ba == nil || ba.Username.Name != "scrape" || ba.Password.Key != "pass" {
		t.Errorf("ServiceMonitor basicAuth %+v", ba)
	}

	// /-/ready on request.
	r = render(t, "--set", "demo=true", "--set", "readinessProbe.path=/-/ready")
	c = exporterContainer(t, r)
	checkProbe(t, "readiness", c, c.ReadinessProbe, "/-/ready", corev1.URISchemeHTTP)

	if _, err := helm(t, "template", release, chartDir, "--set", "demo=true", "--set", "webConfig.enabled=true"); err == nil || !strings.Contains(err.Error(), "webConfig.existingSecret") {
		t.Errorf("webConfig.enabled without a Secret: err = %v, want one naming webConfig.existingSecret", err)
	}
}

// TestUmbrellaChart: the chart as a dependency of another chart, as
// kube-prometheus-stack users install it: Helm passes global to it, lint
// --strict and template pass, and values reach it under its name.
func TestUmbrellaChart(t *testing.T) {
	dir := t.TempDir()
	abs, err := filepath.Abs(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"Chart.yaml":          "apiVersion: v2\nname: monitoring\nversion: 1.0.0\ndependencies:\n  - name: cx-exporter\n    version: \">=0.0.0-0\"\n    repository: file://" + abs + "\n",
		"values.yaml":         "global:\n  imageRegistry: registry.example\n  storageClass: fast\ncx-exporter:\n  demo: true\n  namespaceOverride: cx\n  prometheusRule:\n    enabled: true\n",
		"templates/NOTES.txt": "umbrella\n",
	}
	for name, content := range files {
		if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := helm(t, "dependency", "update", dir); err != nil {
		t.Fatalf("helm dependency update: %v\n%s", err, out)
	}
	if out, err := helm(t, "lint", "--strict", dir); err != nil {
		t.Fatalf("helm lint --strict of the umbrella chart: %v\n%s", err, out)
	}
	out, err := helm(t, "template", "stack", dir, "--namespace", "monitoring")
	if err != nil {
		t.Fatalf("helm template of the umbrella chart: %v", err)
	}
	r := decode(t, out)
	if len(r.deployments) != 1 || r.deployments[0].Namespace != "cx" || len(r.prometheusRules) != 1 {
		t.Errorf("umbrella chart rendered %d Deployments (namespace %v) and %d PrometheusRules", len(r.deployments), r.deployments, len(r.prometheusRules))
	}
}

// TestChartVersionIsVERSION: the chart's version and appVersion (the image
// tag's default) are the repository's VERSION, as generate.sh writes them.
func TestChartVersionIsVERSION(t *testing.T) {
	v, err := os.ReadFile(filepath.Join(repoRoot(t), "VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	var chart struct {
		Version    string `json:"version"`
		AppVersion string `json:"appVersion"`
	}
	data, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &chart); err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(string(v))
	if chart.Version != want || chart.AppVersion != want {
		t.Errorf("Chart.yaml version %q appVersion %q, want VERSION's %q: run deploy/helm/generate.sh", chart.Version, chart.AppVersion, want)
	}
	r := render(t, "--set", "demo=true")
	if img := exporterContainer(t, r).Image; !strings.HasSuffix(img, ":"+want) {
		t.Errorf("default image %s, want tag %s", img, want)
	}
}
