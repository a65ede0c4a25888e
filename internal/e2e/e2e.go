// Package e2e runs the real cx-exporter binary for end-to-end tests:
// build once, start with an environment, scrape, stop or kill.
package e2e

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// Root is the repository root.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// Binary builds cmd/cx-exporter once per test process.
func Binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "cx-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "cx-exporter")
		cmd := exec.Command("go", "build", "-ldflags", "-X github.com/prometheus/common/version.Version=e2e", "-o", binPath, "./cmd/cx-exporter")
		cmd.Dir = Root()
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Tool finds a pinned tool in ./bin, then on PATH; a missing tool fails
// the test (run `make tools`).
func Tool(t testing.TB, name string) string {
	t.Helper()
	if p := filepath.Join(Root(), "bin", name); fileExists(p) {
		return p
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	t.Fatalf("%s not found in ./bin or PATH: run `make tools`", name)
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// FreeAddr returns a free 127.0.0.1 address.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Exporter is a running cx-exporter process.
type Exporter struct {
	t    testing.TB
	cmd  *exec.Cmd
	Addr string
	logs *syncBuffer
	done chan struct{}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Start runs the binary with env (CX_LISTEN_ADDRESS is set here) and
// args, and waits until /-/healthy answers.
func Start(t testing.TB, env []string, args ...string) *Exporter {
	t.Helper()
	e := &Exporter{t: t, Addr: FreeAddr(t), logs: &syncBuffer{}, done: make(chan struct{})}
	e.cmd = exec.Command(Binary(t), args...)
	e.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "CX_LISTEN_ADDRESS=" + e.Addr}, env...)
	e.cmd.Stdout, e.cmd.Stderr = e.logs, e.logs
	if err := e.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = e.cmd.Wait(); close(e.done) }()
	t.Cleanup(func() { e.Kill() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-e.done:
			t.Fatalf("exporter exited at start-up:\n%s", e.Logs())
		default:
		}
		if r, err := http.Get("http://" + e.Addr + "/-/healthy"); err == nil {
			r.Body.Close()
			return e
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("exporter not healthy after 20s:\n%s", e.Logs())
	return nil
}

// Pid is the process id of the running exporter.
func (e *Exporter) Pid() int { return e.cmd.Process.Pid }

// Logs returns everything the process wrote.
func (e *Exporter) Logs() string { return e.logs.String() }

// Kill sends SIGKILL and waits.
func (e *Exporter) Kill() {
	_ = e.cmd.Process.Signal(syscall.SIGKILL)
	<-e.done
}

// Stop sends SIGTERM and waits for a clean exit.
func (e *Exporter) Stop() error {
	_ = e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.done:
	case <-time.After(30 * time.Second):
		return fmt.Errorf("no exit 30s after SIGTERM")
	}
	if !e.cmd.ProcessState.Success() {
		return fmt.Errorf("exit: %v", e.cmd.ProcessState)
	}
	return nil
}

// Get fetches a path.
func (e *Exporter) Get(path string) (int, string, error) {
	r, err := http.Get("http://" + e.Addr + path)
	if err != nil {
		return 0, "", err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return r.StatusCode, string(b), err
}

// Scrape returns /metrics in the text format.
func (e *Exporter) Scrape() (string, error) {
	code, body, err := e.Get("/metrics")
	if err == nil && code != 200 {
		err = fmt.Errorf("/metrics: %d", code)
	}
	return body, err
}

// Samples flattens an exposition into "name{a="1",b="2"}" → value, with
// histograms as their _bucket, _sum and _count series.
func Samples(text string) (map[string]float64, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for name, f := range fams {
		for _, m := range f.Metric {
			switch f.GetType() {
			case dto.MetricType_HISTOGRAM:
				h := m.GetHistogram()
				for _, b := range h.Bucket {
					out[Key(name+"_bucket", m.Label, "le", model.FloatString(b.GetUpperBound()).String())] = float64(b.GetCumulativeCount())
				}
				out[Key(name+"_bucket", m.Label, "le", "+Inf")] = float64(h.GetSampleCount())
				out[Key(name+"_sum", m.Label)] = h.GetSampleSum()
				out[Key(name+"_count", m.Label)] = float64(h.GetSampleCount())
			case dto.MetricType_COUNTER:
				out[Key(name, m.Label)] = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				out[Key(name, m.Label)] = m.GetGauge().GetValue()
			default:
				out[Key(name, m.Label)] = m.GetUntyped().GetValue()
			}
		}
	}
	return out, nil
}

// Key renders a series name with sorted labels; extra is name, value pairs.
func Key(name string, labels []*dto.LabelPair, extra ...string) string {
	var parts []string
	for _, l := range labels {
		parts = append(parts, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
	}
	for i := 0; i+1 < len(extra); i += 2 {
		parts = append(parts, fmt.Sprintf("%s=%q", extra[i], extra[i+1]))
	}
	sort.Strings(parts)
	return name + "{" + strings.Join(parts, ",") + "}"
}

// Series builds a key from alternating label names and values.
func Series(name string, kv ...string) string { return Key(name, nil, kv...) }
