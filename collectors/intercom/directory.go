package intercom

import (
	"context"
	"encoding/json"

	"github.com/cx-exporter/cx-exporter/collectors/source"
)

// The directory endpoints: admins (teammates; a conversation's
// admin_assignee_id) and teams (its team_assignee_id). Intercom lists
// both whole, unpaged.
const (
	AdminsPath = "/admins"
	TeamsPath  = "/teams"
)

type directoryList struct {
	Admins []directoryEntry `json:"admins"`
	Teams  []directoryEntry `json:"teams"`
}

type directoryEntry struct {
	ID   json.RawMessage `json:"id"` // a string
	Name string          `json:"name"`
}

// Directory lists the workspace's admins and teams for the name resolver:
// one request each per full read.
func (c *Syncer) Directory() source.Directory {
	list := func(ctx context.Context, path string, entries func(*directoryList) []directoryEntry) (map[string]string, error) {
		var l directoryList
		if _, err := c.client.GetJSON(ctx, c.o.BaseURL+path, &l); err != nil {
			return nil, err
		}
		out := map[string]string{}
		for _, e := range entries(&l) {
			if id := source.IDString(e.ID); id != "" {
				out[id] = e.Name
			}
		}
		return out, nil
	}
	return source.Directory{
		Agents: func(ctx context.Context) (map[string]string, error) {
			return list(ctx, AdminsPath, func(l *directoryList) []directoryEntry { return l.Admins })
		},
		Groups: func(ctx context.Context) (map[string]string, error) {
			return list(ctx, TeamsPath, func(l *directoryList) []directoryEntry { return l.Teams })
		},
	}
}
