package zendesk

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// The directory endpoints: agents and admins (the users tickets are
// assigned to) and groups, both listed with cursor pagination.
const (
	UsersPath  = "/api/v2/users.json"
	GroupsPath = "/api/v2/groups.json"
	// DirectoryPageSize is page[size] of the directory lists (Zendesk's
	// maximum is 100).
	DirectoryPageSize = 100
	// maxDirectoryPages bounds one read (100,000 agents or groups).
	maxDirectoryPages = 1000
)

// directoryPage is one page of GET /api/v2/users or /api/v2/groups with
// cursor pagination.
type directoryPage struct {
	Users  []directoryEntry `json:"users"`
	Groups []directoryEntry `json:"groups"`
	Meta   struct {
		HasMore     bool   `json:"has_more"`
		AfterCursor string `json:"after_cursor"`
	} `json:"meta"`
}

type directoryEntry struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Directory lists the account's agents and groups for the name resolver:
// ⌈agents/100⌉ + ⌈groups/100⌉ requests per full read.
func (c *Syncer) Directory() source.Directory {
	return source.Directory{
		Agents: func(ctx context.Context) (map[string]string, error) {
			return c.list(ctx, UsersPath, url.Values{"role[]": {"agent", "admin"}}, func(p *directoryPage) []directoryEntry { return p.Users })
		},
		Groups: func(ctx context.Context) (map[string]string, error) {
			return c.list(ctx, GroupsPath, url.Values{}, func(p *directoryPage) []directoryEntry { return p.Groups })
		},
	}
}

func (c *Syncer) list(ctx context.Context, path string, q url.Values, entries func(*directoryPage) []directoryEntry) (map[string]string, error) {
	out := map[string]string{}
	q.Set("page[size]", strconv.Itoa(DirectoryPageSize))
	for range maxDirectoryPages {
		var p directoryPage
		if _, err := c.client.GetJSON(ctx, c.o.BaseURL+path+"?"+q.Encode(), &p); err != nil {
			return out, err
		}
		for _, e := range entries(&p) {
			if e.ID != 0 {
				out[strconv.FormatInt(e.ID, 10)] = e.Name
			}
		}
		if !p.Meta.HasMore || p.Meta.AfterCursor == "" {
			return out, nil
		}
		q.Set("page[after]", p.Meta.AfterCursor)
	}
	return out, fmt.Errorf("%s: more than %d pages", path, maxDirectoryPages)
}
