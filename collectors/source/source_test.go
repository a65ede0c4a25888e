package source

import (
	"context"
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
