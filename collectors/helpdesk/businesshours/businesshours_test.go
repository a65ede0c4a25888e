package businesshours

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // hermetic zone data for the DST cases
)

const weekdays = "Mon-Fri 09:00-17:00"

// instant parses s in the calendar's zone: "2006-01-02 15:04", or RFC 3339.
func instant(t testing.TB, c *Calendar, s string) time.Time {
	t.Helper()
	var v time.Time
	var err error
	if strings.Contains(s, "T") {
		v, err = time.Parse(time.RFC3339Nano, s)
	} else {
		v, err = time.ParseInLocation("2006-01-02 15:04", s, c.location())
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBetween(t *testing.T) {
	christmas := []string{"2026-12-24", "2026-12-25"}
	tests := []struct {
		name     string
		hours    string
		tz       string
		holidays []string
		a, b     string
		want     time.Duration
	}{
		// Plain weekdays; 2026-03-02 is a Monday.
		{"inside one window", weekdays, "", nil, "2026-03-02 10:00", "2026-03-02 12:30", 150 * time.Minute},
		{"starts before opening", weekdays, "", nil, "2026-03-02 07:00", "2026-03-02 10:00", time.Hour},
		{"ends after closing", weekdays, "", nil, "2026-03-02 16:00", "2026-03-02 20:00", time.Hour},
		{"outside hours only", weekdays, "", nil, "2026-03-02 18:00", "2026-03-03 08:00", 0},
		{"overnight", weekdays, "", nil, "2026-03-02 16:00", "2026-03-03 10:00", 2 * time.Hour},
		{"over a weekend", weekdays, "", nil, "2026-03-06 16:00", "2026-03-09 10:00", 2 * time.Hour},
		{"weekend only", weekdays, "", nil, "2026-03-07 00:00", "2026-03-09 00:00", 0},
		{"whole week", weekdays, "", nil, "2026-03-02 00:00", "2026-03-09 00:00", 40 * time.Hour},
		{"four weeks", weekdays, "", nil, "2026-03-02 00:00", "2026-03-30 00:00", 160 * time.Hour},
		{"six weeks from midday", weekdays, "", nil, "2026-03-04 12:00", "2026-04-15 12:00", 240 * time.Hour},
		{"a year", weekdays, "", nil, "2026-01-01 00:00", "2027-01-01 00:00", 261 * 8 * time.Hour},
		{"end before start", weekdays, "", nil, "2026-03-03 12:00", "2026-03-02 12:00", 0},
		{"empty span", weekdays, "", nil, "2026-03-02 12:00", "2026-03-02 12:00", 0},
		{"sub-second precision", weekdays, "", nil, "2026-03-02T16:59:59.5Z", "2026-03-03T09:00:00.25Z", 750 * time.Millisecond},
		{"other zone instants", weekdays, "", nil, "2026-03-02T10:00:00+01:00", "2026-03-02T12:00:00-01:00", 4 * time.Hour},

		// Holidays; 2026-12-24 is a Thursday.
		{"holiday week", weekdays, "", christmas, "2026-12-21 00:00", "2026-12-28 00:00", 24 * time.Hour},
		{"starting on a holiday", weekdays, "", christmas, "2026-12-24 10:00", "2026-12-28 10:00", time.Hour},
		{"holiday outside the span", weekdays, "", christmas, "2026-12-21 09:00", "2026-12-22 09:00", 8 * time.Hour},
		{"holiday is a whole local day", "24/7", "Europe/Berlin", []string{"2026-12-25"}, "2026-12-24T12:00:00Z", "2026-12-26T12:00:00Z", 24 * time.Hour},
		{"holiday in a multi-week span", weekdays, "", christmas, "2026-11-30 00:00", "2027-01-04 00:00", 5*40*time.Hour - 16*time.Hour},

		// Several windows per day.
		{"lunch break", "Mon-Fri 09:00-12:00 13:00-17:00", "", nil, "2026-03-02 11:00", "2026-03-02 14:00", 2 * time.Hour},
		{"two rules", "Mon-Fri 09:00-12:00; Mon-Fri 13:00-17:00", "", nil, "2026-03-02 00:00", "2026-03-09 00:00", 35 * time.Hour},
		{"overlapping windows merge", "Mon 09:00-12:00, Mon 11:00-13:00", "", nil, "2026-03-02 00:00", "2026-03-09 00:00", 4 * time.Hour},
		{"mixed days", "Mon-Fri 09:00-17:00, Sat 10:00-14:00", "", nil, "2026-03-02 00:00", "2026-03-09 00:00", 44 * time.Hour},
		{"late window to midnight", "Mon-Sun 22:00-24:00", "", nil, "2026-03-02 23:00", "2026-03-03 01:00", time.Hour},

		// Day ranges that wrap around the week.
		{"Sun-Thu over Fri and Sat", "Sun-Thu 08:00-16:00", "", nil, "2026-03-06 00:00", "2026-03-08 12:00", 4 * time.Hour},
		{"Sun-Thu week", "Sun-Thu 08:00-16:00", "", nil, "2026-03-02 00:00", "2026-03-09 00:00", 40 * time.Hour},
		{"Fri-Mon week", "Fri-Mon 10:00-12:00", "", nil, "2026-03-02 00:00", "2026-03-09 00:00", 8 * time.Hour},

		// Every minute counts.
		{"24/7", "24/7", "", nil, "2026-03-02 10:00", "2026-03-04 13:30", 51*time.Hour + 30*time.Minute},
		{"always", "always", "", nil, "2026-03-02 10:00", "2026-03-04 13:30", 51*time.Hour + 30*time.Minute},

		// America/New_York springs forward on Sun 2026-03-08 and falls back on Sun 2026-11-01.
		{"NY Sunday that springs forward", "Sun 00:00-24:00", "America/New_York", nil, "2026-03-07 00:00", "2026-03-09 12:00", 23 * time.Hour},
		{"NY Sunday that falls back", "Sun 00:00-24:00", "America/New_York", nil, "2026-10-31 00:00", "2026-11-02 12:00", 25 * time.Hour},
		{"NY ordinary Sunday", "Sun 00:00-24:00", "America/New_York", nil, "2026-03-14 00:00", "2026-03-16 00:00", 24 * time.Hour},
		{"NY Sundays around both changes", "Sun 00:00-24:00", "America/New_York", nil, "2026-01-01 00:00", "2027-01-01 00:00", 52 * 24 * time.Hour},
		{"NY weekdays over spring forward", weekdays, "America/New_York", nil, "2026-03-06 12:00", "2026-03-09 12:00", 8 * time.Hour},
		{"NY weekdays two weeks over spring forward", weekdays, "America/New_York", nil, "2026-03-02 00:00", "2026-03-16 00:00", 80 * time.Hour},
		{"NY weekdays over fall back", weekdays, "America/New_York", nil, "2026-10-30 12:00", "2026-11-02 12:00", 8 * time.Hour},
		{"NY weekdays a year", weekdays, "America/New_York", nil, "2026-01-01 00:00", "2027-01-01 00:00", 261 * 8 * time.Hour},
		{"NY 24/7 over spring forward", "24/7", "America/New_York", nil, "2026-03-07 12:00", "2026-03-09 12:00", 47 * time.Hour},
		{"NY 24/7 over fall back", "24/7", "America/New_York", nil, "2026-10-31 12:00", "2026-11-02 12:00", 49 * time.Hour},
		{"NY window holding the jump", "Sun 01:00-04:00", "America/New_York", nil, "2026-03-08 00:00", "2026-03-09 00:00", 2 * time.Hour},
		{"NY window holding the fall back", "Sun 01:00-04:00", "America/New_York", nil, "2026-11-01 00:00", "2026-11-02 00:00", 4 * time.Hour},
		{"NY window starting in the skipped hour", "Sun 02:30-04:00", "America/New_York", nil, "2026-03-08 00:00", "2026-03-09 00:00", time.Hour},
		{"NY window ending in the skipped hour", "Sun 01:30-02:30", "America/New_York", nil, "2026-03-08 00:00", "2026-03-09 00:00", 30 * time.Minute},
		{"NY window inside the skipped hour", "Sun 02:00-02:30", "America/New_York", nil, "2026-03-08 00:00", "2026-03-09 00:00", 0},

		// Europe/Berlin springs forward on Sun 2026-03-29 and falls back on Sun 2026-10-25.
		{"Berlin Sunday that springs forward", "Sun 00:00-24:00", "Europe/Berlin", nil, "2026-03-29 00:00", "2026-03-30 00:00", 23 * time.Hour},
		{"Berlin Sunday that falls back", "Sun 00:00-24:00", "Europe/Berlin", nil, "2026-10-25 00:00", "2026-10-26 00:00", 25 * time.Hour},
		{"Berlin weekdays over spring forward, UTC instants", weekdays, "Europe/Berlin", nil, "2026-03-27T08:00:00Z", "2026-03-30T07:00:00Z", 8 * time.Hour},
		{"Berlin weekdays over fall back", weekdays, "Europe/Berlin", nil, "2026-10-19 00:00", "2026-10-26 12:00", 43 * time.Hour},
		{"Berlin holiday after fall back", weekdays, "Europe/Berlin", []string{"2026-10-26"}, "2026-10-26 00:00", "2026-10-27 12:00", 3 * time.Hour},

		// Australia/Lord_Howe moves its clocks by half an hour.
		{"Lord Howe falls back 30m", "Sun 00:00-24:00", "Australia/Lord_Howe", nil, "2026-04-05 00:00", "2026-04-06 00:00", 24*time.Hour + 30*time.Minute},
		{"Lord Howe springs forward 30m", "Sun 00:00-24:00", "Australia/Lord_Howe", nil, "2026-10-04 00:00", "2026-10-05 00:00", 23*time.Hour + 30*time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := MustParse(tt.hours, tt.tz, tt.holidays)
			a, b := instant(t, c, tt.a), instant(t, c, tt.b)
			if got := c.Between(a, b); got != tt.want {
				t.Errorf("%v.Between(%v, %v) = %v, want %v", c, a, b, got, tt.want)
			}
			if got := refBetween(c, a, b); got != tt.want {
				t.Errorf("day-by-day reference = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestAdd(t *testing.T) {
	tests := []struct {
		name     string
		hours    string
		tz       string
		holidays []string
		t        string
		d        time.Duration
		want     string
	}{
		{"inside a window", weekdays, "", nil, "2026-03-02 10:00", 2 * time.Hour, "2026-03-02 12:00"},
		{"to closing, not the next opening", weekdays, "", nil, "2026-03-02 10:00", 7 * time.Hour, "2026-03-02 17:00"},
		{"into the next day", weekdays, "", nil, "2026-03-02 16:00", 2 * time.Hour, "2026-03-03 10:00"},
		{"from after closing", weekdays, "", nil, "2026-03-02 17:00", time.Minute, "2026-03-03 09:01"},
		{"over a weekend", weekdays, "", nil, "2026-03-06 16:00", 2 * time.Hour, "2026-03-09 10:00"},
		{"from the weekend", weekdays, "", nil, "2026-03-07 12:00", time.Hour, "2026-03-09 10:00"},
		{"zero", weekdays, "", nil, "2026-03-07 12:00", 0, "2026-03-07 12:00"},
		{"negative", weekdays, "", nil, "2026-03-07 12:00", -time.Hour, "2026-03-07 12:00"},
		{"ten weeks", weekdays, "", nil, "2026-03-02 09:00", 400 * time.Hour, "2026-05-08 17:00"},
		{"over holidays", weekdays, "", []string{"2026-12-24", "2026-12-25"}, "2026-12-23 16:00", 2 * time.Hour, "2026-12-28 10:00"},
		{"lunch break", "Mon-Fri 09:00-12:00 13:00-17:00", "", nil, "2026-03-02 11:00", 2 * time.Hour, "2026-03-02 14:00"},
		{"wrapping days", "Fri-Mon 10:00-12:00", "", nil, "2026-03-03 00:00", 5 * time.Hour, "2026-03-08 11:00"},
		{"NY short Sunday", "Sun 00:00-24:00", "America/New_York", nil, "2026-03-07 00:00", 23 * time.Hour, "2026-03-09 00:00"},
		{"NY after the short Sunday", "Sun 00:00-24:00", "America/New_York", nil, "2026-03-07 00:00", 24 * time.Hour, "2026-03-15 01:00"},
		{"NY long Sunday", "Sun 00:00-24:00", "America/New_York", nil, "2026-10-31 00:00", 25 * time.Hour, "2026-11-02 00:00"},
		{"NY 24/7 over the jump", "24/7", "America/New_York", nil, "2026-03-08 00:00", 3 * time.Hour, "2026-03-08 04:00"},
		{"NY weekdays over spring forward", weekdays, "America/New_York", nil, "2026-03-06 16:00", 2 * time.Hour, "2026-03-09 10:00"},
		{"Berlin weekdays, UTC instants", weekdays, "Europe/Berlin", nil, "2026-03-27T15:00:00Z", 2 * time.Hour, "2026-03-30T08:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := MustParse(tt.hours, tt.tz, tt.holidays)
			from, want := instant(t, c, tt.t), instant(t, c, tt.want)
			got := c.Add(from, tt.d)
			if !got.Equal(want) {
				t.Fatalf("%v.Add(%v, %v) = %v, want %v", c, from, tt.d, got, want)
			}
			if got.Location() != from.Location() {
				t.Errorf("Add returned location %v, want %v", got.Location(), from.Location())
			}
			if tt.d > 0 {
				if b := c.Between(from, got); b != tt.d {
					t.Errorf("Between(t, Add(t, %v)) = %v", tt.d, b)
				}
			}
		})
	}
}

func TestNoWorkingTime(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for name, c := range map[string]*Calendar{"zero": {}, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			if got := c.Between(now, now.Add(time.Hour)); got != 0 {
				t.Errorf("Between = %v, want 0", got)
			}
			if got := c.Add(now, time.Hour); !got.IsZero() {
				t.Errorf("Add = %v, want the zero time", got)
			}
			if got := c.Add(now, 0); !got.Equal(now) {
				t.Errorf("Add(t, 0) = %v, want t", got)
			}
			if got, want := c.String(), "none (UTC)"; got != want {
				t.Errorf("String = %q, want %q", got, want)
			}
		})
	}
}

func TestRange(t *testing.T) {
	always := MustParse("24/7", "America/New_York", nil)
	end := time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := always.Add(end.Add(-2*time.Hour), time.Hour); !got.Equal(end.Add(-time.Hour)) {
		t.Errorf("Add just before the year 10000 = %v", got)
	}
	if got := always.Add(end.Add(-time.Hour), 2*time.Hour); !got.IsZero() {
		t.Errorf("Add past the year 9999 = %v, want the zero time", got)
	}
	if got := always.Add(end.Add(time.Hour), time.Hour); !got.IsZero() {
		t.Errorf("Add after the year 9999 = %v, want the zero time", got)
	}
	if got := always.Between(end, end.Add(time.Hour)); got != 0 {
		t.Errorf("Between after the year 9999 = %v, want 0", got)
	}
	if got := always.Between(time.Time{}, time.Time{}.Add(time.Hour)); got != time.Hour {
		t.Errorf("Between at the start of year 1 = %v, want 1h", got)
	}
	if got := always.Between(time.Time{}, time.Unix(1<<62, 0)); got != maxDuration {
		t.Errorf("Between over 9999 years = %v, want it to saturate", got)
	}
	// Extreme instants in a zone with transitions must finish quickly.
	c := MustParse(weekdays, "America/New_York", []string{"2026-12-25"})
	start := time.Now()
	c.Between(time.Unix(-1<<62, 0), time.Unix(1<<62, 0))
	c.Add(time.Time{}, maxDuration)
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("extreme spans took %v", elapsed)
	}
}

// calendars returns a variety of calendars for property tests.
func calendars(t testing.TB) []*Calendar {
	t.Helper()
	specs := []struct{ hours, tz, holidays string }{
		{weekdays, "", ""},
		{weekdays, "America/New_York", "2026-12-25, 2027-01-01, 2026-11-26"},
		{"Sun 00:00-24:00", "America/New_York", ""},
		{"Sun 01:00-04:00, Wed 02:30-03:30, Sat 00:00-00:01", "America/New_York", ""},
		{"Mon-Fri 09:00-12:00 13:00-17:00, Sat 10:00-14:00", "Europe/Berlin", "2026-10-26"},
		{"Sun-Thu 08:00-16:00", "Asia/Jerusalem", ""},
		{"24/7", "Australia/Lord_Howe", "2026-04-05"},
		{"Fri-Mon 00:00-24:00", "Pacific/Apia", "2011-12-29"},
		{"Mon-Sun 00:00-02:00 23:00-24:00", "America/Sao_Paulo", ""},
	}
	var cs []*Calendar
	for _, s := range specs {
		holidays, err := ParseHolidays(s.holidays)
		if err != nil {
			t.Fatal(err)
		}
		cs = append(cs, MustParse(s.hours, s.tz, holidays))
	}
	return cs
}

// randomInstant returns an instant from 1900 to 2100, mostly near today,
// with nanoseconds.
func randomInstant(r *rand.Rand) time.Time {
	if r.IntN(4) == 0 {
		from := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)
		return from.Add(time.Duration(r.Int64N(int64(200 * 365 * 24 * time.Hour))))
	}
	from := time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC)
	return from.Add(time.Duration(r.Int64N(int64(30 * 365 * 24 * time.Hour))))
}

