package exporter

import (
	"html/template"
	"net/http"
	"sort"
	"time"
)

var landingTmpl = template.Must(template.New("landing").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>cx-exporter</title>
<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:60em}table{border-collapse:collapse}td,th{padding:.3em .8em;border-bottom:1px solid #ddd;text-align:left}.down{color:#b00}.up{color:#070}</style>
</head>
<body>
<h1>cx-exporter</h1>
<p>Customer-support and subscription-billing KPIs for Prometheus.
<a href="{{.TelemetryPath}}">Metrics</a> · <a href="/-/healthy">Health</a> · <a href="/-/ready">Readiness</a></p>
<h2>Sources</h2>
{{if .Sources}}<table>
<tr><th>source</th><th>kind</th><th>state</th><th>last successful sync</th><th>last error</th></tr>
{{range .Sources}}<tr><td>{{.Name}}</td><td>{{.Kind}}</td>
<td class="{{if .Up}}up{{else}}down{{end}}">{{.State}}</td><td>{{.LastSuccess}}</td><td>{{.LastErr}}</td></tr>
{{end}}</table>{{else}}<p>No source is configured.</p>{{end}}
{{if .Demo}}<p>Demo mode: the sources are built-in simulated vendor APIs.</p>{{end}}
</body></html>
`))

type landingSource struct {
	Name, Kind, State, LastSuccess, LastErr string
	Up                                      bool
}

// landing lists the sources and their state. The page needs no
// authentication unless CX_WEB_CONFIG_FILE sets some, so the errors shown
// here went through Exporter.clean: no credential, no control character,
// bounded length.
func (e *Exporter) landing(w http.ResponseWriter, _ *http.Request) {
	var rows []landingSource
	e.mu.Lock()
	for _, s := range e.sources {
		st := e.status[s.name]
		r := landingSource{Name: s.name, Kind: s.kind, LastErr: st.lastErr}
		switch {
		case st.lastErr != "":
			r.State = "failing"
		case st.backfilling.Load():
			r.State = "first backfill in progress"
		case st.synced:
			r.State, r.Up = "up", true
		default:
			r.State = "first sync in progress"
		}
		if !st.lastSuccess.IsZero() {
			r.LastSuccess = st.lastSuccess.UTC().Format(time.RFC3339)
		}
		rows = append(rows, r)
	}
	e.mu.Unlock()
	sort.Slice(rows, func(i, j int) bool { return rows[i].Name < rows[j].Name })
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = landingTmpl.Execute(w, struct {
		Sources       []landingSource
		Demo          bool
		TelemetryPath string
	}{rows, e.cfg.Demo, e.telemetryPath()})
}
