#!/usr/bin/env bash
# Copies the generated alert rules and Grafana dashboards into the Helm chart,
# which bundles them (PrometheusRule, dashboard ConfigMaps). CI runs it and
# then `git diff --exit-code`: the chart's copies must equal the sources.
#
#   alerts/cx-exporter.rules.yml -> deploy/helm/cx-exporter/files/cx-exporter.rules.yml
#   dashboards/*.json            -> deploy/helm/cx-exporter/files/dashboards/
#
# The files are copied byte for byte and the chart reads them with .Files.Get
# without tpl, so the rules' {{ $labels }} and {{ $value }} and the
# dashboards' {{legend}} formats need no escaping.
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

mkdir -p "$chart/files/dashboards"
cp "$rules" "$chart/files/cx-exporter.rules.yml"
# Dashboards removed from dashboards/ disappear from the chart too.
rm -f "$chart"/files/dashboards/*.json
cp "${dashboards[@]}" "$chart/files/dashboards/"
echo "generate.sh: copied $(basename "$rules") and ${#dashboards[@]} dashboards into ${chart#"$root"/}/files"