// randomDuration returns a duration up to max, often whole minutes.
func randomDuration(r *rand.Rand, max time.Duration) time.Duration {
	d := time.Duration(r.Int64N(int64(max)))
	if r.IntN(2) == 0 {
		d = d.Truncate(time.Minute)
	}
	return d
}

func TestAddInvertsBetween(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range calendars(t) {
		for range 2000 {
			a := randomInstant(r)
			d := randomDuration(r, 3000*time.Hour) + time.Nanosecond
			b := c.Add(a, d)
			if b.Before(a) {
				t.Fatalf("%v: Add(%v, %v) = %v, before the start", c, a, d, b)
			}
			if got := c.Between(a, b); got != d {
				t.Fatalf("%v: Between(%v, Add(.., %v) = %v) = %v", c, a, d, b, got)
			}
			if got := c.Between(a, b.Add(-time.Nanosecond)); got >= d {
				t.Fatalf("%v: Add(%v, %v) = %v is not the earliest: Between up to 1ns before is %v", c, a, d, b, got)
			}
		}
	}
}

func TestBetweenIsAdditive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, c := range calendars(t) {
		for range 2000 {
			span := 400 * 24 * time.Hour
			if r.IntN(10) == 0 {
				span = 20 * 365 * 24 * time.Hour
			}
			a := randomInstant(r)
			b := a.Add(randomDuration(r, span))
			x := a.Add(randomDuration(r, span))
			ab, bx, ax := c.Between(a, b), c.Between(b, x), c.Between(a, x)
			if b.Before(x) && ab+bx != ax {
				t.Fatalf("%v: Between(%v, %v) + Between(.., %v) = %v + %v, Between over all = %v", c, a, b, x, ab, bx, ax)
			}
			if ab < 0 || ab > b.Sub(a) {
				t.Fatalf("%v: Between(%v, %v) = %v, outside [0, %v]", c, a, b, ab, b.Sub(a))
			}
			if span < 2*365*24*time.Hour { // the reference is slow over decades
				if want := refBetween(c, a, b); ab != want {
					t.Fatalf("%v: Between(%v, %v) = %v, day-by-day reference %v", c, a, b, ab, want)
				}
			}
		}
	}
}

