// Command valuesdoc writes the values table of the Helm chart's README from
// values.yaml: one row per value, its default and the comment above it (a
// value without a comment takes its parent's). deploy/helm/generate.sh runs
// it; CI fails when the README and values.yaml drift apart.
//
//	go run ./deploy/helm/valuesdoc deploy/helm/cx-exporter
package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

const (
	begin = "<!-- values table: generated from values.yaml by deploy/helm/generate.sh -->\n"
	end   = "<!-- end of values table -->\n"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: valuesdoc CHART_DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "valuesdoc:", err)
		os.Exit(1)
	}
}

func run(chart string) error {
	data, err := os.ReadFile(filepath.Join(chart, "values.yaml"))
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	var rows bytes.Buffer
	rows.WriteString("| value | default | description |\n| --- | --- | --- |\n")
	walk(&rows, "", "", doc.Content[0])
	readmePath := filepath.Join(chart, "README.md")
	readme, err := os.ReadFile(readmePath)
	if err != nil {
		return err
	}
	before, rest, ok := strings.Cut(string(readme), begin)
	_, after, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		return fmt.Errorf("%s lacks the markers %q and %q", readmePath, begin, end)
	}
	return os.WriteFile(readmePath, []byte(before+begin+rows.String()+end+after), 0o644)
}

// walk writes a row for every leaf of the mapping m: a scalar, a list, or
// an empty or free-form mapping.
func walk(w *bytes.Buffer, prefix, parentDoc string, m *yaml.Node) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		key := k.Value
		if prefix != "" {
			key = prefix + "." + k.Value
		}
		doc := comment(k.HeadComment)
		if v.Kind == yaml.MappingNode && len(v.Content) > 0 && !freeForm(k.Value) {
			walk(w, key, firstNonEmpty(doc, parentDoc), v)
			continue
		}
		if doc == "" {
			doc = parentDoc
		}
		fmt.Fprintf(w, "| `%s` | %s | %s |\n", key, cell(render(v)), cell(doc))
	}
}

// freeForm are mappings whose keys are the user's, listed as one value.
func freeForm(key string) bool {
	switch key {
	case "ExtraLabels", "resources", "podSecurityContext", "securityContext", "seccompProfile", "capabilities":
		return true
	}
	return false
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// comment joins the lines of a YAML head comment (the paragraph right above
// the key).
func comment(c string) string {
	if i := strings.LastIndex(c, "\n\n"); i >= 0 {
		c = c[i+2:]
	}
	var parts []string
	for _, l := range strings.Split(c, "\n") {
		l = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(l), "#"))
		if l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ")
}

// render writes a default value in flow style.
func render(v *yaml.Node) string {
	c := *v
	c.HeadComment, c.LineComment, c.FootComment = "", "", ""
	setFlow(&c)
	b, err := yaml.Marshal(&c)
	if err != nil {
		return "?"
	}
	return "`" + strings.TrimSpace(string(b)) + "`"
}

func setFlow(n *yaml.Node) {
	if n.Kind == yaml.MappingNode || n.Kind == yaml.SequenceNode {
		n.Style = yaml.FlowStyle
	}
	for i, c := range n.Content {
		cc := *c
		cc.HeadComment, cc.LineComment, cc.FootComment = "", "", ""
		setFlow(&cc)
		n.Content[i] = &cc
	}
}

func cell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
