package source

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/cx-exporter/cx-exporter/collectors/helpdesk"
	"github.com/cx-exporter/cx-exporter/internal/state"
)

// fakeDirectory is an account's agents and groups with a count of reads.
type fakeDirectory struct {
	agents, groups         map[string]string
	agentReads, groupReads int
	fail                   bool
}

func (f *fakeDirectory) dir() Directory {
	return Directory{
		Agents: func(context.Context) (map[string]string, error) {
			f.agentReads++
			if f.fail {
				return nil, errors.New("users: 503")
			}
			return maps.Clone(f.agents), nil
		},
		Groups: func(context.Context) (map[string]string, error) {
			f.groupReads++
			if f.fail {
				return nil, errors.New("groups: 503")
			}
			return maps.Clone(f.groups), nil
		},
	}
}

type namesWorld struct {
	t     *testing.T
	store *state.Store
	now   time.Time
	dir   *fakeDirectory
	env   Env
}

func newNamesWorld(t *testing.T, labels, agentLabel string) *namesWorld {
	store, err := state.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	w := &namesWorld{t: t, store: store, now: time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC),
		dir: &fakeDirectory{agents: map[string]string{"1": "Ada", "2": "Grace"}, groups: map[string]string{"10": "Billing"}}}
	ls, err := helpdesk.ParseLabelSet(labels)
	if err != nil {
		t.Fatal(err)
	}
	w.env = Env{Deps: Deps{Name: "zendesk", State: store.Source("zendesk"), Now: func() time.Time { return w.now }}.WithDefaults(),
		Helpdesk: helpdesk.Config{Labels: ls}, AgentLabel: agentLabel}
	return w
}

// resolve maps one ticket per (assignee, group) pair and returns the
// resolved pairs.
func (w *namesWorld) resolve(n *Names, pairs ...[2]string) [][2]string {
	tickets := make([]helpdesk.Ticket, len(pairs))
	for i, p := range pairs {
		tickets[i].Assignee, tickets[i].Group = p[0], p[1]
	}
	n.Resolve(context.Background(), tickets)
	out := make([][2]string, len(tickets))
	for i, t := range tickets {
		out[i] = [2]string{t.Assignee, t.Group}
	}
	return out
}

func (w *namesWorld) reads(agents, groups int) {
	w.t.Helper()
	if w.dir.agentReads != agents || w.dir.groupReads != groups {
		w.t.Fatalf("directory reads: agents %d groups %d, want %d and %d", w.dir.agentReads, w.dir.groupReads, agents, groups)
	}
}

func (w *namesWorld) want(got [][2]string, want ...[2]string) {
	w.t.Helper()
	if len(got) != len(want) {
		w.t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			w.t.Fatalf("got %v, want %v", got, want)
		}
	}
}

// TestNamesCacheCost: the directory is read at the first sync, then only
// hourly or for an id it does not know (at most every 5 minutes, and an
// id a read did not find not again before the hourly read); renames show
// after the hourly read, deleted agents keep their last known name, and
// a restart reads nothing while the stored cache is fresh.
func TestNamesCacheCost(t *testing.T) {
	w := newNamesWorld(t, "group,assignee", AgentLabelName)
	n := w.env.Names(w.dir.dir())
	w.want(w.resolve(n, [2]string{"1", "10"}, [2]string{"", ""}), [2]string{"Ada", "Billing"}, [2]string{"", ""})
	w.reads(1, 1)
	// Known ids, many pages later: no read.
	for range 10 {
		w.now = w.now.Add(time.Minute)
		w.want(w.resolve(n, [2]string{"2", "10"}), [2]string{"Grace", "Billing"})
	}
	w.reads(1, 1)
	// A new agent: read once (5 minutes passed since the last read), groups not.
	w.dir.agents["3"] = "Linus"
	w.want(w.resolve(n, [2]string{"3", "10"}), [2]string{"Linus", "Billing"})
	w.reads(2, 1)
	// An id the directory does not list (a light agent, a bot): one read
	// at most every 5 minutes, then none until the hourly read.
	w.now = w.now.Add(time.Minute)
	w.want(w.resolve(n, [2]string{"99", "10"}), [2]string{"99", "Billing"})
	w.reads(2, 1) // the last read is a minute old
	w.now = w.now.Add(5 * time.Minute)
	w.want(w.resolve(n, [2]string{"99", "10"}), [2]string{"99", "Billing"})
	w.reads(3, 1)
	w.now = w.now.Add(10 * time.Minute)
	w.resolve(n, [2]string{"99", "10"})
	w.reads(3, 1)
	// Renamed and deleted: the hourly read shows the new name and keeps the old one.
	w.dir.agents["1"] = "Ada L."
	delete(w.dir.agents, "2")
	w.now = w.now.Add(time.Hour)
	w.want(w.resolve(n, [2]string{"1", "10"}, [2]string{"2", "10"}, [2]string{"99", "10"}), [2]string{"Ada L.", "Billing"}, [2]string{"Grace", "Billing"}, [2]string{"99", "Billing"})
	w.reads(4, 2)
	// The id the hourly read did not find either waits for the next one.
	w.now = w.now.Add(10 * time.Minute)
	w.resolve(n, [2]string{"99", "10"})
	w.reads(4, 2)
	// A restart reads the stored cache, not the directory.
	re := w.env.Names(w.dir.dir())
	w.want(w.resolve(re, [2]string{"2", "10"}, [2]string{"3", ""}), [2]string{"Grace", "Billing"}, [2]string{"Linus", ""})
	w.reads(4, 2)
}

// TestNamesFailureKeepsIDs: an unreadable directory leaves ids (never
// fails the sync) and is tried again after 5 minutes, not at every page.
func TestNamesFailureKeepsIDs(t *testing.T) {
	w := newNamesWorld(t, "assignee", AgentLabelName)
	w.dir.fail = true
	n := w.env.Names(w.dir.dir())
	w.want(w.resolve(n, [2]string{"1", "10"}), [2]string{"1", "10"})
	w.reads(1, 0) // group not exported: never read
	w.now = w.now.Add(time.Minute)
	w.resolve(n, [2]string{"1", "10"})
	w.reads(1, 0)
	w.dir.fail = false
	w.now = w.now.Add(5 * time.Minute)
	w.want(w.resolve(n, [2]string{"1", "10"}), [2]string{"Ada", "10"})
	w.reads(2, 0)
}

// TestNamesAgentLabelID: CX_AGENT_LABEL=id exports agent ids and never
// reads the agents; groups still get their names.
func TestNamesAgentLabelID(t *testing.T) {
	w := newNamesWorld(t, "group,assignee", AgentLabelID)
	n := w.env.Names(w.dir.dir())
	w.want(w.resolve(n, [2]string{"1", "10"}), [2]string{"1", "Billing"})
	w.reads(0, 1)
	// Neither label exported: nothing is read.
	w = newNamesWorld(t, "priority,channel", AgentLabelName)
	n = w.env.Names(w.dir.dir())
	w.want(w.resolve(n, [2]string{"1", "10"}), [2]string{"1", "10"})
	w.reads(0, 0)
}