// refBetween is Between without whole-week arithmetic: it adds up the
// spans of every day.
func refBetween(c *Calendar, a, b time.Time) time.Duration {
	var total time.Duration
	for n := c.localDay(a) - 1; n <= c.localDay(b)+1; n++ {
		it := c.spansOn(n, c.at(civilDay(n), 0))
		for s, e, ok := it.next(); ok; s, e, ok = it.next() {
			total += overlap(s, e, a, b)
		}
	}
	return total
}

// TestMinuteByMinute checks Between against counting minutes one by one in
// zones without transitions, where wall-clock semantics are unambiguous.
func TestMinuteByMinute(t *testing.T) {
	specs := []struct{ hours, tz string }{
		{weekdays, ""},
		{"Mon-Fri 09:00-12:00 13:00-17:30, Sat 10:00-14:00, Sun 23:59-24:00", "Asia/Kolkata"},
		{"Wed-Mon 00:00-00:15 06:45-19:10", "Asia/Tokyo"},
	}
	r := rand.New(rand.NewPCG(5, 6))
	for _, s := range specs {
		c := MustParse(s.hours, s.tz, []string{"2026-03-04"})
		for range 20 {
			a := time.Date(2026, 3, 1, 0, r.IntN(14*24*60), 0, 0, time.UTC)
			b := a.Add(time.Duration(r.IntN(9*24*60)) * time.Minute)
			var want time.Duration
			for m := a; m.Before(b); m = m.Add(time.Minute) {
				if working(c, m) {
					want += time.Minute
				}
			}
			if got := c.Between(a, b); got != want {
				t.Errorf("%v: Between(%v, %v) = %v, counting minutes %v", c, a, b, got, want)
			}
		}
	}
}

