package helpdesk

import (
	"fmt"
	"strings"
)

// LabelNames are the ticket labels CX_TICKET_LABELS can choose from, in
// the order State.Labels holds them.
var LabelNames = [numLabels]string{"priority", "channel", "group", "ticket_type", "brand"}

const numLabels = 5

// OtherValue replaces label values beyond the per-label cap.
const OtherValue = "other"

// LabelSet is the choice of ticket labels to export.
type LabelSet struct {
	idx   []int // indexes into LabelNames, in the order given
	names []string
}

// ParseLabelSet parses a comma-separated list such as "priority,channel".
func ParseLabelSet(s string) (LabelSet, error) {
	var ls LabelSet
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		i := indexOf(LabelNames[:], f)
		if i < 0 {
			return LabelSet{}, fmt.Errorf("unknown label %q, want some of %s", f, strings.Join(LabelNames[:], ","))
		}
		if seen[f] {
			return LabelSet{}, fmt.Errorf("label %q given twice", f)
		}
		seen[f] = true
		ls.idx = append(ls.idx, i)
		ls.names = append(ls.names, f)
	}
	return ls, nil
}

// Names returns a copy of the chosen label names.
func (ls LabelSet) Names() []string { return append([]string(nil), ls.names...) }

// values picks the chosen label values of a ticket.
func (ls LabelSet) values(all *[numLabels]string) []string {
	out := make([]string, len(ls.idx))
	for i, j := range ls.idx {
		out[i] = all[j]
	}
	return out
}

func indexOf(set []string, v string) int {
	for i, s := range set {
		if s == v {
			return i
		}
	}
	return -1
}

// labelLimiter caps the number of distinct values per label. The values it
// has admitted are persisted with the aggregates, so a restart maps every
// value to the same series.
type labelLimiter struct {
	Max    int                 `json:"max"`
	Values map[string][]string `json:"values"`
}

// capValues maps a ticket's raw label values to exported ones: empty
// becomes "none", and values beyond the cap become "other".
func (l *labelLimiter) capValues(t *Ticket) [numLabels]string {
	raw := [numLabels]string{t.Priority, t.Channel, t.Group, t.Type, t.Brand}
	for i, v := range raw {
		if v == "" {
			v = "none"
		}
		raw[i] = l.admit(LabelNames[i], v)
	}
	return raw
}

func (l *labelLimiter) admit(name, v string) string {
	vals := l.Values[name]
	if indexOf(vals, v) >= 0 {
		return v
	}
	if len(vals) >= l.Max {
		return OtherValue
	}
	l.Values[name] = append(vals, v)
	return v
}
