# ingress-canary. The two commands a person needs: `make demo` and `make test`.
# Everything else they use (Debian packages, kube-apiserver, etcd, ingress-nginx)
# is installed or built by e2e/setup/setup.sh into a cache outside the checkout.

GO       ?= go
BIN      := bin
FUZZTIME ?= 60s
# Unit-test packages: everything but the suites that start the real cluster.
UNIT_PKGS = $(shell $(GO) list ./... | grep -v -e '/e2e$$' -e '/e2e/cluster$$' -e '/e2e/incluster$$')
# e2e/incluster: deploy/ as two Pods on a real node (kubelet, containerd), from
# the image e2e/image builds.
E2E_PKGS  = ./e2e/cluster ./e2e ./e2e/incluster
# e2e runs serially: each suite starts its own cluster, and the machine has 2 cores.
E2E_FLAGS ?= -count=1 -p 1 -timeout 40m
# The router matrix: these suites run again with the controller on --router=traefik
# and Traefik as the only data plane (E2E_ROUTER=traefik in e2e/main_test.go).
TRAEFIK_MATRIX = TestHealthyRolloutPromotes|TestFastFailWithinFifteenSeconds|TestBlueGreenPreviewByHeaderAndCookie|TestFractionalStep|TestMultiPathIngressPromotes|TestSplitMismatchIsFlagged|TestPrometheusOutageHoldsThenResumes|TestSharedStableServiceIsRefusedThenHolds|TestSlowCanaryRollsBack|TestLowTrafficStepOutlastsInterval
# The Gateway API suite: annotated HTTPRoutes on Traefik's kubernetesGateway
# provider (E2E_ROUTER=gateway), on one cluster of its own.
GATEWAY_TESTS = TestGateway
ROUTER   ?= nginx

# The controller's OCI image, built without a Docker engine (e2e/image).
IMAGE_REF ?= ghcr.io/ingress-canary/ingress-canary:dev
IMAGE_DIR ?= $(or $(INGRESS_CANARY_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ingress-canary)/image

.PHONY: all build test vet unit setup e2e demo demo-incluster up down fuzz clean help image

all: build

help:
	@echo "make demo   set up, start a real local cluster, roll web-v1 -> web-v2 -> web-v3, tear down (ROUTER=traefik: on Traefik; ROUTER=gateway: an HTTPRoute on Traefik)"
	@echo "make test   vet, unit tests, setup, then the e2e suites on the real local cluster"
	@echo "make up / make down   keep a cluster running for manual use (e2e/setup/kubectl.sh ...)"
	@echo "make demo-incluster   the same story with the controller deployed from deploy/ as Pods on a real node"
	@echo "make image  the controller's OCI image (layout + tarball) in IMAGE_DIR, without Docker"
	@echo "make fuzz   run the annotation parser's fuzz target for FUZZTIME ($(FUZZTIME))"

build:
	$(GO) build -o $(BIN)/ ./cmd/...

vet:
	@fmt=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$fmt" ]; then echo "gofmt needed: $$fmt"; exit 1; fi
	$(GO) vet ./...
	GOWORK=off $(GO) -C e2e/image vet ./...

unit:
	$(GO) test -count=1 -race $(UNIT_PKGS)
	GOWORK=off $(GO) -C e2e/image test -count=1 ./...

# The e2e programs build the controller inside the sandbox, which has no network:
# every module must be in the module cache first.
setup:
	$(GO) mod download
	GOWORK=off $(GO) -C e2e/image mod download
	bash e2e/setup/setup.sh

e2e: setup
	$(GO) test $(E2E_FLAGS) -v $(E2E_PKGS)
	E2E_ROUTER=traefik $(GO) test $(E2E_FLAGS) -v -run '$(TRAEFIK_MATRIX)' ./e2e
	E2E_ROUTER=gateway $(GO) test $(E2E_FLAGS) -v -run '$(GATEWAY_TESTS)' ./e2e

test: vet setup unit e2e

# ROUTER=traefik tells the same story on Traefik, with no ingress-nginx process;
# ROUTER=gateway tells it on an annotated Gateway API HTTPRoute served by Traefik.
demo: setup
	ROUTER=$(ROUTER) $(GO) run ./e2e/cmd/demo

# deploy/ (through e2e/incluster/overlay) as two Pods on the local cluster's
# node, from the image built here: apply, Ready, Lease, /metrics, a rollout
# through ingress-nginx, and a handover when the leader Pod is deleted. It is
# the in-cluster e2e test, run verbosely: each step logs what it saw.
demo-incluster: setup
	$(GO) test -count=1 -v -run TestDeployManifestsRunAsPods ./e2e/incluster

up: setup
	$(GO) run ./e2e/cmd/cluster up

down:
	$(GO) run ./e2e/cmd/cluster down

# A static binary (as the Dockerfile builds it), then the image: the same user,
# entrypoint, ports and labels as the Dockerfile, Debian's CA bundle, no shell.
image:
	@mkdir -p $(IMAGE_DIR)
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags="-s -w" -o $(IMAGE_DIR)/ingress-canary ./cmd/ingress-canary
	GOWORK=off $(GO) -C e2e/image run ./cmd/build-image -binary $(IMAGE_DIR)/ingress-canary \
	  -ref $(IMAGE_REF) -oci-layout $(IMAGE_DIR)/oci -tarball $(IMAGE_DIR)/image.tar

fuzz:
	$(GO) test ./annotations -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME)

clean:
	rm -rf $(BIN)