// working reports whether the local wall-clock minute of t is working time.
func working(c *Calendar, t time.Time) bool {
	local := t.In(c.location())
	if _, holiday := slices.BinarySearch(c.holidays, dayNumber(local.Date())); holiday {
		return false
	}
	minute := local.Hour()*60 + local.Minute()
	for _, w := range c.days[local.Weekday()] {
		if w.start <= minute && minute < w.end {
			return true
		}
	}
	return false
}

func TestNoAllocations(t *testing.T) {
	c := MustParse(weekdays, "America/New_York", []string{"2026-12-25"})
	a := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	b := a.Add(300 * 24 * time.Hour)
	allocs := testing.AllocsPerRun(100, func() {
		c.Between(a, b)
		c.Add(a, 500*time.Hour)
	})
	if allocs != 0 {
		t.Errorf("Between and Add allocate %v times per run, want 0", allocs)
	}
}

func TestParse(t *testing.T) {
	tests := []struct{ hours, tz, want string }{
		{weekdays, "", "Mon-Fri 09:00-17:00 (UTC)"},
		{"mon-fri 9:00-17:00", "UTC", "Mon-Fri 09:00-17:00 (UTC)"},
		{"Monday - Friday 09:00 - 17:00", "Europe/Berlin", "Mon-Fri 09:00-17:00 (Europe/Berlin)"},
		{"Mon-Fri 09:00-12:00, Mon-Fri 13:00-17:00; Sat 10:00-14:00", "", "Mon-Fri 09:00-12:00 13:00-17:00, Sat 10:00-14:00 (UTC)"},
		{"Mon 11:00-13:00, Mon 09:00-12:00", "", "Mon 09:00-13:00 (UTC)"},
		{"Mon 09:00-12:00, Mon 12:00-13:00", "", "Mon 09:00-13:00 (UTC)"},
		{"Sun-Thu 08:00-16:00", "Asia/Jerusalem", "Sun-Thu 08:00-16:00 (Asia/Jerusalem)"},
		{"Fri-Mon 10:00-12:00", "", "Fri-Mon 10:00-12:00 (UTC)"},
		{"Sat 10:00-14:00, Mon-Fri 09:00-17:00", "", "Mon-Fri 09:00-17:00, Sat 10:00-14:00 (UTC)"},
		{"Mon-Mon 09:00-17:00", "", "Mon 09:00-17:00 (UTC)"},
		{"Mon-Sun 08:00-20:00", "", "Mon-Sun 08:00-20:00 (UTC)"},
		{"Mon-Sun 00:00-24:00", "", "24/7 (UTC)"},
		{"ALWAYS", "America/New_York", "24/7 (America/New_York)"},
		{"24/7, Mon 09:00-17:00", "", "24/7 (UTC)"},
		{"Mon-Fri 09:00-17:00,", "", "Mon-Fri 09:00-17:00 (UTC)"},
		{"Tue 22:00-24:00, Wed 00:00-06:00", "", "Tue 22:00-24:00, Wed 00:00-06:00 (UTC)"},
	}
	for _, tt := range tests {
		c, err := Parse(tt.hours, tt.tz, nil)
		if err != nil {
			t.Errorf("Parse(%q, %q): %v", tt.hours, tt.tz, err)
			continue
		}
		if got := c.String(); got != tt.want {
			t.Errorf("Parse(%q, %q).String() = %q, want %q", tt.hours, tt.tz, got, tt.want)
		}
		again := MustParse(c.schedule(), tt.tz, nil)
		if again.String() != c.String() || again.weekly != c.weekly {
			t.Errorf("reparsing %q gives %q", c.schedule(), again.String())
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		hours, tz string
		holidays  []string
		want      string
	}{
		{"Mox-Fri 09:00-17:00", "", nil, `day "Mox" in "Mox-Fri 09:00-17:00": want Mon..Sun`},
		{"Mon-Frx 09:00-17:00", "", nil, `day "Frx" in "Mon-Frx 09:00-17:00"`},
		{"Mon-Wed-Fri 09:00-17:00", "", nil, `days "Mon-Wed-Fri" in "Mon-Wed-Fri 09:00-17:00"`},
		{"Mon-Fri 09:00-25:00", "", nil, `time "25:00" in "Mon-Fri 09:00-25:00"`},
		{"Mon-Fri 09:60-17:00", "", nil, `time "09:60"`},
		{"Mon-Fri 24:30-17:00", "", nil, `time "24:30"`},
		{"Mon-Fri 0900-1700", "", nil, `time "0900"`},
		{"Mon-Fri 9am-5pm", "", nil, `time "9am"`},
		{"Mon-Fri 09:00-17:00, Sat 10-14", "", nil, `time "10" in "Sat 10-14"`},
		{"Mon-Fri 17:00-09:00", "", nil, `time window "17:00-09:00" in "Mon-Fri 17:00-09:00": end must be after start`},
		{"Mon 09:00-09:00", "", nil, `time window "09:00-09:00"`},
		{"Mon 24:00-24:00", "", nil, `time window "24:00-24:00"`},
		{"Mon-Fri 09:00", "", nil, `time window "09:00" in "Mon-Fri 09:00"`},
		{"Mon-Fri 09:00-12:00-17:00", "", nil, `time window "09:00-12:00-17:00"`},
		{"Mon-Fri", "", nil, `rule "Mon-Fri"`},
		{"Mon-Fri 09:00-17:00; 10:00-14:00", "", nil, `rule "10:00-14:00"`},
		{"", "", nil, "no business hours"},
		{" ,; ", "", nil, "no business hours"},
		{weekdays, "Mars/Olympus_Mons", nil, `time zone "Mars/Olympus_Mons"`},
		{weekdays, "", []string{"2026-12-25", "2026-02-30"}, `holiday "2026-02-30"`},
		{weekdays, "", []string{"25.12.2026"}, `holiday "25.12.2026"`},
	}
	for _, tt := range tests {
		c, err := Parse(tt.hours, tt.tz, tt.holidays)
		if err == nil {
			t.Errorf("Parse(%q, %q, %q) = %v, want an error", tt.hours, tt.tz, tt.holidays, c)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q, %q, %q) error %q does not contain %q", tt.hours, tt.tz, tt.holidays, err, tt.want)
		}
	}
}

