package billing

import "slices"

// OtherValue replaces plan label values beyond the cap.
const OtherValue = "other"

// planLabel is the name under which the plan values are limited.
const planLabel = "plan"

// labelLimiter caps the number of distinct values per label. The values it
// has admitted are persisted with the aggregates, so a restart maps every
// value to the same series.
type labelLimiter struct {
	Max    int                 `json:"max"`
	Values map[string][]string `json:"values"`
}

// admit returns v if it was admitted before or there is room for it, and
// OtherValue otherwise.
func (l *labelLimiter) admit(name, v string) string {
	vals := l.Values[name]
	if slices.Contains(vals, v) {
		return v
	}
	if len(vals) >= l.Max {
		return OtherValue
	}
	if l.Values == nil {
		l.Values = map[string][]string{}
	}
	l.Values[name] = append(vals, v)
	return v
}

func (l *labelLimiter) clone() labelLimiter {
	c := labelLimiter{Max: l.Max, Values: make(map[string][]string, len(l.Values))}
	for k, v := range l.Values {
		c.Values[k] = slices.Clone(v)
	}
	return c
}
