package source

import (
	"context"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
)

// History is a vendor's past as `cx-exporter backfill` replays it: the
// record versions the vendor's own timestamps allow, in time order, fed
// to the same engines the live exporter runs.
type History interface {
	// Replay reads the vendor's history of changes dated in [from, to)
	// and hands every change to r in time order: r.Advance(at) before the
	// vendor applies a change dated at to its own reconstruction, then the
	// record version(s) it produces. resume is what State returned at an
	// Advance of an earlier, interrupted replay (nil: start afresh);
	// Replay then reads from that Advance's time on.
	Replay(ctx context.Context, from, to time.Time, resume []byte, r Replayer) error
	// State encodes the vendor's reconstruction as of the last Advance,
	// before the change that followed it.
	State() ([]byte, error)
	// Requests is how many upstream requests the replay has made.
	Requests() int
}

// Replayer receives a replay.
type Replayer interface {
	// Advance says the next change is dated at (never earlier than the
	// previous Advance).
	Advance(at time.Time) error
	// Ticket is a helpdesk record's version after a change.
	Ticket(t *helpdesk.Ticket) error
	// Subscription is a billing record's version after a change.
	Subscription(s *billing.Subscription) error
}