func TestMustParsePanics(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `"Mox"`) {
			t.Errorf("MustParse panicked with %v, want the parse error", r)
		}
	}()
	MustParse("Mox 09:00-17:00", "", nil)
}

func TestParseHolidays(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{"", nil, ""},
		{"  ", nil, ""},
		{"2026-12-25", []string{"2026-12-25"}, ""},
		{" 2026-12-25 , 2026-12-26,", []string{"2026-12-25", "2026-12-26"}, ""},
		{"2026-12-25,,2027-01-01", []string{"2026-12-25", "2027-01-01"}, ""},
		{"2026-12-25,2026-13-01", nil, `holiday "2026-13-01"`},
		{"2026-02-29", nil, `holiday "2026-02-29"`},
		{"2026-12-25 2026-12-26", nil, `holiday "2026-12-25 2026-12-26"`},
		{"Dec 25", nil, `holiday "Dec 25"`},
	}
	for _, tt := range tests {
		got, err := ParseHolidays(tt.in)
		switch {
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("ParseHolidays(%q) error = %v, want %q", tt.in, err, tt.wantErr)
		case tt.wantErr == "" && err != nil:
			t.Errorf("ParseHolidays(%q): %v", tt.in, err)
		case !slices.Equal(got, tt.want):
			t.Errorf("ParseHolidays(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// fixedInstants returns instants around DST changes in many zones, and the
// start of the supported range.
func fixedInstants() []time.Time {
	return []time.Time{
		{},
		time.Date(2011, 12, 29, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 8, 6, 30, 0, 0, time.UTC),
		time.Date(2026, 3, 8, 7, 30, 0, 0, time.UTC),
		time.Date(2026, 3, 29, 0, 30, 0, 0, time.UTC),
		time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC),
		time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC),
		time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 1, 5, 30, 0, 0, time.UTC),
		time.Date(2026, 11, 1, 6, 30, 0, 0, time.UTC),
		time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC),
	}
}

