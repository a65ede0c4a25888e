package source

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestFetchContext: the fetch context outlives its parent by the grace,
// no more, and stop ends it at once.
func TestFetchContext(t *testing.T) {
	d := Deps{FetchGrace: 200 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	fetch, stop := d.FetchContext(ctx)
	defer stop()
	cancel()
	start := time.Now()
	select {
	case <-fetch.Done():
		t.Fatal("the fetch context ended with its parent: the page in flight would be lost")
	case <-time.After(100 * time.Millisecond):
	}
	select {
	case <-fetch.Done():
		if d := time.Since(start); d < 200*time.Millisecond || d > 2*time.Second {
			t.Errorf("cancelled %s after the parent, want the 200ms grace", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the fetch context outlived its grace")
	}

	fetch2, stop2 := d.FetchContext(context.Background())
	stop2()
	if fetch2.Err() == nil {
		t.Error("stop did not end the fetch context")
	}
	if DefaultFetchGrace > 10*time.Second {
		t.Errorf("DefaultFetchGrace %s: SIGTERM must end the process within 10s", DefaultFetchGrace)
	}
}

// TestPages: a listing whose last page is committed succeeds even when
// the sync's context ended meanwhile; otherwise a done context stops it
// between pages, and a page's error ends it.
func TestPages(t *testing.T) {
	var d Deps
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := d.Pages(ctx, func(context.Context) (bool, error) {
		n++
		if n == 2 {
			cancel() // the deadline passes while the last page commits
		}
		return n == 2, nil
	})
	if err != nil || n != 2 {
		t.Errorf("last page committed after the context ended: err %v after %d pages, want nil after 2", err, n)
	}
	ctx, cancel = context.WithCancel(context.Background())
	n = 0
	err = d.Pages(ctx, func(context.Context) (bool, error) {
		n++
		cancel()
		return false, nil
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Errorf("context done between pages: err %v after %d pages, want context.Canceled after 1", err, n)
	}
	boom := errors.New("boom")
	err = d.Pages(context.Background(), func(context.Context) (bool, error) { return true, boom })
	if !errors.Is(err, boom) {
		t.Errorf("page error: %v, want boom", err)
	}
}
