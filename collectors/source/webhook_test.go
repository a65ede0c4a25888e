package source

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// testVerifier: header X-Sig is hex(HMAC-SHA256(secret, X-Time + body)),
// X-Time unix seconds.
func testVerifier(secret string) Verifier {
	return VerifierFunc(func(h http.Header, body []byte) (Delivery, error) {
		sig, err := hex.DecodeString(h.Get("X-Sig"))
		if err != nil || !HMACEqual(sha256.New, []byte(secret), sig, []byte(h.Get("X-Time")), body) {
			return Delivery{}, ErrBadSignature
		}
		at, err := time.Parse(time.RFC3339, h.Get("X-Time"))
		if err != nil {
			return Delivery{}, ErrBadSignature
		}
		return Delivery{Signed: at, Key: h.Get("X-Sig")}, nil
	})
}

type hookRig struct {
	h       *hooked
	mu      sync.Mutex
	fetches [][]string
	results map[string]int
	fail    error
	known   func(id string) bool
}

func newHookRig(t *testing.T) *hookRig {
	rig := &hookRig{results: map[string]int{}, known: func(id string) bool { return !strings.HasPrefix(id, "unknown") }}
	env := Env{Deps: Deps{Name: "vendor", WebhookResult: func(r string) {
		rig.mu.Lock()
		rig.results[r]++
		rig.mu.Unlock()
	}}.WithDefaults()}
	src, err := env.WithWebhooks(New(nil, nil), "s3cret", WebhookVendor{
		Verifier: testVerifier("s3cret"),
		Parse: func(body []byte) (WebhookEvent, error) {
			s := string(body)
			if s == "malformed" {
				return WebhookEvent{}, errors.New("not json")
			}
			if s == "other" {
				return WebhookEvent{}, nil
			}
			return WebhookEvent{ID: s}, nil
		},
		Fetch: func(_ context.Context, ids []string) ([]string, error) {
			rig.mu.Lock()
			defer rig.mu.Unlock()
			if rig.fail != nil {
				err := rig.fail
				rig.fail = nil
				return nil, err
			}
			rig.fetches = append(rig.fetches, slices.Clone(ids))
			var found []string
			for _, id := range ids {
				if rig.known(id) {
					found = append(found, id)
				}
			}
			return found, nil
		},
		Batch:    3,
		MaxBody:  64,
		Debounce: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	rig.h = src.(*hooked)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { rig.h.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return rig
}

func (rig *hookRig) send(t *testing.T, secret, body string, at time.Time) int {
	t.Helper()
	ts := at.UTC().Format(time.RFC3339)
	r := httptest.NewRequest(http.MethodPost, WebhookPath("vendor"), bytes.NewReader([]byte(body)))
	r.Header.Set("X-Time", ts)
	r.Header.Set("X-Sig", hex.EncodeToString(HMAC(sha256.New, []byte(secret), []byte(ts), []byte(body))))
	w := httptest.NewRecorder()
	rig.h.Routes()["POST "+WebhookPath("vendor")].ServeHTTP(w, r)
	if w.Code == http.StatusUnauthorized && strings.TrimSpace(w.Body.String()) != "Unauthorized" {
		t.Errorf("401 with detail: %q", w.Body.String())
	}
	return w.Code
}

func (rig *hookRig) wait(t *testing.T, want map[string]int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rig.mu.Lock()
		ok := len(rig.results) == len(want)
		for k, v := range want {
			ok = ok && rig.results[k] == v
		}
		got := map[string]int{}
		for k, v := range rig.results {
			got[k] = v
		}
		rig.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("results %v, want %v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWebhookReceiver(t *testing.T) {
	rig := newHookRig(t)
	now := time.Now()
	cases := []struct {
		name, secret, body string
		at                 time.Time
		code               int
	}{
		{"valid", "s3cret", "a", now, 200},
		{"same record, another delivery", "s3cret", "a", now.Add(time.Second), 200},
		{"repeat of a delivery", "s3cret", "a", now, 200},
		{"another record", "s3cret", "b", now, 200},
		{"unknown record", "s3cret", "unknown-1", now, 200},
		{"bad signature", "wrong", "a", now, 401},
		{"expired", "s3cret", "a", now.Add(-10 * time.Minute), 401},
		{"from the future", "s3cret", "a", now.Add(10 * time.Minute), 401},
		{"too large", "s3cret", strings.Repeat("x", 65), now, 413},
		{"malformed", "s3cret", "malformed", now, 400},
		{"about something else", "s3cret", "other", now, 200},
	}
	for _, c := range cases {
		if got := rig.send(t, c.secret, c.body, c.at); got != c.code {
			t.Errorf("%s: %d, want %d", c.name, got, c.code)
		}
	}
	// a twice (two deliveries) and b accepted; the repeat, the unknown
	// record and the other event ignored; five refused.
	rig.wait(t, map[string]int{WebhookAccepted: 3, WebhookIgnored: 3, WebhookRejected: 5})
	rig.mu.Lock()
	fetches := slices.Clone(rig.fetches)
	rig.mu.Unlock()
	if len(fetches) != 1 || !slices.Equal(fetches[0], []string{"a", "b", "unknown-1"}) {
		t.Errorf("fetches %v, want one debounced batch [a b unknown-1]", fetches)
	}
}

// TestWebhookBatchesAndRetries: a burst is fetched in batches of Batch
// ids; a failed fetch is retried with the ids it had, counted once.
func TestWebhookBatchesAndRetries(t *testing.T) {
	rig := newHookRig(t)
	rig.mu.Lock()
	rig.fail = errors.New("upstream down")
	rig.mu.Unlock()
	now := time.Now()
	for _, id := range []string{"1", "2", "3", "4", "5", "6", "7"} {
		if c := rig.send(t, "s3cret", id, now); c != 200 {
			t.Fatalf("webhook %s: %d", id, c)
		}
	}
	rig.wait(t, map[string]int{WebhookAccepted: 7})
	rig.mu.Lock()
	defer rig.mu.Unlock()
	var all []string
	for _, f := range rig.fetches {
		if len(f) > 3 {
			t.Errorf("a fetch of %d ids, want at most 3", len(f))
		}
		all = append(all, f...)
	}
	slices.Sort(all)
	if !slices.Equal(all, []string{"1", "2", "3", "4", "5", "6", "7"}) {
		t.Errorf("fetched %v, want each id once after the retry", all)
	}
}

// TestWebhooksOff: without a secret the source takes no webhooks.
func TestWebhooksOff(t *testing.T) {
	src := New(nil, nil)
	got, err := Env{}.WithWebhooks(src, "", WebhookVendor{})
	if err != nil || got != src {
		t.Errorf("WithWebhooks without a secret = %v, %v; want the source unchanged", got, err)
	}
	if _, ok := got.(Receiver); ok {
		t.Error("a source without a webhook secret serves routes")
	}
}

const secretFixture = "shared-secret-fixture"

// TestSecretHeader: the shared secret verifies in its header only, exactly
// (not a prefix, not longer, not in another header), and an empty
// configured secret verifies nothing.
func TestSecretHeader(t *testing.T) {
	v := SecretHeader{Header: "X-Cx-Webhook-Secret", Secret: []byte(secretFixture)}
	if _, err := v.Verify(http.Header{"X-Cx-Webhook-Secret": {secretFixture}}, nil); err != nil {
		t.Errorf("right secret: %v", err)
	}
	for name, h := range map[string]http.Header{"wrong": {"X-Cx-Webhook-Secret": {"shared-secret-fixturE"}},
		"prefix": {"X-Cx-Webhook-Secret": {"shared-secret"}}, "longer": {"X-Cx-Webhook-Secret": {secretFixture + "x"}},
		"none": {}, "elsewhere": {"Authorization": {secretFixture}}} {
		if _, err := v.Verify(h, nil); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := (SecretHeader{Header: "X-Cx-Webhook-Secret"}).Verify(http.Header{"X-Cx-Webhook-Secret": {""}}, nil); err == nil {
		t.Error("an empty secret verified")
	}
}

func FuzzSecretHeader(f *testing.F) {
	f.Add(secretFixture)
	f.Add("")
	f.Fuzz(func(t *testing.T, got string) {
		_, err := SecretHeader{Header: "X-Cx-Webhook-Secret", Secret: []byte(secretFixture)}.Verify(http.Header{"X-Cx-Webhook-Secret": {got}}, nil)
		if (err == nil) != (got == secretFixture) {
			t.Fatalf("%q: %v", got, err)
		}
	})
}
