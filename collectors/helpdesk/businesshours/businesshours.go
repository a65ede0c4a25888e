// Package businesshours measures working time: the part of a span that falls
// inside a weekly schedule of opening hours, in one time zone, minus holidays.
//
// Schedules are wall-clock based. A window such as 09:00-17:00 starts and ends
// when the local clock reads those times, so across a daylight-saving change
// it is still 8 hours long, while a window that contains the change (say
// 00:00-24:00 on the day clocks spring forward) is an hour shorter. Wall
// times skipped by a change count from the instant of the change; ambiguous
// wall times (clocks falling back) are resolved as [time.Date] resolves them.
//
// Working time is only counted between the years 1 and 9999; durations
// saturate at the largest [time.Duration] (about 292 years).
package businesshours

import (
	"slices"
	"time"
)

const (
	minutesPerDay = 24 * 60
	secondsPerDay = 24 * 60 * 60
	day           = 24 * time.Hour
	week          = 7 * day
	maxDuration   = time.Duration(1<<63 - 1)

	// zoneMargin keeps whole-week arithmetic clear of zone transitions. It
	// exceeds the difference between any two UTC offsets, so wall times at
	// least this far inside a zone period are neither skipped nor ambiguous.
	zoneMargin = 48 * time.Hour

	// minUnix and maxUnix bound the instants that can hold working time:
	// 0001-01-01T00:00:00Z and 10000-01-01T00:00:00Z.
	minUnix = -62135596800
	maxUnix = 253402300800
)

// window is a half-open range of minutes after local midnight, with
// 0 <= start < end <= minutesPerDay.
type window struct{ start, end int }

// Calendar is a weekly working schedule in one time zone, minus holidays.
// It is immutable and safe for concurrent use. The zero Calendar (and a nil
// *Calendar) has no working time at all.
type Calendar struct {
	loc      *time.Location
	days     [7][]window      // by time.Weekday; sorted, disjoint and not touching
	holidays []int64          // sorted day numbers (see dayNumber)
	daily    [7]time.Duration // nominal working time of each weekday
	weekly   time.Duration    // nominal working time of a week without holidays
}

// Between returns the working time in [a, b); zero if b <= a.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if c.empty() {
		return 0
	}
	a, b = clampInstant(a), clampInstant(b)
	if !a.Before(b) {
		return 0
	}
	var total time.Duration
	n, last := c.localDay(a)-1, c.localDay(b)+1
	start := c.at(civilDay(n), 0)
	for n <= last && total < maxDuration {
		if days, work := c.nominal(n, c.regularDays(n, start, a, b), maxDuration); days > 0 {
			total = addSat(total, work)
			n, start = n+days, start.Add(time.Duration(days)*day)
			continue
		}
		it := c.spansOn(n, start)
		for s, e, ok := it.next(); ok; s, e, ok = it.next() {
			total = addSat(total, overlap(s, e, a, b))
		}
		n, start = n+1, it.end
	}
	return total
}

// Add returns the earliest instant t' >= t such that Between(t, t') == d,
// in t's location. If d <= 0 it returns t. If the calendar has no working
// time at all, or t' would fall after the year 9999, it returns the zero
// time.Time.
func (c *Calendar) Add(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	if c.empty() {
		return time.Time{}
	}
	from, limit := clampInstant(t), time.Unix(maxUnix, 0)
	n, last := c.localDay(from)-1, c.localDay(limit)+1
	start := c.at(civilDay(n), 0)
	for n <= last {
		if days, work := c.nominal(n, c.regularDays(n, start, from, limit), d); days > 0 {
			d -= work
			n, start = n+days, start.Add(time.Duration(days)*day)
			continue
		}
		it := c.spansOn(n, start)
		for s, e, ok := it.next(); ok; s, e, ok = it.next() {
			s, e = later(s, from), earlier(e, limit)
			if !s.Before(e) {
				continue
			}
			if e.Sub(s) >= d {
				return s.Add(d).In(t.Location())
			}
			d -= e.Sub(s)
		}
		n, start = n+1, it.end
	}
	return time.Time{}
}

func (c *Calendar) empty() bool { return c == nil || c.weekly == 0 }

func (c *Calendar) location() *time.Location {
	if c == nil || c.loc == nil {
		return time.UTC
	}
	return c.loc
}

// localDay returns the day number of t's local date.
func (c *Calendar) localDay(t time.Time) int64 {
	y, m, d := t.In(c.location()).Date()
	return dayNumber(y, m, d)
}

