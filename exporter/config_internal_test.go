package exporter

import (
	"testing"
	"time"
)

func TestParseTargetsDays(t *testing.T) {
	got, err := parseTargets("urgent=4h,high=1d,normal=3d,low=7d,none=1d12h")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]time.Duration{"urgent": 4 * time.Hour, "high": 24 * time.Hour, "normal": 72 * time.Hour,
		"low": 168 * time.Hour, "none": 36 * time.Hour}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
	for _, bad := range []string{"urgent=d", "urgent=1d-2h", "urgent=0d", "urgent=1w", "urgent=xd4h"} {
		if _, err := parseTargets(bad); err == nil {
			t.Errorf("%q parsed, want an error", bad)
		}
	}
}

func TestParseSupportCost(t *testing.T) {
	for in, want := range map[string]SupportCost{
		"":            {},
		"25000 USD":   {Amount: 25000, Currency: "usd"},
		" 1234.5 eur": {Amount: 1234.5, Currency: "eur"},
	} {
		got, err := parseSupportCost(in)
		if err != nil || got != want {
			t.Errorf("%q: %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"25000", "USD 25000", "25000 dollars", "-1 USD", "NaN USD", "Inf USD", "1e999 USD"} {
		if _, err := parseSupportCost(bad); err == nil {
			t.Errorf("%q parsed, want an error", bad)
		}
	}
}
