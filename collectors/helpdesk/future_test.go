package helpdesk

import (
	"errors"
	"testing"
	"time"
)

// TestFutureVersionsRejected (issue 10, item 7): a version dated beyond
// now + MaxClockSkew is rejected as inconsistent_time, so it cannot make
// the later real versions stale; a ticket created in 9999 is not created.
func TestFutureVersionsRejected(t *testing.T) {
	now := wm.Add(time.Hour)
	ls, _ := ParseLabelSet("priority,channel")
	tr := NewTracker(Config{Labels: ls, Watermark: wm, Now: func() time.Time { return now }})
	rec := memRecords{}
	apply := func(tk Ticket) (Events, error) {
		b := tr.Begin()
		ev, err := b.Apply(rec, &tk)
		if err == nil {
			tr.Publish(b)
		}
		return ev, err
	}
	reason := func(err error) string {
		var inv *InvalidError
		if errors.As(err, &inv) {
			return inv.Reason
		}
		return ""
	}

	if ev, err := apply(tk(10 * time.Minute)); err != nil || !ev.Created {
		t.Fatalf("first version: %+v, %v", ev, err)
	}
	year2100 := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	_, err := apply(tk(10*time.Minute, func(t *Ticket) { t.UpdatedAt = year2100 }))
	if reason(err) != "inconsistent_time" {
		t.Errorf("updated_at in 2100: %v, want inconsistent_time", err)
	}
	// Within the skew is fine.
	if _, err := apply(tk(10*time.Minute, at(time.Hour+4*time.Minute))); err != nil {
		t.Errorf("updated_at 4 minutes ahead: %v", err)
	}
	ev, err := apply(tk(10*time.Minute, at(time.Hour+4*time.Minute+time.Second), solvedAt(50*time.Minute), rated(RatingGood)))
	if err != nil || ev.Stale || ev.Solves != 1 || ev.Rating != RatingGood {
		t.Errorf("the real solve after a future-dated version: %+v, %v", ev, err)
	}

	for name, mut := range map[string]func(*Ticket){
		"created_at 9999-12-31": func(t *Ticket) {
			t.ID = "2"
			t.CreatedAt = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
			t.UpdatedAt = t.CreatedAt
		},
	} {
		ev, err := apply(tk(20*time.Minute, mut))
		if reason(err) != "inconsistent_time" || ev.Created {
			t.Errorf("%s: %+v, %v; want rejected as inconsistent_time", name, ev, err)
		}
	}
	if tr.agg.Series == nil {
		t.Fatal("no series")
	}
	var created uint64
	for _, s := range tr.agg.Series {
		created += s.Created
	}
	if created != 1 {
		t.Errorf("created = %d, want 1 (the 9999 ticket is not created)", created)
	}
}

// TestStoredFutureVersionDoesNotFreeze: a state stored by an older exporter
// with an updated_at in 2100 no longer makes the real versions stale.
func TestStoredFutureVersionDoesNotFreeze(t *testing.T) {
	now := wm.Add(time.Hour)
	poisoned := State{Status: StatusOpen, CreatedAt: wm.Unix(), UpdatedAt: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), Priority: "normal"}
	_, ev, err := Apply(&poisoned, ptr(tk(0, at(50*time.Minute), solvedAt(40*time.Minute))), Rules{Watermark: wm, Now: now})
	if err != nil || ev.Stale || ev.Solves != 1 {
		t.Errorf("real version after a stored 2100 version: %+v, %v", ev, err)
	}
	// Without a clock (pure callers that pass none) the old rule holds.
	_, ev, _ = Apply(&poisoned, ptr(tk(0, at(50*time.Minute))), Rules{Watermark: wm})
	if !ev.Stale {
		t.Error("without Now, an older version is stale")
	}
}

func ptr[T any](v T) *T { return &v }
