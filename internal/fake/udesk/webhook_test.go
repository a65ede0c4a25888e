package udesk

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// TestSendWebhooks: every change of a ticket posts one callback naming
// it, with the shared secret header.
func TestSendWebhooks(t *testing.T) {
	var mu sync.Mutex
	var got []string
	rx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Header.Get(SecretHeader)+" "+string(b))
		mu.Unlock()
	}))
	defer rx.Close()
	s := NewServer(Options{Email: "e@x.example", Token: "t"})
	defer s.Close()
	s.Put(Ticket{ID: 1, StatusID: 1}) // before SendWebhooks: not sent
	s.SendWebhooks(rx.URL, "fixture")
	s.Put(Ticket{ID: 2, StatusID: 1})
	s.Rate(2, 5)
	s.Put(Ticket{ID: 2, StatusID: 2})
	s.Touch(1)
	s.Touch(99) // no such ticket: no change, no webhook
	deadline := time.Now().Add(5 * time.Second)
	for len(s.Webhooks()) < 4 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	want := []string{"fixture " + string(WebhookBody(2)), "fixture " + string(WebhookBody(2)), "fixture " + string(WebhookBody(2)),
		"fixture " + string(WebhookBody(1))}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("webhook %d: %q, want %q", i, got[i], want[i])
		}
	}
	for _, d := range s.Webhooks() {
		if d.Status != http.StatusOK {
			t.Errorf("delivery %s: status %d", d.ID, d.Status)
		}
	}
}
