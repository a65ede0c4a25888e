package edesk

import (
	"encoding/json"
	"testing"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
)

var rejectionReasons = map[string]bool{"malformed_record": true, "missing_field": true, "unknown_value": true, "inconsistent_time": true}

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(realisticPage), 100)
	f.Add([]byte(realisticPage[:len(realisticPage)*2/3]), 100)
	f.Add([]byte(`{"data":[]}`), 1)
	f.Add([]byte(`{"data":[null,{},{"id":1},{"id":{"a":1}},{"id":2,"status":"Spam","created_at":99999999999999}]}`), 0)
	f.Add([]byte(`{"data":[{"id":-1,"status":"closed","created_at":-5,"last_updated_at":"2026-13-45 99:00:00","replies":9223372036854775807,
		"messages_ids":[1,-1,0]}],"paginator":{"currentPage":-1,"itemsPerPage":0,"totalItemsCount":-3}}`), 100)
	f.Add([]byte(`{"data":null}`), 100)
	f.Add([]byte(`null`), 100)

	f.Fuzz(func(t *testing.T, body []byte, per int) {
		p, err := DecodePage(body, per)
		if err != nil {
			if p != nil {
				t.Fatalf("page returned with error %v", err)
			}
			return
		}
		if p == nil {
			t.Fatal("nil page without error")
		}
		var raw struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatalf("DecodePage accepted a body json rejects: %v", err)
		}
		// Every record is either decoded or rejected, once.
		if n := len(p.Tickets) + len(p.Rejected); n != len(raw.Data) {
			t.Errorf("%d tickets + %d rejections from %d records", len(p.Tickets), len(p.Rejected), len(raw.Data))
		}
		for _, r := range p.Rejected {
			if !rejectionReasons[r.Reason] || r.Err == nil {
				t.Errorf("rejection %+v", r)
			}
		}
		for i := range p.Tickets {
			l := &p.Tickets[i]
			tk := l.Ticket
			if tk.ID == "" || tk.Status == helpdesk.StatusUnknown || tk.UpdatedAt.Before(tk.CreatedAt) || tk.AgentReplies < 0 || l.Fingerprint == "" {
				t.Errorf("ticket %+v accepted", tk)
			}
			// The engine must take whatever the decoder produced without
			// panicking: valid, or an InvalidError.
			if _, _, err := helpdesk.Apply(nil, &tk, helpdesk.Rules{}); err != nil && tk.Validate() == nil {
				t.Errorf("Apply refused what Validate accepts: %v", err)
			}
		}
	})
}
