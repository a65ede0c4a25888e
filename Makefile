# cx-exporter. `make test` is the whole suite, as CI runs it.
GO        ?= go
BIN       := $(CURDIR)/bin
# VERSION is the one source of the version: the binary (--version,
# cx_exporter_build_info), the image tag and the chart's version and
# appVersion (deploy/helm/generate.sh writes them into Chart.yaml; CI fails
# when they drift) all read it. A release tags the commit v$(VERSION).
VERSION   ?= $(shell cat VERSION)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
BRANCH    ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
VPKG      := github.com/prometheus/common/version
LDFLAGS   := -X $(VPKG).Version=$(VERSION) -X $(VPKG).Revision=$(REVISION) -X $(VPKG).Branch=$(BRANCH)

# Pinned tools, installed into ./bin (git-ignored) and reused. Alertmanager
# v0.32 and later do not build with `go install` (their UI assets are not in
# the module), so it is pinned to the newest release that does.
PROMETHEUS_VERSION   := v0.316.0
ALERTMANAGER_VERSION := v0.28.1
HELM_VERSION         := v3.22.0
STRIPE_MOCK_VERSION  := v0.203.0
# The newest GoReleaser that builds with this Go and the module proxy here.
GORELEASER_VERSION   := v2.15.1
CHART_REGISTRY       ?= oci://ghcr.io/cx-exporter/charts
IMAGE                ?= cx-exporter

export PATH := $(BIN):$(PATH)

.PHONY: all build test tools lint e2e bench bench-render bench-backfill bench-webhooks fuzz demo clean generate check-generated docker print-ldflags release-check release

all: build

build:
	$(GO) build -ldflags "$(LDFLAGS)" -o cx-exporter ./cmd/cx-exporter

demo:
	$(GO) run ./cmd/cx-exporter -demo

TOOLS := $(BIN)/promtool $(BIN)/prometheus $(BIN)/alertmanager $(BIN)/amtool $(BIN)/helm $(BIN)/stripe-mock

tools: $(TOOLS)

$(BIN)/promtool $(BIN)/prometheus:
	GOBIN=$(BIN) $(GO) install github.com/prometheus/prometheus/cmd/$(notdir $@)@$(PROMETHEUS_VERSION)

$(BIN)/alertmanager $(BIN)/amtool:
	GOBIN=$(BIN) $(GO) install github.com/prometheus/alertmanager/cmd/$(notdir $@)@$(ALERTMANAGER_VERSION)

$(BIN)/helm:
	GOBIN=$(BIN) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)

$(BIN)/stripe-mock:
	GOBIN=$(BIN) $(GO) install github.com/stripe/stripe-mock@$(STRIPE_MOCK_VERSION)

$(BIN)/goreleaser:
	GOBIN=$(BIN) $(GO) install github.com/goreleaser/goreleaser/v2@$(GORELEASER_VERSION)

# CI: the release configuration is valid, and a snapshot build of this
# machine's target stamps the VERSION file's version (--version). Publishes
# nothing.
release-check: $(BIN)/goreleaser $(BIN)/helm
	goreleaser check
	VERSION=$(VERSION) goreleaser build --snapshot --clean --single-target
	./dist/*/cx-exporter --version | grep -F "cx-exporter, version $(VERSION)-snapshot"
	test -f build/chart/cx-exporter-$(VERSION).tgz

# A release, from a commit tagged v$(VERSION): binaries, archives, checksums,
# the multi-arch image, then the chart to the OCI registry (needs
# GITHUB_TOKEN, docker buildx and registry logins).
release: $(BIN)/goreleaser $(BIN)/helm
	test "$$(git describe --tags --exact-match)" = "v$(VERSION)"
	goreleaser release --clean
	helm push build/chart/cx-exporter-$(VERSION).tgz $(CHART_REGISTRY)

# The whole suite: unit, fuzz seeds, end-to-end against the real binary.
test: tools
	$(GO) vet ./...
	$(GO) test -race -timeout 15m ./...

e2e: tools
	$(GO) test -run 'E2E|Demo' -v -timeout 10m ./cmd/cx-exporter/

# Regenerates the committed rules and dashboards.
generate:
	$(GO) generate ./alerts/... ./dashboards/...
	deploy/helm/generate.sh

# CI: the committed generated files are what the generators write.
check-generated: generate
	git diff --exit-code -- alerts dashboards deploy/helm/cx-exporter

lint:
	$(GO) vet ./...
	test -z "$$(gofmt -l .)"

bench:
	$(GO) test -run '^$$' -bench . -benchmem -skip BackfillZendesk ./...

# /metrics render cost: the helpdesk collector alone (10,700 series; 200
# agents) and whole requests to the exporter's handler; docs/metrics.md
# quotes it.
bench-render:
	$(GO) test -run '^$$' -bench 'Render|MetricsHandler' -benchmem -benchtime 3s ./collectors/helpdesk/ ./exporter/

# Time and peak RSS of backfilling 100k tickets x 90 days from the fake
# Zendesk (BENCH_TICKETS, BENCH_LABELS); docs/backfill.md quotes it.
bench-backfill: tools
	$(GO) test -run '^$$' -bench BackfillZendesk -benchtime 1x -timeout 60m ./internal/e2e/

# Change-to-metric latency and request cost of webhooks, through the binary.
bench-webhooks:
	$(GO) run ./internal/bench/webhooklatency

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodePage -fuzztime 30s ./collectors/zendesk/
	$(GO) test -run '^$$' -fuzz FuzzBetween -fuzztime 30s ./collectors/helpdesk/businesshours/
	$(GO) test -run '^$$' -fuzz FuzzVerifier -fuzztime 30s ./collectors/zendesk/
	$(GO) test -run '^$$' -fuzz FuzzVerifier -fuzztime 30s ./collectors/stripe/

# The container image (needs a Docker engine).
docker:
	docker build -f deploy/Dockerfile --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) -t $(IMAGE):$(VERSION) .

clean:
	rm -rf cx-exporter dist build

# The linker flags that stamp the version (tests build with them).
print-ldflags:
	@echo '$(LDFLAGS)'