func FuzzParse(f *testing.F) {
	seeds := []struct{ hours, tz, holidays string }{
		{weekdays, "", ""},
		{"Mon-Fri 09:00-12:00 13:00-17:00, Sat 10:00-14:00", "Europe/Berlin", "2026-12-25,2026-12-26"},
		{"Sun-Thu 08:00-16:00", "Asia/Jerusalem", ""},
		{"Sun 00:00-24:00", "America/New_York", "2026-11-01"},
		{"Sun 01:30-02:30; Sun 02:00-02:01", "America/New_York", ""},
		{"24/7", "Australia/Lord_Howe", ""},
		{"always", "Pacific/Apia", "2011-12-30"},
		{"Mon - Fri 9:00 - 17:00", "America/Sao_Paulo", " 2026-01-01 "},
		{"Mox-Fri 09:00-17:00", "", ""},
		{"Mon 24:00-24:00", "Local", ""},
	}
	for _, s := range seeds {
		f.Add(s.hours, s.tz, s.holidays)
	}
	instants := fixedInstants()
	f.Fuzz(func(t *testing.T, hours, tz, holidays string) {
		c, err := Parse(hours, tz, strings.Split(holidays, ","))
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if c.weekly <= 0 || c.weekly > week {
			t.Fatalf("%v: weekly total %v", c, c.weekly)
		}
		again, err := Parse(c.schedule(), tz, nil)
		if err != nil || again.schedule() != c.schedule() {
			t.Fatalf("%v: canonical form does not reparse: %v", c, err)
		}
		checkInstants(t, c, instants)
	})
}

