package edesk

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// UsersPath lists the account's users (agents), whose ids are tickets'
// owner_user_id; paged like tickets (page, itemsPerPage up to 100).
const (
	UsersPath         = "/users"
	DirectoryPageSize = 100
	maxDirectoryPages = 1000
)

type usersPage struct {
	Data []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"data"`
}

// Directory lists the account's users for the name resolver:
// ⌈users/100⌉ requests per full read. eDesk tickets carry no group, so
// there is no group list.
func (c *Syncer) Directory() source.Directory {
	return source.Directory{
		Agents: func(ctx context.Context) (map[string]string, error) {
			out := map[string]string{}
			for page := 1; page <= maxDirectoryPages; page++ {
				var p usersPage
				u := c.o.BaseURL + UsersPath + "?" + url.Values{"page": {strconv.Itoa(page)}, "itemsPerPage": {strconv.Itoa(DirectoryPageSize)}}.Encode()
				if _, err := c.client.GetJSON(ctx, u, &p); err != nil {
					return out, err
				}
				for _, e := range p.Data {
					if e.ID != 0 {
						out[strconv.FormatInt(e.ID, 10)] = e.Name
					}
				}
				if len(p.Data) < DirectoryPageSize {
					return out, nil
				}
			}
			return out, fmt.Errorf("%s: more than %d pages", UsersPath, maxDirectoryPages)
		},
	}
}
