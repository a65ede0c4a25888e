package fake

import (
	"slices"
	"sync"
)

// Person is an agent or a group of a fake account's directory.
type Person struct {
	ID   int64
	Name string
	// Group is an agent's group (0: none), for simulators that assign
	// tickets to an agent of the ticket's group.
	Group int64
}

// People is a fake account's directory of agents and groups, which the
// vendors' users/agents and groups/teams endpoints list in their own
// wire format. A deleted entry is no longer listed, as the vendors' list
// endpoints leave deleted agents and groups out. The zero value is empty;
// it is safe for concurrent use.
type People struct {
	mu             sync.Mutex
	agents, groups map[int64]Person
}

// PutAgent adds or renames an agent.
func (p *People) PutAgent(a Person) { p.put(&p.agents, a) }

// PutGroup adds or renames a group.
func (p *People) PutGroup(g Person) { p.put(&p.groups, g) }

// DeleteAgent removes an agent from the listing.
func (p *People) DeleteAgent(id int64) { p.del(&p.agents, id) }

// DeleteGroup removes a group from the listing.
func (p *People) DeleteGroup(id int64) { p.del(&p.groups, id) }

// Agents lists the agents by id.
func (p *People) Agents() []Person { return p.list(&p.agents) }

// Groups lists the groups by id.
func (p *People) Groups() []Person { return p.list(&p.groups) }

func (p *People) put(m *map[int64]Person, v Person) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if *m == nil {
		*m = map[int64]Person{}
	}
	(*m)[v.ID] = v
}

// del and list take the field's address: the map is read under the lock,
// since put may be creating it.
func (p *People) del(m *map[int64]Person, id int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(*m, id)
}

func (p *People) list(m *map[int64]Person) []Person {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]Person, 0, len(*m))
	for _, v := range *m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b Person) int { return int(a.ID - b.ID) })
	return out
}

// PageAfter returns the entries after the one with id after (0: from the
// start), at most size of them, and whether more follow: cursor paging
// by id, as the vendors' directory lists page.
func PageAfter(all []Person, after int64, size int) ([]Person, bool) {
	i, _ := slices.BinarySearchFunc(all, after+1, func(p Person, id int64) int { return int(p.ID - id) })
	end := min(i+size, len(all))
	return all[i:end], end < len(all)
}