// checkInstants checks Between's bounds and additivity, and Add, on every
// ordered triple of instants, and Between up to the end of the range.
func checkInstants(t *testing.T, c *Calendar, instants []time.Time) {
	last, end := instants[len(instants)-1], time.Date(9999, 12, 31, 12, 0, 0, 0, time.UTC)
	if got := c.Between(last, end); got < 0 || got > end.Sub(last) {
		t.Fatalf("%v: Between(%v, %v) = %v", c, last, end, got)
	}
	if got := c.Add(end, 14*24*time.Hour); !got.IsZero() {
		t.Fatalf("%v: Add(%v, 2 weeks) = %v, after the year 9999", c, end, got)
	}
	for i, a := range instants {
		for j := i; j < len(instants); j++ {
			b := instants[j]
			ab := c.Between(a, b)
			if ab < 0 || ab > b.Sub(a) {
				t.Fatalf("%v: Between(%v, %v) = %v, outside [0, %v]", c, a, b, ab, b.Sub(a))
			}
			for _, x := range instants[j:] {
				if bx, ax := c.Between(b, x), c.Between(a, x); ax != maxDuration && ab+bx != ax {
					t.Fatalf("%v: Between(%v, %v) + Between(.., %v) = %v + %v, Between over all = %v", c, a, b, x, ab, bx, ax)
				}
			}
		}
		for _, d := range []time.Duration{time.Nanosecond, time.Hour, 37*time.Hour + time.Second} {
			if end := c.Add(a, d); end.IsZero() || c.Between(a, end) != d {
				t.Fatalf("%v: Between(%v, Add(.., %v) = %v) = %v", c, a, d, end, c.Between(a, end))
			}
		}
	}
}

