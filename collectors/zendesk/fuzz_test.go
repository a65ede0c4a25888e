package zendesk

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
)

var rejectionReasons = map[string]bool{"malformed_record": true, "missing_field": true, "unknown_value": true}

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(realisticPage))
	f.Add([]byte(realisticPage[:len(realisticPage)*2/3]))
	f.Add([]byte(`{"tickets":[],"metric_sets":[],"after_cursor":"MTcwOQ==","before_cursor":null,"end_of_stream":true}`))
	f.Add([]byte(`{"tickets":[{"id":1,"status":"open","priority":null,"type":null,"via":{"channel":null},` +
		`"group_id":null,"brand_id":null,"created_at":"2024-01-01T00:00:00Z","updated_at":"2024-01-01T00:00:00Z",` +
		`"generated_timestamp":1704067200,"satisfaction_rating":null}],` +
		`"metric_sets":[{"ticket_id":1,"replies":null,"reopens":null,"solved_at":null,` +
		`"reply_time_in_minutes":{"calendar":null,"business":null},"full_resolution_time_in_minutes":null}],` +
		`"after_cursor":"abc","end_of_stream":false}`))
	f.Add([]byte(`{"tickets":[{"id":2,"status":"hold","via":{"channel":7},"created_at":"2024-01-01T00:00:00Z",` +
		`"updated_at":"2024-01-01T00:00:00Z","generated_timestamp":9223372036854775807,` +
		`"satisfaction_rating":{"id":5,"score":"bad","comment":"slow"}},null,{"id":"x"},{"id":3,"created_at":"bad"}],` +
		`"metric_sets":[{"ticket_id":2,"replies":-1,"reply_time_in_minutes":{"calendar":-200000000,"business":100000001},` +
		`"solved_at":"2023-01-01T00:00:00Z"},{"id":9},null],"after_cursor":"d","end_of_stream":true}`))
	f.Add([]byte(`{"tickets":null,"metric_sets":null,"after_cursor":null}`))
	f.Add([]byte(`null`))

	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePage(body)
		if err != nil {
			if p != nil {
				t.Fatalf("page returned with error %v", err)
			}
			return
		}
		if p == nil {
			t.Fatal("nil page without error")
		}
		if p.AfterCursor == "" {
			t.Error("page accepted without after_cursor")
		}
		// Count the records independently.
		var raw struct {
			Tickets    []json.RawMessage `json:"tickets"`
			MetricSets []json.RawMessage `json:"metric_sets"`
		}
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatalf("DecodePage accepted a body json rejects: %v", err)
		}
		nt, nm := len(raw.Tickets), len(raw.MetricSets)
		if len(p.Tickets) > nt {
			t.Errorf("%d tickets from %d records", len(p.Tickets), nt)
		}
		// Every ticket record is either decoded or rejected; metric sets
		// are only ever rejected.
		if n := len(p.Tickets) + len(p.Rejected); n < nt || n > nt+nm {
			t.Errorf("%d tickets + %d rejections from %d tickets and %d metric sets", len(p.Tickets), len(p.Rejected), nt, nm)
		}
		for _, r := range p.Rejected {
			if r.Reason == "" || !rejectionReasons[r.Reason] {
				t.Errorf("rejection with reason %q: %+v", r.Reason, r)
			}
			if r.Err == nil {
				t.Errorf("rejection without error: %+v", r)
			}
		}
		for i := range p.Tickets {
			tk := &p.Tickets[i]
			if tk.ID == "" {
				t.Errorf("ticket without id: %+v", tk)
			}
			if tk.CreatedAt.IsZero() && tk.Validate() == nil {
				// "0001-01-01T00:00:00Z" decodes to the zero time.
				t.Errorf("ticket %s without creation time validates", tk.ID)
			}
			if tk.Status == helpdesk.StatusUnknown {
				t.Errorf("ticket %s with unknown status accepted", tk.ID)
			}
			for _, d := range []helpdesk.Durations{tk.FirstReply, tk.Resolution} {
				checkDuration(t, tk.ID, d.Calendar, d.CalendarKnown)
				checkDuration(t, tk.ID, d.Business, d.BusinessKnown)
			}
			if err := tk.Validate(); err == nil {
				if !oneOfStrings(tk.Priority, helpdesk.Priorities) || !oneOfStrings(tk.Channel, helpdesk.Channels) || !oneOfStrings(tk.Type, helpdesk.TicketTypes) {
					t.Errorf("non-canonical ticket validates: %+v", tk)
				}
			}
		}
	})
}

// checkDuration: a decoded duration is unknown and zero, or a whole number
// of minutes within range, or negative (so Validate rejects it).
func checkDuration(t *testing.T, id string, d time.Duration, known bool) {
	t.Helper()
	switch {
	case !known && d != 0:
		t.Errorf("ticket %s: unknown duration %v is not zero", id, d)
	case d >= 0 && (d%time.Minute != 0 || d > maxMinutes*time.Minute):
		t.Errorf("ticket %s: duration %v is not a minute count in range", id, d)
	}
}

func oneOfStrings(v string, set []string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}
