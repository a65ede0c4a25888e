package fake

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestFaults(t *testing.T) {
	var f Faults
	if got := f.Take(); got != FaultNone {
		t.Fatalf("zero Faults: %v", got)
	}
	f.Inject(Fault500, 2)
	for i, want := range []Fault{Fault500, Fault500, FaultNone} {
		if got := f.Take(); got != want {
			t.Errorf("take %d: %v, want %v", i, got, want)
		}
	}
	f.Inject(Fault429, -1)
	for range 5 {
		if got := f.Take(); got != Fault429 {
			t.Fatalf("n < 0: %v, want 429 until cleared", got)
		}
	}
	f.Clear()
	if got := f.Take(); got != FaultNone {
		t.Errorf("after Clear: %v", got)
	}
	f.Inject(FaultDown, 0)
	if got := f.Take(); got != FaultNone {
		t.Errorf("n == 0: %v", got)
	}
	if s := FaultUnknownStatus.String(); s != "unknown-status" {
		t.Errorf("String: %q", s)
	}
	f.SetLatency(time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if f.Delay(ctx) {
		t.Error("Delay outlived its context")
	}
}

func TestRequestLog(t *testing.T) {
	var l RequestLog[int]
	e := l.Add(1)
	l.Update(e, func(r *int) { *r = 2 })
	if got := l.All(); len(got) != 1 || got[0] != 2 {
		t.Fatalf("All: %v", got)
	}
	l.Reset()
	l.Add(5)
	l.Update(e, func(r *int) { *r = 9 }) // an entry from before the reset
	if got := l.All(); len(got) != 1 || got[0] != 5 {
		t.Errorf("an update crossed a reset: %v", got)
	}
}

func TestAuth(t *testing.T) {
	req := func(h string) *http.Request {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if h != "" {
			r.Header.Set("Authorization", h)
		}
		return r
	}
	basic := func(userPass string) string {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		u, p, _ := strings.Cut(userPass, ":")
		r.SetBasicAuth(u, p)
		return r.Header.Get("Authorization")
	}
	cases := []struct {
		auth Auth
		h    string
		want bool
	}{
		{Auth{}, "", true},
		{Auth{User: "key"}, "", false},
		{Auth{User: "key"}, basic("key:X"), true},
		{Auth{User: "key"}, "Basic a2V5", true}, // "key", no colon
		{Auth{User: "key"}, basic("other:X"), false},
		{Auth{User: "a/token", Password: "t"}, basic("a/token:t"), true},
		{Auth{User: "a/token", Password: "t"}, basic("a/token:u"), false},
		{Auth{Token: "tok"}, "Bearer tok", true},
		{Auth{Token: "tok"}, "bearer tok", true},
		{Auth{Token: "tok"}, "Bearer other", false},
		{Auth{Token: "tok"}, basic("tok:"), false},
		{Auth{User: "key", Token: "key"}, "Bearer key", true},
		{Auth{User: "key", Token: "key"}, basic("key:"), true},
	}
	for _, c := range cases {
		if got := c.auth.Allows(req(c.h)); got != c.want {
			t.Errorf("%+v allows %q: %v, want %v", c.auth, c.h, got, c.want)
		}
	}
}

func TestRateLimiter(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := &RateLimiter{Limit: 2, Window: time.Minute}
	for i, want := range []int{1, 0} {
		if b := l.Take(t0); b.Limited || b.Remaining != want {
			t.Errorf("request %d: %+v", i, b)
		}
	}
	b := l.Take(t0.Add(10500 * time.Millisecond))
	if !b.Limited || b.Remaining != 0 || b.RetryAfter(t0.Add(10500*time.Millisecond)) != 50 {
		t.Errorf("third request: %+v, retry %d", b, b.RetryAfter(t0.Add(10500*time.Millisecond)))
	}
	if p := l.Peek(t0.Add(time.Second)); p.Limited || p.Remaining != 0 {
		t.Errorf("Peek counted or refused: %+v", p)
	}
	if b := l.Take(t0.Add(time.Minute)); b.Limited || b.Remaining != 1 {
		t.Errorf("next window: %+v", b)
	}
	off := &RateLimiter{Limit: 1, Window: time.Minute, Off: true}
	off.Take(t0)
	if b := off.Take(t0); b.Limited {
		t.Errorf("Off refused: %+v", b)
	}
	aligned := &RateLimiter{Limit: 1, Window: 10 * time.Second, Aligned: true}
	if b := aligned.Take(t0.Add(13 * time.Second)); !b.Reset.Equal(t0.Add(20 * time.Second)) {
		t.Errorf("aligned window resets at %v", b.Reset)
	}
}

func TestPostJSON(t *testing.T) {
	r, err := PostJSON("http://127.0.0.1:1/hook", []byte(`{"id":1}`), "X-Sig", "abc", "X-Empty", "", "User-Agent", "Vendor")
	if err != nil {
		t.Fatal(err)
	}
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Sig") != "abc" ||
		r.Header.Get("User-Agent") != "Vendor" {
		t.Errorf("request %s %v", r.Method, r.Header)
	}
	if _, ok := r.Header["X-Empty"]; ok {
		t.Error("a header with an empty value was sent")
	}
	if b, _ := io.ReadAll(r.Body); string(b) != `{"id":1}` {
		t.Errorf("body %q", b)
	}
	r, _ = PostJSON("http://127.0.0.1:1/hook", nil, "Content-Type", "application/json; charset=utf-8")
	if got := r.Header.Values("Content-Type"); len(got) != 1 || got[0] != "application/json; charset=utf-8" {
		t.Errorf("Content-Type %v", got)
	}
}
