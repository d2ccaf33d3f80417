# Faultline developer entry points. `make demo` runs the main job, `make test` runs every test.
.PHONY: demo test lint fmt deps

deps:
	hack/install-deps.sh

test:
	hack/test.sh $(ARGS)

lint: deps
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy && .venv/bin/lint-imports

fmt: deps
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .

demo:
	hack/demo.sh
