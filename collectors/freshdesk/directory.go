package freshdesk

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// The directory endpoints: agents (a ticket's responder_id) and groups,
// paged like tickets (page, per_page up to 100, Link rel="next").
const (
	AgentsPath = "/api/v2/agents"
	GroupsPath = "/api/v2/groups"
	// DirectoryPageSize is per_page of the directory lists.
	DirectoryPageSize = 100
	maxDirectoryPages = 1000
)

type apiAgent struct {
	ID      int64 `json:"id"`
	Contact struct {
		Name string `json:"name"`
	} `json:"contact"`
}

type apiGroup struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Directory lists the account's agents and groups for the name resolver:
// ⌈agents/100⌉ + ⌈groups/100⌉ requests per full read.
func (c *Syncer) Directory() source.Directory {
	return source.Directory{
		Agents: func(ctx context.Context) (map[string]string, error) {
			return list(ctx, c, AgentsPath, func(a apiAgent) (int64, string) { return a.ID, a.Contact.Name })
		},
		Groups: func(ctx context.Context) (map[string]string, error) {
			return list(ctx, c, GroupsPath, func(g apiGroup) (int64, string) { return g.ID, g.Name })
		},
	}
}

func list[E any](ctx context.Context, c *Syncer, path string, entry func(E) (int64, string)) (map[string]string, error) {
	out := map[string]string{}
	for page := 1; page <= maxDirectoryPages; page++ {
		q := url.Values{"per_page": {strconv.Itoa(DirectoryPageSize)}, "page": {strconv.Itoa(page)}}
		var raw []E
		h, err := c.client.GetJSON(ctx, c.o.BaseURL+path+"?"+q.Encode(), &raw)
		if err != nil {
			return out, err
		}
		for _, e := range raw {
			if id, name := entry(e); id != 0 {
				out[strconv.FormatInt(id, 10)] = name
			}
		}
		if !hasNext(h) {
			return out, nil
		}
	}
	return out, fmt.Errorf("%s: more than %d pages", path, maxDirectoryPages)
}
