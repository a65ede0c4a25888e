#!/usr/bin/env bash
# GoReleaser's before hook: release-preflight.sh VERSION IS_SNAPSHOT.
# A real release must be tagged with the VERSION file's version, which the
# chart carries too; then the chart is packaged with that version for the
# release and the OCI registry (build/chart/cx-exporter-VERSION.tgz).
set -euo pipefail
cd "$(dirname "$0")/.."
version="$1" snapshot="$2"
want="$(tr -d '[:space:]' < VERSION)"
chart_version="$(sed -n 's/^version: //p' deploy/helm/cx-exporter/Chart.yaml)"
if [[ "$chart_version" != "$want" ]]; then
	echo "release-preflight: Chart.yaml version $chart_version is not VERSION $want: run deploy/helm/generate.sh" >&2
	exit 1
fi
if [[ "$snapshot" != "true" && "$version" != "$want" ]]; then
	echo "release-preflight: the tag's version $version is not VERSION $want" >&2
	exit 1
fi
helm="$(command -v helm || echo bin/helm)"
rm -rf build/chart
mkdir -p build/chart
"$helm" package deploy/helm/cx-exporter --destination build/chart >/dev/null
echo "release-preflight: version $want; chart build/chart/cx-exporter-$want.tgz"
