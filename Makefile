# kproxy — build, test and demo. Every target runs on a fresh Debian machine as root:
# the scripts under hack/ install what is missing.

GO        ?= go
BIN       := _output/bin
PKG       := github.com/kproxy/kproxy
GOFLAGS_STATIC := CGO_ENABLED=0

.PHONY: all build binaries deps vm-deps test test-cluster unit e2e e2e-vm bench demo lint fmt-check vet clean cluster-up cluster-down

all: build

## build: the kproxy binary (static) into _output/bin
build:
	$(GOFLAGS_STATIC) $(GO) build -o $(BIN)/kproxy ./cmd/kproxy

## binaries: kproxy, the e2e echo server and the local control plane (kcluster)
binaries: build
	$(GOFLAGS_STATIC) $(GO) build -o $(BIN)/echo ./e2e/echo
	cd hack/cluster && $(GO) build -o $(CURDIR)/$(BIN)/kcluster .

## deps: host tools the tests need (iptables, ipset, conntrack, iproute2)
deps:
	hack/install-deps.sh

## vm-deps: the IPVS test VM (qemu, busybox, Debian's kernel under _output/vm)
vm-deps:
	hack/vm/install.sh

## test: lint, unit and integration tests, then the end-to-end tests on real components
test: deps vm-deps lint unit test-cluster e2e

## test-cluster: the control plane's own tests (they start it in a throwaway namespace)
test-cluster:
	cd hack/cluster && $(GO) vet ./... && $(GO) test -count=1 ./...

## unit: unit and integration tests (real-kernel tests run in namespaces they create)
unit:
	$(GO) test -count=1 ./...

## e2e: end-to-end tests: real kube-apiserver + etcd, nodes as network namespaces, real iptables,
## IPVS in a QEMU VM; one package at a time, since their timing checks need the CPU
e2e: deps binaries
	KPROXY_E2E=1 KPROXY_BIN_DIR=$(CURDIR)/$(BIN) $(GO) test -count=1 -p 1 -timeout 40m ./e2e/...

## bench: benchmarks behind the README's figures
bench: deps
	hack/bench.sh

## demo: a local cluster of two nodes with kproxy, services, real traffic, rules and metrics
## (installs what is missing and builds first)
demo:
	hack/demo.sh

## lint: gofmt and go vet
lint: fmt-check vet

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

## cluster-up / cluster-down: the local control plane alone (kubeconfig under _output/cluster)
cluster-up:
	hack/cluster-up.sh

cluster-down:
	hack/cluster-down.sh

clean:
	rm -rf _output
