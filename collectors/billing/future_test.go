package billing

import (
	"testing"
	"time"
)

// TestFutureSubscriptions (issue 10, item 7): a stored version updated in
// 2100 does not make the later real versions stale.
func TestFutureSubscriptions(t *testing.T) {
	wm := time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC)
	now := wm.Add(time.Hour)
	sub := func(mut func(*Subscription)) *Subscription {
		s := &Subscription{ID: "s1", Customer: "c1", Status: StatusActive, Currency: "usd", VendorMRRMinor: 1000,
			CreatedAt: wm.Add(time.Minute), UpdatedAt: wm.Add(time.Minute)}
		if mut != nil {
			mut(s)
		}
		return s
	}
	poisoned := SubState{Status: StatusActive, Paying: true, EverPaid: true, Currency: "usd", MRRMinor: 1000, Plan: "none",
		CreatedAt: wm.Unix(), UpdatedAt: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()}
	cus := CustomerState{MRRMinor: map[string]int64{"usd": 1000}, EverPaid: true}
	_, _, ev, err := Apply(&poisoned, &cus, sub(func(s *Subscription) {
		s.Status, s.CanceledAt, s.UpdatedAt = StatusCanceled, wm.Add(30*time.Minute), wm.Add(30*time.Minute)
	}), Rules{Watermark: wm, Now: now})
	if err != nil || ev.Stale || !ev.Churned {
		t.Errorf("real cancellation after a stored 2100 version: %+v, %v", ev, err)
	}
}
