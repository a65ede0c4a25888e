package source

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/internal/state"
)

// Directory is how a helpdesk vendor lists the display names of its
// agents and groups (Zendesk users and groups, Freshdesk agents and
// groups, …): each lists the whole account, every page, and returns id →
// name. A nil list means the vendor has none: its ids stay ids.
type Directory struct {
	Agents func(ctx context.Context) (map[string]string, error)
	Groups func(ctx context.Context) (map[string]string, error)
}

// Agent label modes (CX_AGENT_LABEL).
const (
	AgentLabelName = "name"
	AgentLabelID   = "id"
)

// NamesRefresh is how often the directory is read again in full (renames
// show from then on). NamesUnknownRefresh is the shortest time between
// two reads triggered by an id the cached directory does not know (a new
// agent); an id a read did not find triggers none until the next full
// refresh.
const (
	NamesRefresh        = time.Hour
	NamesUnknownRefresh = 5 * time.Minute
)

// KeyNames is the state key of the cached directory.
const KeyNames = "names"

// Names resolves the assignee and group ids of tickets to display names,
// from a directory cached in the state store: read in full at the first
// sync, then at most every NamesRefresh, and when a ticket names an id
// the cache does not know (at most every NamesUnknownRefresh). A read
// keeps the names of ids it no longer lists (deleted agents and groups
// keep their last known name). So the look-ups cost, per hour and per
// kind, at most (1 + 60m/NamesUnknownRefresh) full reads, and one in the
// steady state with no new agent or group.
type Names struct {
	d              Deps
	dir            Directory
	agents, groups bool

	mu     sync.Mutex
	loaded bool
	cache  namesCache
}

// namesCache is the persisted directory.
type namesCache struct {
	Agents namesKind `json:"agents"`
	Groups namesKind `json:"groups"`
}

// namesKind is one kind's cached names.
type namesKind struct {
	Names map[string]string `json:"names"`
	// Read is the last full read attempted; Unknown the last one an
	// unknown id triggered.
	Read    time.Time `json:"read"`
	Unknown time.Time `json:"unknown"`
	// Missing are ids the last read did not list: they trigger no read
	// until the next full refresh.
	Missing map[string]bool `json:"missing,omitempty"`
}

// Names returns the source's name resolver for dir: agents are resolved
// when the assignee label is exported with CX_AGENT_LABEL=name, groups
// when the group label is exported. When neither is, it reads nothing.
func (e Env) Names(dir Directory) *Names {
	return &Names{
		d:      e.Deps,
		dir:    dir,
		agents: dir.Agents != nil && e.Helpdesk.Labels.Has("assignee") && e.AgentLabel != AgentLabelID,
		groups: dir.Groups != nil && e.Helpdesk.Labels.Has("group"),
	}
}

// A DirectoryHistory is a History that can list its account's agent and
// group names: the backfill labels past tickets with them (through a
// Names kept in memory), as the live source labels its tickets, so that
// backfilled and live series join.
type DirectoryHistory interface {
	History
	Directory() Directory
}

// ResolveNames maps the tickets' assignee and group ids to display names
// through the source's Names (none: ids stay ids). A directory that
// cannot be read is logged and leaves ids (or the last known names): it
// never fails the sync.
func (d Deps) ResolveNames(ctx context.Context, tickets []helpdesk.Ticket) {
	if d.Names != nil {
		d.Names.Resolve(ctx, tickets)
	}
}

// Resolve maps the tickets' ids to names in place, reading the directory
// first when it is due.
func (n *Names) Resolve(ctx context.Context, tickets []helpdesk.Ticket) {
	if !n.agents && !n.groups {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.loaded {
		n.load()
	}
	now := n.d.Now()
	changed := false
	if n.agents {
		changed = n.refresh(ctx, "agents", &n.cache.Agents, n.dir.Agents, now, tickets, func(t *helpdesk.Ticket) string { return t.Assignee }) || changed
	}
	if n.groups {
		changed = n.refresh(ctx, "groups", &n.cache.Groups, n.dir.Groups, now, tickets, func(t *helpdesk.Ticket) string { return t.Group }) || changed
	}
	if changed {
		n.save()
	}
	for i := range tickets {
		t := &tickets[i]
		if n.agents {
			t.Assignee = n.cache.Agents.name(t.Assignee)
		}
		if n.groups {
			t.Group = n.cache.Groups.name(t.Group)
		}
	}
}

// name is the display name of id; the id itself when unknown, "" for "".
func (k *namesKind) name(id string) string {
	if id == "" {
		return ""
	}
	if v := k.Names[id]; v != "" {
		return v
	}
	return id
}

// refresh reads one kind of the directory when due: never read, read
// more than NamesRefresh ago, or a ticket names an unknown id and the
// last such read is NamesUnknownRefresh old. It reports whether the cache
// changed.
func (n *Names) refresh(ctx context.Context, what string, k *namesKind, list func(context.Context) (map[string]string, error),
	now time.Time, tickets []helpdesk.Ticket, id func(*helpdesk.Ticket) string) bool {
	full := k.Read.IsZero() || now.Sub(k.Read) >= NamesRefresh || now.Before(k.Read)
	var unknown []string
	for i := range tickets {
		v := id(&tickets[i])
		// A full read forgets what the last one missed: those ids are
		// judged (and marked missing) again.
		if _, ok := k.Names[v]; v != "" && !ok && (full || !k.Missing[v]) {
			unknown = append(unknown, v)
		}
	}
	if !full && (len(unknown) == 0 || now.Sub(k.Unknown) < NamesUnknownRefresh && !now.Before(k.Unknown)) {
		return false
	}
	if full {
		k.Read, k.Missing = now, nil
	}
	k.Unknown = now
	names, err := list(ctx)
	if err != nil {
		// Try again in NamesUnknownRefresh; unknown ids stay unknown (not
		// missing) meanwhile.
		n.d.Logger.Warn("could not read the "+what+" directory; ids are exported until it can be read", "err", err)
		if full {
			k.Read = now.Add(NamesUnknownRefresh - NamesRefresh)
		}
		return true
	}
	if k.Names == nil {
		k.Names = map[string]string{}
	}
	for id, name := range names {
		if name != "" {
			k.Names[id] = name
		}
	}
	if k.Missing == nil {
		k.Missing = map[string]bool{}
	}
	for _, v := range unknown {
		if _, ok := k.Names[v]; !ok {
			k.Missing[v] = true
		}
	}
	return true
}

func (n *Names) load() {
	n.loaded = true
	if n.d.State == nil { // the backfill's: kept in memory only
		return
	}
	err := n.d.State.View(func(tx *state.Tx) error {
		b := tx.Get(KeyNames)
		if len(b) == 0 {
			return nil
		}
		return json.Unmarshal(b, &n.cache)
	})
	if err != nil {
		n.d.Logger.Warn("stored directory unreadable; reading it again", "err", err)
		n.cache = namesCache{}
	}
}

func (n *Names) save() {
	if n.d.State == nil {
		return
	}
	b, err := json.Marshal(&n.cache)
	if err == nil {
		err = n.d.State.Update(func(tx *state.Tx) error { return tx.Put(KeyNames, b) })
	}
	if err != nil {
		n.d.Logger.Warn("could not store the directory", "err", fmt.Errorf("%s: %w", n.d.Name, err))
	}
}
