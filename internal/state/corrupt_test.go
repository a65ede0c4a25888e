package state

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// writeStore makes a state file with n records, closed.
func writeStore(t *testing.T, dir string, n int) string {
	t.Helper()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	src := s.Source("zendesk")
	for i := 0; i < n; i += 500 {
		if err := src.Update(func(tx *Tx) error {
			for j := i; j < min(i+500, n); j++ {
				if err := tx.Records().Put(fmt.Sprint(j), bytes.Repeat([]byte("x"), 100)); err != nil {
					return err
				}
			}
			return tx.Put(KeyCursor, []byte("c"))
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, FileName)
}

// TestOpenRefusesCorruptFiles: an empty, truncated or overwritten state
// file is refused with an error that names the file and the recovery; it
// never starts over silently and never panics.
func TestOpenRefusesCorruptFiles(t *testing.T) {
	cases := map[string]func(t *testing.T, path string){
		"empty": func(t *testing.T, path string) {
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
		},
		"half truncated": func(t *testing.T, path string) {
			fi, _ := os.Stat(path)
			if err := os.Truncate(path, fi.Size()/2); err != nil {
				t.Fatal(err)
			}
		},
		"cut after the meta pages": func(t *testing.T, path string) {
			if err := os.Truncate(path, 3*4096); err != nil {
				t.Fatal(err)
			}
		},
		"tiny": func(t *testing.T, path string) {
			if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"garbage": func(t *testing.T, path string) {
			if err := os.WriteFile(path, bytes.Repeat([]byte{0xAB}, 64<<10), 0o600); err != nil {
				t.Fatal(err)
			}
		},
		"meta pages zeroed": func(t *testing.T, path string) {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			_, err = f.WriteAt(make([]byte, 8192), 0)
			f.Close()
			if err != nil {
				t.Fatal(err)
			}
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			path := writeStore(t, dir, 5000)
			damage(t, path)
			var s *Store
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("Open panicked: %v", r)
					}
				}()
				s, err = Open(dir)
			}()
			if err == nil {
				s.Close()
				t.Fatal("Open accepted a damaged state file")
			}
			if !errors.Is(err, ErrCorrupt) {
				t.Errorf("error does not wrap ErrCorrupt: %v", err)
			}
			for _, want := range []string{path, "move it aside", "runbooks.md#corrupt-state"} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
			if fi, _ := os.Stat(path); name == "empty" && fi.Size() != 0 {
				t.Error("Open wrote to the empty file: it must be left for the operator to look at")
			}
			var out bytes.Buffer
			if CheckFile(&out, dir) == nil {
				t.Error("CheckFile passed a damaged file")
			}
		})
	}
}

func TestOpenFreshAndCheckOK(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := CheckFile(&out, dir); err != nil || !strings.Contains(out.String(), "no state file") {
		t.Errorf("CheckFile on an empty dir: %v, %q", err, out.String())
	}
	writeStore(t, dir, 10)
	out.Reset()
	if err := CheckFile(&out, dir); err != nil || !strings.Contains(out.String(), ": ok") {
		t.Errorf("CheckFile on a good file: %v, %q", err, out.String())
	}
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestCommitWatch: the store tells how long a write has been in flight
// and how slow the slowest one was, so the process can notice a hung disk.
func TestCommitWatch(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	release := make(chan struct{})
	entered := make(chan struct{})
	s.SetCommitHook(func(src string) {
		if src == "slow" {
			close(entered)
			<-release
		}
	})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = s.Source("slow").Update(func(tx *Tx) error { return tx.Put(KeyCursor, []byte("c")) })
	}()
	<-entered
	time.Sleep(50 * time.Millisecond)
	if d := s.CommitInFlight("slow", time.Now()); d < 50*time.Millisecond {
		t.Errorf("in flight %s, want ≥ 50ms", d)
	}
	if d := s.CommitInFlight("other", time.Now()); d != 0 {
		t.Errorf("other source in flight %s", d)
	}
	close(release)
	wg.Wait()
	if d := s.CommitInFlight("slow", time.Now()); d != 0 {
		t.Errorf("in flight %s after the commit", d)
	}
	if d := s.SlowestCommit("slow"); d < 50*time.Millisecond {
		t.Errorf("slowest %s, want ≥ 50ms", d)
	}
	if d := s.SlowestCommit("slow"); d != 0 {
		t.Errorf("slowest %s after being read", d)
	}
	if s.Commits("slow") != 1 {
		t.Errorf("commits = %d", s.Commits("slow"))
	}
}
