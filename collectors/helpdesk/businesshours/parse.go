package businesshours

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// dateLayout is the format of holidays.
const dateLayout = "2006-01-02"

// Parse builds a Calendar.
//
// hours is one or more rules separated by commas or semicolons, each a day
// or a range of days followed by one or more time windows:
//
//	Mon-Fri 09:00-17:00
//	Mon-Fri 09:00-12:00 13:00-17:00, Sat 10:00-14:00
//	Sun-Thu 08:00-16:00
//
// Day names are case-insensitive, abbreviated or in full; a range may wrap
// around the week ("Fri-Mon"). A window's end must be after its start and
// may be 24:00; overnight hours are written as two windows ("Mon 22:00-24:00,
// Tue 00:00-06:00"). Overlapping windows on one day are merged. "always" or
// "24/7" makes every minute count.
//
// tz is an IANA time zone name such as "Europe/Berlin"; "" means UTC.
//
// holidays are local dates ("2026-12-25") whose whole local day is excluded,
// even from a 24/7 schedule.
//
// Error messages quote the offending piece and do not name the setting, so
// callers can prefix it.
func Parse(hours, tz string, holidays []string) (*Calendar, error) {
	days, err := parseSchedule(hours)
	if err != nil {
		return nil, err
	}
	loc, err := loadZone(tz)
	if err != nil {
		return nil, err
	}
	excluded, err := parseDates(holidays)
	if err != nil {
		return nil, err
	}
	c := &Calendar{loc: loc, days: days, holidays: excluded}
	for d, ws := range days {
		c.daily[d] = length(ws)
		c.weekly += c.daily[d]
	}
	return c, nil
}

// MustParse is like Parse but panics on error. It is meant for tests and
// constant schedules.
func MustParse(hours, tz string, holidays []string) *Calendar {
	c, err := Parse(hours, tz, holidays)
	if err != nil {
		panic("businesshours: " + err.Error())
	}
	return c
}

// ParseHolidays splits a comma-separated list of dates such as
// "2026-12-25, 2026-12-26" and validates each one. Spaces around dates and
// empty items are ignored; an empty list gives nil.
func ParseHolidays(s string) ([]string, error) {
	var dates []string
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if _, err := parseDate(item); err != nil {
			return nil, err
		}
		dates = append(dates, item)
	}
	return dates, nil
}

// String returns the schedule in canonical form followed by the time zone,
// such as "Mon-Fri 09:00-17:00 (Europe/Berlin)". Holidays are not shown.
func (c *Calendar) String() string {
	return c.schedule() + " (" + c.location().String() + ")"
}

// schedule returns the canonical form of the weekly schedule, which Parse
// accepts: runs of days with equal windows, starting with the first run
// that begins on or after Monday.
func (c *Calendar) schedule() string {
	switch {
	case c.empty():
		return "none"
	case c.weekly == week:
		return "24/7"
	}
	first := 0 // position, counted from Monday, of the first day that starts a run
	for i := range 7 {
		if !slices.Equal(c.daysFromMonday(i), c.daysFromMonday(i-1)) {
			first = i
			break
		}
	}
	var rules []string
	for i := first; i < first+7; {
		j := i + 1
		for j < first+7 && slices.Equal(c.daysFromMonday(j), c.daysFromMonday(i)) {
			j++
		}
		if ws := c.daysFromMonday(i); len(ws) > 0 {
			rules = append(rules, formatRule(weekdayFromMonday(i), weekdayFromMonday(j-1), ws))
		}
		i = j
	}
	return strings.Join(rules, ", ")
}

// daysFromMonday returns the windows of the i-th day of a week that starts
// on Monday; i may be any integer.
func (c *Calendar) daysFromMonday(i int) []window { return c.days[weekdayFromMonday(i)] }

func weekdayFromMonday(i int) time.Weekday { return time.Weekday(((i+1)%7 + 7) % 7) }

func formatRule(from, to time.Weekday, ws []window) string {
	var b strings.Builder
	b.WriteString(from.String()[:3])
	if to != from {
		b.WriteString("-" + to.String()[:3])
	}
	for _, w := range ws {
		fmt.Fprintf(&b, " %s-%s", formatClock(w.start), formatClock(w.end))
	}
	return b.String()
}

func formatClock(minute int) string { return fmt.Sprintf("%02d:%02d", minute/60, minute%60) }

// parseSchedule parses the rules of hours into merged windows per weekday.
func parseSchedule(hours string) ([7][]window, error) {
	var days [7][]window
	rules := 0
	for rule := range strings.FieldsFuncSeq(hours, isRuleSeparator) {
		if rule = strings.TrimSpace(rule); rule == "" {
			continue
		}
		if err := addRule(&days, rule); err != nil {
			return days, err
		}
		rules++
	}
	if rules == 0 {
		return days, errors.New(`no business hours given: want rules like "Mon-Fri 09:00-17:00", or "24/7"`)
	}
	for i := range days {
		days[i] = merge(days[i])
	}
	return days, nil
}

func isRuleSeparator(r rune) bool { return r == ',' || r == ';' }

