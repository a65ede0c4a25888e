package source

import (
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/billing"
	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/internal/state"
)

// TestUndecodableRecordIsRejectedNotFatal (item 5): one stored record the
// engine cannot decode is rejected as malformed_record and deleted; the
// source still starts with the rest of its state.
func TestUndecodableRecordIsRejectedNotFatal(t *testing.T) {
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ls, _ := helpdesk.ParseLabelSet("priority,channel")
	good := helpdesk.State{Status: helpdesk.StatusOpen, CreatedAt: 1, UpdatedAt: 1, Priority: "normal",
		Labels: [6]string{"normal", "web", "none", "none", "none", "none"}}
	gv, _ := good.MarshalBinary()
	for _, name := range []string{"zendesk", "stripe"} {
		err := store.Source(name).Update(func(tx *state.Tx) error {
			if name == "stripe" {
				return tx.Records().Put("sub/bad", []byte{0xff, 0x01})
			}
			if err := tx.Records().Put("good", gv); err != nil {
				return err
			}
			return tx.Records().Put("bad", []byte{0xff, 0x01})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	type rejection struct{ id, reason string }
	var got []rejection
	env := func(name string) Env {
		return Env{Deps: Deps{Name: name, State: store.Source(name), Now: time.Now,
			Reject: func(id, reason string, err error) {
				if err == nil {
					t.Error("rejection without an error")
				}
				got = append(got, rejection{id, reason})
			}}.WithDefaults(), Helpdesk: helpdesk.Config{Labels: ls}, Billing: billing.Config{}}
	}
	tr, err := env("zendesk").HelpdeskTracker()
	if err != nil {
		t.Fatalf("one undecodable ticket failed the source: %v", err)
	}
	if n := tr.OpenTickets(); n != 1 {
		t.Errorf("open tickets = %d, want the 1 good one", n)
	}
	if _, err := env("stripe").BillingTracker(); err != nil {
		t.Fatalf("one undecodable subscription failed the source: %v", err)
	}
	want := []rejection{{"bad", "malformed_record"}, {"sub/bad", "malformed_record"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("rejections %v, want %v", got, want)
	}
	// Deleted: the next start is clean, and the record's next version
	// counts as first seen.
	got = nil
	if _, err := env("zendesk").HelpdeskTracker(); err != nil || len(got) != 0 {
		t.Errorf("second start: %v, rejections %v", err, got)
	}
	_ = store.Source("zendesk").View(func(tx *state.Tx) error {
		if tx.Records().Get("bad") != nil {
			t.Error("the undecodable record is still stored")
		}
		return nil
	})
}
