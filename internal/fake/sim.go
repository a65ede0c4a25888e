package fake

import (
	"context"
	"time"
)

// SimOptions configures a fake's simulator (its SeedHistory and Simulate),
// which keeps the fake account changing in demo mode.
type SimOptions struct {
	// Seed makes runs reproducible: the same seed gives the same history and
	// the same sequence of random choices.
	Seed int64
	// Tick is the interval between simulation steps (default 1s).
	Tick time.Duration
	// Now is the simulator's clock (default: the server's). It dates the
	// simulated events.
	Now func() time.Time
}

// Run calls step every tick (default 1s), with the step's number from 0,
// until ctx ends or done is closed (a nil done never is). It blocks.
func Run(ctx context.Context, tick time.Duration, done <-chan struct{}, step func(i int)) {
	if tick <= 0 {
		tick = time.Second
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for i := 0; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-done:
			return
		case <-t.C:
			step(i)
		}
	}
}
