package zendesk

import (
	"context"
	"testing"
	"time"

	fakezendesk "github.com/cx-exporter/cx-exporter/internal/fake/zendesk"
)

// TestSyncThatCommittedTheEndSucceedsPastTheDeadline (issue 10, item 1):
// the deadline passes while the last page is in flight; the page is
// committed and it is the end of the stream, so the sync succeeded.
func TestSyncThatCommittedTheEndSucceedsPastTheDeadline(t *testing.T) {
	zd := fakezendesk.NewServer(fakezendesk.Options{Email: syncEmail, APIToken: syncToken, NoRateLimit: true})
	defer zd.Close()
	for i := 1; i <= 3; i++ {
		zd.Put(fakezendesk.Ticket{ID: int64(i), Status: "open", Priority: "normal", Channel: "web", CreatedAt: time.Now().UTC().Add(-time.Hour)})
	}
	c, tr := newSyncCollector(t, zd, time.Now())
	zd.SetSlowDelay(300 * time.Millisecond)
	zd.InjectFault(fakezendesk.FaultSlow, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Sync(ctx); err != nil {
		t.Fatalf("a sync that committed the end of the stream failed: %v", err)
	}
	if ctx.Err() == nil {
		t.Fatal("the deadline did not pass during the sync: the test proves nothing")
	}
	if n := tr.OpenTickets(); n != 3 {
		t.Errorf("open tickets = %d, want 3", n)
	}
}
