package dashboards

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Query is one panel query of a dashboard.
type Query struct {
	Dashboard string // dashboard uid
	Panel     string // panel title
	RefID     string // the query's refId within the panel
	Expr      string // PromQL, with Grafana variables ($source, $__rate_interval, …) not substituted
}

// dashboardJSON is the part of a dashboard's JSON that Queries reads.
type dashboardJSON struct {
	UID    string      `json:"uid"`
	Panels []panelJSON `json:"panels"`
}

type panelJSON struct {
	Title   string       `json:"title"`
	Panels  []panelJSON  `json:"panels"` // panels inside a row
	Targets []targetJSON `json:"targets"`
}

type targetJSON struct {
	RefID string `json:"refId"`
	Expr  string `json:"expr"`
}

// Queries returns every panel query (targets with an expr) of the dashboard
// JSON files (*.json) in dir, in file name order, then panel order, then
// target order.
func Queries(dir string) ([]Query, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var queries []Query
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var d dashboardJSON
		if err := json.Unmarshal(b, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		var walk func(panels []panelJSON)
		walk = func(panels []panelJSON) {
			for _, p := range panels {
				for _, t := range p.Targets {
					if t.Expr == "" {
						continue
					}
					queries = append(queries, Query{Dashboard: d.UID, Panel: p.Title, RefID: t.RefID, Expr: t.Expr})
				}
				walk(p.Panels)
			}
		}
		walk(d.Panels)
	}
	return queries, nil
}
