package helpscout

import (
	"context"
	"fmt"
	"strconv"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// The directory endpoints: users (a conversation's assignee) and
// mailboxes (its group), HAL pages of 50.
const (
	UsersPath     = "/v2/users"
	MailboxesPath = "/v2/mailboxes"
	// DirectoryPageSize is Help Scout's fixed page size of both lists.
	DirectoryPageSize = 50
	maxDirectoryPages = 1000
)

type directoryPage struct {
	Embedded struct {
		Users []struct {
			ID        int64  `json:"id"`
			FirstName string `json:"firstName"`
			LastName  string `json:"lastName"`
		} `json:"users"`
		Mailboxes []struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"mailboxes"`
	} `json:"_embedded"`
	Page  *halPage `json:"page"`
	Links halLinks `json:"_links"`
}

// Directory lists the account's users and mailboxes for the name
// resolver: ⌈users/50⌉ + ⌈mailboxes/50⌉ requests per full read.
func (c *Syncer) Directory() source.Directory {
	return source.Directory{
		Agents: func(ctx context.Context) (map[string]string, error) {
			return c.list(ctx, UsersPath, func(p *directoryPage, out map[string]string) {
				for _, u := range p.Embedded.Users {
					name := u.FirstName
					if u.LastName != "" {
						name += " " + u.LastName
					}
					out[strconv.FormatInt(u.ID, 10)] = name
				}
			})
		},
		Groups: func(ctx context.Context) (map[string]string, error) {
			return c.list(ctx, MailboxesPath, func(p *directoryPage, out map[string]string) {
				for _, m := range p.Embedded.Mailboxes {
					out[strconv.FormatInt(m.ID, 10)] = m.Name
				}
			})
		},
	}
}

func (c *Syncer) list(ctx context.Context, path string, add func(*directoryPage, map[string]string)) (map[string]string, error) {
	out := map[string]string{}
	for page := 1; page <= maxDirectoryPages; page++ {
		var p directoryPage
		if err := c.get(ctx, c.o.BaseURL+path+"?page="+strconv.Itoa(page), &p); err != nil {
			return out, err
		}
		add(&p, out)
		if p.Page == nil || p.Links.Next == nil || p.Page.Number >= p.Page.TotalPages {
			return out, nil
		}
	}
	return out, fmt.Errorf("%s: more than %d pages", path, maxDirectoryPages)
}
