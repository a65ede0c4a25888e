package source

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Roles of a vendor: what its source feeds.
const (
	RoleHelpdesk = "helpdesk"
	RoleBilling  = "billing"
	RoleSurvey   = "survey"
)

// Vendor declares one vendor from its own package: its configuration, how
// to build a source from it, and how demo mode runs it. C is the vendor's
// configuration struct: fields tagged for envconfig with their whole name
// after the CX_ prefix (`envconfig:"ZENDESK_URL"`), `default` and `desc`
// tags, and `secret:"true"` on secrets (which also accept <NAME>_FILE).
type Vendor[C any] struct {
	// Kind names the vendor; it is also the source's instance name and
	// the kind label of cx_exporter_source_up.
	Kind string
	Role string
	// Enabled reports whether the configuration turns the vendor on.
	Enabled func(c *C) bool
	// Validate, when set, checks an enabled vendor's configuration at
	// start-up; every problem names its variable.
	Validate func(c *C, p *Problems)
	// Build makes the source.
	Build func(c *C, env Env) (Source, error)
	// Demo, when set, runs a simulated account of the vendor in demo mode.
	Demo func(c *C) (*DemoRun, error)
	// History, when set, reads the vendor's past for `cx-exporter
	// backfill`.
	History func(c *C, d Deps) (History, error)
}

// DemoRun is a vendor's simulated account, started by Vendor.Demo: the
// fake API is already listening and the configuration points at it.
type DemoRun struct {
	Title string // the vendor's name, for the log
	URL   string // where the fake listens
	// Seed, when set, writes the account's history before the exporter
	// starts, so that it is backfill.
	Seed func()
	// Simulate changes the account until ctx ends. self is the exporter's
	// own base URL, for simulators that post to it ("" when the listener
	// needs TLS or basic auth that the simulator does not speak).
	Simulate func(ctx context.Context, self string, logger *slog.Logger)
	Close    func()
	// WallClock says that the simulated tickets are answered and solved
	// seconds after they are created: demo mode then sets SLA targets of
	// seconds (unless the user set them), so that they meet and breach.
	WallClock bool
}

// SimulatedAccount is the DemoRun of a fake vendor API listening at url:
// seed (nil for none) writes its history, simulate changes it until ctx
// ends, and close stops it.
func SimulatedAccount(title, url string, seed func(), simulate func(ctx context.Context), close func()) *DemoRun {
	return &DemoRun{
		Title: title, URL: url, Seed: seed, Close: close,
		Simulate: func(ctx context.Context, _ string, _ *slog.Logger) { simulate(ctx) },
	}
}

// Registered is a vendor as the process sees it, its configuration type
// erased.
type Registered struct {
	Kind, Role string
	// NewConfig returns a pointer to a zero configuration struct.
	NewConfig func() any
	Enabled   func(cfg any) bool
	Validate  func(cfg any, p *Problems)
	Build     func(cfg any, env Env) (Source, error)
	// Demo is nil when the vendor has no simulated account.
	Demo func(cfg any) (*DemoRun, error)
	// History is nil when the vendor has no backfill.
	History func(cfg any, d Deps) (History, error)
}

var (
	mu      sync.Mutex
	vendors = map[string]Registered{}
)

// Register declares a vendor; call it from the vendor package's init.
func Register[C any](v Vendor[C]) {
	r := Registered{
		Kind: v.Kind, Role: v.Role,
		NewConfig: func() any { return new(C) },
		Enabled:   func(cfg any) bool { return v.Enabled(cfg.(*C)) },
		Validate: func(cfg any, p *Problems) {
			if v.Validate != nil {
				v.Validate(cfg.(*C), p)
			}
		},
		Build: func(cfg any, env Env) (Source, error) { return v.Build(cfg.(*C), env) },
	}
	if v.Demo != nil {
		r.Demo = func(cfg any) (*DemoRun, error) { return v.Demo(cfg.(*C)) }
	}
	if v.History != nil {
		r.History = func(cfg any, d Deps) (History, error) { return v.History(cfg.(*C), d) }
	}
	mu.Lock()
	defer mu.Unlock()
	if _, dup := vendors[v.Kind]; dup {
		panic("source: vendor " + v.Kind + " registered twice")
	}
	vendors[v.Kind] = r
}

// Vendors returns every registered vendor, by kind.
func Vendors() []Registered {
	mu.Lock()
	defer mu.Unlock()
	out := make([]Registered, 0, len(vendors))
	for _, v := range vendors {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Registered) int { return strings.Compare(a.Kind, b.Kind) })
	return out
}

// Problems collects configuration errors, each naming its variable.
type Problems struct {
	Prefix string // "CX"
	Errs   []error
}

// Bad records a problem with the variable name (without the prefix).
func (p *Problems) Bad(name, format string, args ...any) {
	p.Errs = append(p.Errs, fmt.Errorf("%s_%s: %s", p.Prefix, name, fmt.Sprintf(format, args...)))
}

// URL checks that an optional variable, when set, is an http(s) URL with
// a host. The message never repeats the URL's userinfo.
func (p *Problems) URL(name, value string) {
	if value == "" {
		return
	}
	u, err := url.Parse(value)
	if err != nil {
		p.Bad(name, "not an http(s) URL")
		return
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		p.Bad(name, "%q is not an http(s) URL", RedactURL(value))
	}
}

// RedactURL is a URL as an error message may show it: without its
// userinfo (user and password both: an API key is often the user), query
// and fragment, which can hold credentials. A value that does not parse,
// or parses as an opaque URL ("user:password@host" reads as the scheme
// "user"), is not shown at all.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	if u.Opaque != "" {
		return "(URL without //host)"
	}
	u.User, u.RawQuery, u.ForceQuery, u.Fragment, u.RawFragment = nil, "", false, "", ""
	return u.String()
}

// Require records a problem when an enabled vendor lacks a variable.
func (p *Problems) Require(name, value, why string) {
	if value == "" {
		p.Bad(name, "%s", why)
	}
}

// Range checks that an integer variable is within [lo, hi].
func (p *Problems) Range(name string, v, lo, hi int) {
	if v < lo || v > hi {
		p.Bad(name, "%d: want %d to %d", v, lo, hi)
	}
}
