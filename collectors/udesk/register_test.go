package udesk

import (
	"strings"
	"testing"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

func registered(t *testing.T) source.Registered {
	t.Helper()
	for _, v := range source.Vendors() {
		if v.Kind == "udesk" {
			return v
		}
	}
	t.Fatal("udesk is not registered")
	return source.Registered{}
}

func TestValidateNamesEachVariable(t *testing.T) {
	v := registered(t)
	if v.Role != source.RoleHelpdesk || v.Demo == nil {
		t.Errorf("role %q, demo %v: want a helpdesk with a demo", v.Role, v.Demo != nil)
	}
	for _, c := range []struct {
		cfg  Config
		want []string // variables named, "" for valid
	}{
		{Config{Subdomain: "acme", Email: "a@b.c", APIToken: "tok-secret-1", RequestsPerMinute: 60}, nil},
		{Config{Subdomain: "acme.udesk.cn", Email: "a@b.c", APIToken: "tok-secret-1", RequestsPerMinute: 60}, nil},
		{Config{Subdomain: "acme", RequestsPerMinute: 60}, []string{"CX_UDESK_EMAIL", "CX_UDESK_API_TOKEN"}},
		{Config{Subdomain: "ac me", Email: "a@b.c", APIToken: "tok-secret-1", RequestsPerMinute: 60}, []string{"CX_UDESK_SUBDOMAIN"}},
		{Config{URL: "ftp://x", Email: "a@b.c", APIToken: "tok-secret-1", RequestsPerMinute: 60}, []string{"CX_UDESK_URL"}},
		{Config{Subdomain: "acme", Email: "a@b.c", APIToken: "tok-secret-1", RequestsPerMinute: 0}, []string{"CX_UDESK_REQUESTS_PER_MINUTE"}},
	} {
		cfg := c.cfg
		if !v.Enabled(&cfg) {
			t.Errorf("%+v: not enabled", cfg)
		}
		p := &source.Problems{Prefix: "CX"}
		v.Validate(&cfg, p)
		if len(p.Errs) != len(c.want) {
			t.Errorf("%+v: problems %v, want %v", cfg, p.Errs, c.want)
			continue
		}
		for i, name := range c.want {
			if !strings.HasPrefix(p.Errs[i].Error(), name+":") || strings.Contains(p.Errs[i].Error(), "tok-secret-1") {
				t.Errorf("problem %q: want it to name %s and not the token", p.Errs[i], name)
			}
		}
	}
	if v.Enabled(&Config{}) {
		t.Error("enabled without a subdomain or URL")
	}
}
