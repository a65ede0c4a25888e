package udesk

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// The directory endpoints (assumed, as the work-order list's filters are:
// see docs/vendors.md): agents (客服; a work order's assignee_id) and user
// groups (客服组; its user_group_id), paged like work orders.
const (
	AgentsPath        = "/open_api_v1/agents"
	UserGroupsPath    = "/open_api_v1/user_groups"
	DirectoryPageSize = 100
	maxDirectoryPages = 1000
)

type directoryPage struct {
	Code   *int `json:"code"`
	Agents []struct {
		ID       int64  `json:"id"`
		NickName string `json:"nick_name"`
	} `json:"agents"`
	UserGroups []struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	} `json:"user_groups"`
	Meta *apiMeta `json:"meta"`
}

// Directory lists the account's agents and user groups for the name
// resolver: ⌈agents/100⌉ + ⌈groups/100⌉ requests per full read, spaced
// like every request to the account's per-minute limit.
func (c *Syncer) Directory() source.Directory {
	return source.Directory{
		Agents: func(ctx context.Context) (map[string]string, error) {
			return c.list(ctx, AgentsPath, func(p *directoryPage, out map[string]string) {
				for _, a := range p.Agents {
					out[strconv.FormatInt(a.ID, 10)] = a.NickName
				}
			})
		},
		Groups: func(ctx context.Context) (map[string]string, error) {
			return c.list(ctx, UserGroupsPath, func(p *directoryPage, out map[string]string) {
				for _, g := range p.UserGroups {
					out[strconv.FormatInt(g.ID, 10)] = g.Name
				}
			})
		},
	}
}

func (c *Syncer) list(ctx context.Context, path string, add func(*directoryPage, map[string]string)) (map[string]string, error) {
	out := map[string]string{}
	for page := 1; page <= maxDirectoryPages; page++ {
		if err := c.wait(ctx); err != nil {
			return out, err
		}
		var p directoryPage
		q := url.Values{"page": {strconv.Itoa(page)}, "per_page": {strconv.Itoa(DirectoryPageSize)}}
		if _, err := c.client.GetJSON(ctx, c.o.BaseURL+path+"?"+q.Encode(), &p); err != nil {
			return out, err
		}
		if p.Code == nil || *p.Code != 1000 {
			return out, fmt.Errorf("%s: answer without code 1000", path)
		}
		add(&p, out)
		if p.Meta == nil || page >= p.Meta.TotalPages {
			return out, nil
		}
	}
	return out, fmt.Errorf("%s: more than %d pages", path, maxDirectoryPages)
}
