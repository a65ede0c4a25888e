#!/usr/bin/env bash
# Writes the Helm chart's generated files. CI runs it and then
# `git diff --exit-code`: the chart's copies must equal the sources.
#
#   VERSION                      -> Chart.yaml version and appVersion
#   cx-exporter rules -helm-template -> files/cx-exporter.rules.tpl (rendered
#                                   with tpl from rules.thresholds; the rules'
#                                   own {{ $labels }} escaped)
#   alerts/cx-exporter.rules.yml -> files/cx-exporter.rules.yml (the defaults,
#                                   for reference and tests)
#   dashboards/*.json            -> files/dashboards/ (byte for byte, read
#                                   without tpl)
#   values.yaml                  -> README.md's values table
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
chart="$root/deploy/helm/cx-exporter"
rules="$root/alerts/cx-exporter.rules.yml"

if [[ ! -f "$rules" ]]; then
	echo "generate.sh: $rules does not exist; generate it first (go generate ./alerts/...)" >&2
	exit 1
fi
shopt -s nullglob
dashboards=("$root"/dashboards/*.json)
if (( ${#dashboards[@]} == 0 )); then
	echo "generate.sh: no dashboards in $root/dashboards/*.json; generate them first (go generate ./dashboards/...)" >&2
	exit 1
fi

version="$(tr -d '[:space:]' < "$root/VERSION")"
sed -i -E "s/^version: .*/version: $version/; s/^appVersion: .*/appVersion: \"$version\"/" "$chart/Chart.yaml"
mkdir -p "$chart/files/dashboards"
cp "$rules" "$chart/files/cx-exporter.rules.yml"
(cd "$root" && go run ./cmd/cx-exporter rules -helm-template -o "$chart/files/cx-exporter.rules.tpl")
(cd "$root" && go run ./deploy/helm/valuesdoc "$chart")
# Dashboards removed from dashboards/ disappear from the chart too.
rm -f "$chart"/files/dashboards/*.json
cp "${dashboards[@]}" "$chart/files/dashboards/"
echo "generate.sh: copied $(basename "$rules") and ${#dashboards[@]} dashboards into ${chart#"$root"/}/files"
