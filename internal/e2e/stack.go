package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Process is a helper server (Prometheus, Alertmanager) run by a test.
type Process struct {
	Addr string
	cmd  *exec.Cmd
	logs *syncBuffer
}

// StartProcess runs bin with args, waits for http://addr/-/ready and
// stops it when the test ends.
func StartProcess(t testing.TB, addr, bin string, args ...string) *Process {
	t.Helper()
	p := &Process{Addr: addr, logs: &syncBuffer{}}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-done
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			t.Fatalf("%s exited at start-up:\n%s", filepath.Base(bin), p.logs.String())
		default:
		}
		if r, err := http.Get("http://" + addr + "/-/ready"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s not ready after 60s:\n%s", filepath.Base(bin), p.logs.String())
	return nil
}

// Logs returns what the process wrote.
func (p *Process) Logs() string { return p.logs.String() }

// PromQuery is the answer of /api/v1/query.
type PromQuery struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string            `json:"resultType"`
		Result     []json.RawMessage `json:"result"`
	} `json:"data"`
}

// Query runs an instant PromQL query against the Prometheus at addr.
func Query(addr, expr string) (*PromQuery, error) {
	r, err := http.Get("http://" + addr + "/api/v1/query?" + url.Values{"query": {expr}}.Encode())
	if err != nil {
		return nil, err
	}
	defer r.Body.Close()
	var q PromQuery
	if err := json.NewDecoder(r.Body).Decode(&q); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	return &q, nil
}

// GetJSON fetches a JSON API.
func GetJSON(u string, v any) error {
	r, err := http.Get(u)
	if err != nil {
		return err
	}
	defer r.Body.Close()
	if r.StatusCode != 200 {
		return fmt.Errorf("%s: %d", u, r.StatusCode)
	}
	return json.NewDecoder(r.Body).Decode(v)
}

// WriteFile writes a file into dir and returns its path.
func WriteFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
