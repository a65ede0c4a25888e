package source

import (
	"strings"
	"testing"
)

// TestProblemsURLNeverShowsUserinfo: a configuration error about a URL
// never repeats its user, password or query.
func TestProblemsURLNeverShowsUserinfo(t *testing.T) {
	for _, value := range []string{
		"ftp://apiuser-fixture:pass-fixture@example.invalid/x?key=query-fixture",
		"mailto://apiuser-fixture:pass-fixture@example.invalid",
		"//apiuser-fixture:pass-fixture@example.invalid",
		"http://apiuser-fixture:pass-fixture@exa mple.invalid/%zz",
		"apiuser-fixture:pass-fixture@example.invalid",
	} {
		p := &Problems{Prefix: "CX"}
		p.URL("ZENDESK_URL", value)
		if len(p.Errs) != 1 {
			t.Errorf("%q: %d problems, want 1", value, len(p.Errs))
			continue
		}
		msg := p.Errs[0].Error()
		if !strings.HasPrefix(msg, "CX_ZENDESK_URL: ") {
			t.Errorf("%q: %q does not name the variable", value, msg)
		}
		for _, secret := range []string{"apiuser-fixture", "pass-fixture", "query-fixture"} {
			if strings.Contains(msg, secret) {
				t.Errorf("%q: %q shows %s", value, msg, secret)
			}
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://user:pw@acme.zendesk.com/api?token=x#f": "https://acme.zendesk.com/api",
		"https://acme.zendesk.com":                       "https://acme.zendesk.com",
		"http://u:p@h/%zz":                               "(unparsable URL)",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
