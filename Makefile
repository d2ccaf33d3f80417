# Faultline developer entry points. `make demo` runs the main job, `make test` runs every test.
.PHONY: demo demo-down demo-standalone test lint fmt deps

deps:
	hack/install-deps.sh

test:
	hack/test.sh $(ARGS)

lint: deps
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy && .venv/bin/lint-imports

fmt: deps
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

# `make demo [SCENARIO=pod-kill|partition-minority|partition-majority]` (docs/demo.md).
demo:
	hack/demo.sh $(if $(SCENARIO),--scenario $(SCENARIO))

# Removes what `make demo` installed (release, etcd, namespace, port-forward); the cluster stays.
demo-down:
	hack/demo.sh --down

# The same kind of experiment without Kubernetes: a service in a network namespace.
demo-standalone:
	hack/demo.sh --standalone

# Regenerate crds/*.yaml from backend/spec (the one schema source).
.PHONY: generate
generate: deps
	.venv/bin/python hack/gen-crds.py

# The local single-node Kubernetes (docs/dev-cluster.md): built from upstream sources, no Docker.
.PHONY: cluster-up cluster-down cluster-status images
cluster-up: deps
	hack/cluster/up

cluster-down:
	hack/cluster/down

cluster-status:
	hack/cluster/status

images: deps
	hack/images/build build
