# cx-exporter. `make test` is the whole suite, as CI runs it.
GO        ?= go
BIN       := $(CURDIR)/bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION  ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X main.version=$(VERSION) -X main.revision=$(REVISION)

# Pinned tools, installed into ./bin (git-ignored) and reused. Alertmanager
# v0.32 and later do not build with `go install` (their UI assets are not in
# the module), so it is pinned to the newest release that does.
PROMETHEUS_VERSION   := v0.316.0
ALERTMANAGER_VERSION := v0.28.1
HELM_VERSION         := v3.22.0
STRIPE_MOCK_VERSION  := v0.203.0
IMAGE                ?= cx-exporter

export PATH := $(BIN):$(PATH)

.PHONY: all build test tools lint e2e bench bench-backfill fuzz demo clean generate check-generated docker

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
	git diff --exit-code -- alerts dashboards deploy/helm/cx-exporter/files

lint:
	$(GO) vet ./...
	test -z "$$(gofmt -l .)"

bench:
	$(GO) test -run '^$$' -bench . -benchmem -skip BackfillZendesk ./...

# Time and peak RSS of backfilling 100k tickets x 90 days from the fake
# Zendesk (BENCH_TICKETS, BENCH_LABELS); docs/backfill.md quotes it.
bench-backfill: tools
	$(GO) test -run '^$$' -bench BackfillZendesk -benchtime 1x -timeout 60m ./internal/e2e/

fuzz:
	$(GO) test -run '^$$' -fuzz FuzzDecodePage -fuzztime 30s ./collectors/zendesk/
	$(GO) test -run '^$$' -fuzz FuzzBetween -fuzztime 30s ./collectors/helpdesk/businesshours/

# The container image (needs a Docker engine).
docker:
	docker build -f deploy/Dockerfile --build-arg VERSION=$(VERSION) --build-arg REVISION=$(REVISION) -t $(IMAGE):$(VERSION) .

clean:
	rm -rf cx-exporter
