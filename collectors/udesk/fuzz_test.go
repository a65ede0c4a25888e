package udesk

import (
	"encoding/json"
	"testing"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
)

var rejectionReasons = map[string]bool{"malformed_record": true, "missing_field": true, "unknown_value": true, "inconsistent_time": true}

func FuzzDecodePage(f *testing.F) {
	f.Add([]byte(realisticPage))
	f.Add([]byte(realisticPage[:len(realisticPage)*2/3]))
	f.Add([]byte(`{"code":1000,"tickets":[],"meta":{"current_page":1,"total_pages":0,"total_count":0}}`))
	f.Add([]byte(`{"code":1000,"tickets":[null,{"id":"x"},{"id":3,"created_at":"bad"},{"id":4,"status_id":1.5}],"meta":{"current_page":1,"total_pages":1}}`))
	f.Add([]byte(`{"code":2004,"message":"请求过于频繁"}`))
	f.Add([]byte(`{"code":1000,"tickets":null,"meta":null}`))
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
		if p.Page < 1 {
			t.Errorf("page accepted with current_page %d", p.Page)
		}
		var raw struct {
			Tickets []json.RawMessage `json:"tickets"`
		}
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatalf("DecodePage accepted a body json rejects: %v", err)
		}
		// Every record is either decoded or rejected.
		if n := len(p.Tickets) + len(p.Rejected); n != len(raw.Tickets) {
			t.Errorf("%d tickets + %d rejections from %d records", len(p.Tickets), len(p.Rejected), len(raw.Tickets))
		}
		for _, r := range p.Rejected {
			if !rejectionReasons[r.Reason] || r.Err == nil {
				t.Errorf("rejection %+v", r)
			}
		}
		for i := range p.Tickets {
			tk := &p.Tickets[i]
			if tk.ID == "" || tk.Status == helpdesk.StatusUnknown || tk.CreatedAt.IsZero() || tk.UpdatedAt.IsZero() {
				t.Errorf("incomplete ticket accepted: %+v", tk)
			}
			if err := tk.Validate(); err != nil {
				t.Errorf("accepted ticket does not validate: %v: %+v", err, tk)
			}
			if tk.AgentReplies != -1 || tk.Reopens != -1 {
				t.Errorf("ticket %s: reply or reopen count invented", tk.ID)
			}
		}
	})
}