// addRule adds the windows of one rule such as "Mon-Fri 09:00-17:00" to days.
func addRule(days *[7][]window, rule string) error {
	if strings.EqualFold(rule, "always") || rule == "24/7" {
		for i := range days {
			days[i] = append(days[i], window{0, minutesPerDay})
		}
		return nil
	}
	fields := joinDashes(strings.Fields(rule))
	if len(fields) < 2 {
		return fmt.Errorf(`rule %q: want days and time windows, like "Mon-Fri 09:00-17:00"`, rule)
	}
	from, to, err := parseDays(fields[0], rule)
	if err != nil {
		return err
	}
	for _, field := range fields[1:] {
		w, err := parseWindow(field, rule)
		if err != nil {
			return err
		}
		for d := from; ; d = (d + 1) % 7 {
			days[d] = append(days[d], w)
			if d == to {
				break
			}
		}
	}
	return nil
}

// joinDashes rejoins fields split around a dash, so that "Mon - Fri" reads
// as "Mon-Fri".
func joinDashes(fields []string) []string {
	var out []string
	for _, f := range fields {
		if n := len(out); n > 0 && (strings.HasSuffix(out[n-1], "-") || strings.HasPrefix(f, "-")) {
			out[n-1] += f
			continue
		}
		out = append(out, f)
	}
	return out
}

// parseDays parses "Mon" or a range such as "Mon-Fri" or "Fri-Mon".
func parseDays(s, rule string) (from, to time.Weekday, err error) {
	first, last, isRange := strings.Cut(s, "-")
	if strings.Contains(last, "-") {
		return 0, 0, fmt.Errorf("days %q in %q: want a day or a range like Mon-Fri", s, rule)
	}
	if from, err = parseDay(first, rule); err != nil || !isRange {
		return from, from, err
	}
	to, err = parseDay(last, rule)
	return from, to, err
}

// parseDay parses a day name such as "Mon" or "monday".
func parseDay(s, rule string) (time.Weekday, error) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if name := d.String(); strings.EqualFold(s, name) || strings.EqualFold(s, name[:3]) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("day %q in %q: want Mon..Sun", s, rule)
}

// parseWindow parses a time window such as "09:00-17:00".
func parseWindow(s, rule string) (window, error) {
	first, last, ok := strings.Cut(s, "-")
	if !ok || strings.Contains(last, "-") {
		return window{}, fmt.Errorf("time window %q in %q: want HH:MM-HH:MM", s, rule)
	}
	start, err := parseClock(first, rule)
	if err != nil {
		return window{}, err
	}
	end, err := parseClock(last, rule)
	if err != nil {
		return window{}, err
	}
	if end <= start {
		return window{}, fmt.Errorf("time window %q in %q: end must be after start (write overnight hours as two windows, like \"Mon 22:00-24:00, Tue 00:00-06:00\")", s, rule)
	}
	return window{start, end}, nil
}

// parseClock parses "HH:MM" (or "H:MM") from 00:00 to 24:00 into minutes
// after midnight.
func parseClock(s, rule string) (int, error) {
	hh, mm, ok := strings.Cut(s, ":")
	h, okH := parseDigits(hh, 1, 2)
	m, okM := parseDigits(mm, 2, 2)
	if !ok || !okH || !okM || h > 24 || m > 59 || h == 24 && m != 0 {
		return 0, fmt.Errorf("time %q in %q: want HH:MM from 00:00 to 24:00", s, rule)
	}
	return h*60 + m, nil
}

// parseDigits parses a decimal number of minLen to maxLen ASCII digits.
func parseDigits(s string, minLen, maxLen int) (int, bool) {
	if len(s) < minLen || len(s) > maxLen {
		return 0, false
	}
	n := 0
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, false
		}
		n = n*10 + int(r-'0')
	}
	return n, true
}

// merge sorts windows and merges those that overlap or touch.
func merge(ws []window) []window {
	if len(ws) == 0 {
		return nil
	}
	ws = slices.Clone(ws)
	slices.SortFunc(ws, func(a, b window) int { return cmp.Compare(a.start, b.start) })
	out := ws[:1]
	for _, w := range ws[1:] {
		if last := &out[len(out)-1]; w.start <= last.end {
			last.end = max(last.end, w.end)
			continue
		}
		out = append(out, w)
	}
	return slices.Clip(out)
}

// length returns the nominal length of windows.
func length(ws []window) time.Duration {
	var sum time.Duration
	for _, w := range ws {
		sum += time.Duration(w.end-w.start) * time.Minute
	}
	return sum
}

// loadZone loads an IANA time zone; "" means UTC.
func loadZone(tz string) (*time.Location, error) {
	if tz == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(tz)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q: want an IANA name like \"Europe/Berlin\"", tz)
	}
	return loc, nil
}

// parseDates parses holidays into sorted, distinct day numbers.
func parseDates(holidays []string) ([]int64, error) {
	var days []int64
	for _, h := range holidays {
		n, err := parseDate(strings.TrimSpace(h))
		if err != nil {
			return nil, err
		}
		days = append(days, n)
	}
	slices.Sort(days)
	return slices.Compact(days), nil
}

// parseDate parses a holiday "2006-01-02" into its day number.
func parseDate(s string) (int64, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return 0, fmt.Errorf("holiday %q: want a valid date like 2026-12-25", s)
	}
	return dayNumber(t.Date()), nil
}
