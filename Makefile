# ingress-canary. The two commands a person needs: `make demo` and `make test`.
# Everything else they use (Debian packages, kube-apiserver, etcd, ingress-nginx)
# is installed or built by e2e/setup/setup.sh into a cache outside the checkout.

GO       ?= go
BIN      := bin
FUZZTIME ?= 60s
# Unit-test packages: everything but the suites that start the real cluster.
UNIT_PKGS = $(shell $(GO) list ./... | grep -v -e '/e2e$$' -e '/e2e/cluster$$')
E2E_PKGS  = ./e2e/cluster ./e2e
# e2e runs serially: each suite starts its own cluster, and the machine has 2 cores.
E2E_FLAGS ?= -count=1 -p 1 -timeout 40m
# The router matrix: these suites run again with the controller on --router=traefik
# and Traefik as the only data plane (E2E_ROUTER=traefik in e2e/main_test.go).
TRAEFIK_MATRIX = TestHealthyRolloutPromotes|TestFastFailWithinFifteenSeconds|TestBlueGreenPreviewByHeaderAndCookie|TestFractionalStep|TestMultiPathIngressPromotes|TestSplitMismatchIsFlagged|TestPrometheusOutageHoldsThenResumes|TestSharedStableServiceIsRefusedThenHolds
ROUTER   ?= nginx

.PHONY: all build test vet unit setup e2e demo up down fuzz clean help

all: build

help:
	@echo "make demo   set up, start a real local cluster, roll web-v1 -> web-v2 -> web-v3, tear down (ROUTER=traefik: on Traefik)"
	@echo "make test   vet, unit tests, setup, then the e2e suites on the real local cluster"
	@echo "make up / make down   keep a cluster running for manual use (e2e/setup/kubectl.sh ...)"
	@echo "make fuzz   run the annotation parser's fuzz target for FUZZTIME ($(FUZZTIME))"

build:
	$(GO) build -o $(BIN)/ ./cmd/...

vet:
	@fmt=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$fmt" ]; then echo "gofmt needed: $$fmt"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -count=1 -race $(UNIT_PKGS)

# The e2e programs build the controller inside the sandbox, which has no network:
# every module must be in the module cache first.
setup:
	$(GO) mod download
	bash e2e/setup/setup.sh

e2e: setup
	$(GO) test $(E2E_FLAGS) -v $(E2E_PKGS)
	E2E_ROUTER=traefik $(GO) test $(E2E_FLAGS) -v -run '$(TRAEFIK_MATRIX)' ./e2e

test: vet setup unit e2e

# ROUTER=traefik tells the same story on Traefik, with no ingress-nginx process.
demo: setup
	ROUTER=$(ROUTER) $(GO) run ./e2e/cmd/demo

up: setup
	$(GO) run ./e2e/cmd/cluster up

down:
	$(GO) run ./e2e/cmd/cluster down

fuzz:
	$(GO) test ./annotations -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)

clean:
	rm -rf $(BIN)