func FuzzBetween(f *testing.F) {
	f.Add(uint8(0), int64(1772442000e9), int64(1772460000e9), int64(1773000000e9))
	f.Add(uint8(1), int64(1772960000e9), int64(1772990000e9), int64(1773100000e9))
	f.Add(uint8(0x82), int64(-1<<40), int64(0), int64(1<<40))
	f.Add(uint8(0x83), int64(-1<<62), int64(1772442000), int64(1<<62))
	cs := calendars(f)
	f.Fuzz(func(t *testing.T, which uint8, x, y, z int64) {
		c := cs[int(which&0x7f)%len(cs)]
		toTime := func(v int64) time.Time { return time.Unix(0, v) } // ±292 years around 1970, in ns
		if which&0x80 != 0 {
			toTime = func(v int64) time.Time { return time.Unix(v, 0) } // any instant, in seconds
		}
		ts := []time.Time{toTime(x), toTime(y), toTime(z)}
		slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
		a, b, e := ts[0], ts[1], ts[2]
		ab, be, ae := c.Between(a, b), c.Between(b, e), c.Between(a, e)
		if ab < 0 || ab > b.Sub(a) || ae > e.Sub(a) {
			t.Fatalf("%v: Between(%v, %v) = %v, Between(.., %v) = %v: out of bounds", c, a, b, ab, e, ae)
		}
		if ae != maxDuration && ab+be != ae {
			t.Fatalf("%v: Between(%v, %v) + Between(.., %v) = %v + %v, Between over all = %v", c, a, b, e, ab, be, ae)
		}
		if got := c.Between(b, a); got != 0 {
			t.Fatalf("%v: Between(%v, %v) = %v for a reversed span", c, b, a, got)
		}
		if ab > 0 && ab != maxDuration {
			end := c.Add(a, ab)
			if end.After(b) || c.Between(a, end) != ab {
				t.Fatalf("%v: Add(%v, Between(.., %v) = %v) = %v", c, a, b, ab, end)
			}
		}
	})
}

func BenchmarkBetween(b *testing.B) {
	for _, tz := range []string{"UTC", "America/New_York"} {
		c := MustParse(weekdays, tz, []string{"2026-03-17"})
		from := time.Date(2026, 2, 25, 13, 17, 0, 0, c.location())
		to := from.AddDate(0, 0, 30) // over the spring-forward change
		b.Run(tz+"/30d", func(b *testing.B) {
			for b.Loop() {
				c.Between(from, to)
			}
		})
	}
}

func BenchmarkAdd(b *testing.B) {
	c := MustParse(weekdays, "America/New_York", []string{"2026-03-17"})
	from := time.Date(2026, 2, 25, 13, 17, 0, 0, c.location())
	for b.Loop() {
		c.Add(from, 170*time.Hour) // about 30 days
	}
}