// at returns the instant the local clock reads minute (0 to 24*60) on day
// dd, as time.Date resolves it, except that a wall time skipped by a zone
// transition maps to the instant of the transition. (time.Date maps it to an
// earlier or later instant, which would let windows overlap or reverse.)
func (c *Calendar) at(dd date, minute int) time.Time {
	t := time.Date(dd.y, dd.m, dd.d, 0, minute, 0, 0, c.location())
	_, offset := t.Zone()
	got, want := t.Unix()+int64(offset), dd.n*secondsPerDay+int64(minute)*60
	if got == want {
		return t
	}
	start, end := t.ZoneBounds()
	switch {
	case got < want && !end.IsZero():
		return end
	case got > want && !start.IsZero():
		return start
	}
	return t
}

// regularDays returns how many days from day n, which begins at start, can
// be counted arithmetically: they lie inside [lo, hi), hold no holiday and
// stay clear of zone transitions, so that every window has its nominal
// length and each day begins exactly 24 hours after the one before.
func (c *Calendar) regularDays(n int64, start, lo, hi time.Time) int64 {
	if start.Before(lo) || hi.Sub(start) < day {
		return 0
	}
	zoneStart, zoneEnd := start.ZoneBounds()
	if !zoneStart.IsZero() && start.Sub(zoneStart) < zoneMargin {
		return 0
	}
	if !zoneEnd.IsZero() {
		hi = earlier(hi, zoneEnd.Add(-zoneMargin))
	}
	m := int64(max(hi.Sub(start), 0) / day)
	if i, _ := slices.BinarySearch(c.holidays, n); i < len(c.holidays) {
		m = min(m, c.holidays[i]-n)
	}
	return m
}

// nominal counts up to m regular days from day n, whole weeks first, while
// their working time stays below budget. It returns how many days it
// counted and their working time.
func (c *Calendar) nominal(n, m int64, budget time.Duration) (int64, time.Duration) {
	weeks := min(m/7, int64((budget-1)/c.weekly))
	days, total := 7*weeks, time.Duration(weeks)*c.weekly
	for ; days < m; days++ {
		next := c.daily[weekday(n+days)]
		if next >= budget-total {
			break
		}
		total += next
	}
	return days, total
}

// spansOn returns an iterator over the working spans of day n, which begins
// at start.
func (c *Calendar) spansOn(n int64, start time.Time) spans {
	dd := civilDay(n)
	it := spans{c: c, dd: dd, prev: start, end: later(c.at(dd, minutesPerDay), start)}
	if _, holiday := slices.BinarySearch(c.holidays, n); !holiday {
		it.windows = c.days[weekday(n)]
	}
	return it
}

// spans iterates over the working spans of one local day. Spans are clamped
// into the day and to begin no earlier than the previous one ended, so they
// never overlap whatever the zone rules do.
type spans struct {
	c       *Calendar
	dd      date
	windows []window
	prev    time.Time // end of the previous span
	end     time.Time // instant the day ends (and the next begins)
}

func (it *spans) next() (s, e time.Time, ok bool) {
	if len(it.windows) == 0 {
		return time.Time{}, time.Time{}, false
	}
	w := it.windows[0]
	it.windows = it.windows[1:]
	s = clamp(it.c.at(it.dd, w.start), it.prev, it.end)
	e = clamp(it.c.at(it.dd, w.end), s, it.end)
	it.prev = e
	return s, e, true
}

// date is a civil date together with its day number.
type date struct {
	n int64
	y int
	m time.Month
	d int
}

// dayNumber returns the number of days from 1970-01-01 to the given date.
func dayNumber(y int, m time.Month, d int) int64 {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / secondsPerDay
}

// civilDay returns the date of day number n.
func civilDay(n int64) date {
	y, m, d := time.Unix(n*secondsPerDay, 0).UTC().Date()
	return date{n: n, y: y, m: m, d: d}
}

// weekday returns the day of the week of day number n.
func weekday(n int64) time.Weekday {
	return time.Weekday(((n+int64(time.Thursday))%7 + 7) % 7) // 1970-01-01 was a Thursday
}

// clampInstant limits t to the instants that can hold working time and
// drops its monotonic clock reading.
func clampInstant(t time.Time) time.Time {
	switch {
	case t.Unix() < minUnix:
		return time.Unix(minUnix, 0)
	case t.Unix() >= maxUnix:
		return time.Unix(maxUnix, 0)
	}
	return t.Round(0)
}

// overlap returns the length of [s, e) ∩ [lo, hi).
func overlap(s, e, lo, hi time.Time) time.Duration {
	s, e = later(s, lo), earlier(e, hi)
	if !s.Before(e) {
		return 0
	}
	return e.Sub(s)
}

func clamp(t, lo, hi time.Time) time.Time { return earlier(later(t, lo), hi) }

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// addSat returns a+b (both non-negative), saturating at maxDuration.
func addSat(a, b time.Duration) time.Duration {
	if a > maxDuration-b {
		return maxDuration
	}
	return a + b
}
