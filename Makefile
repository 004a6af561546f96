# Carnet: the only entry points. `make` alone lists them.
.DEFAULT_GOAL := help
.PHONY: help install run test lint fmt bench messages

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: ## create .venv and install the locked dependencies
	@scripts/bootstrap.sh

run: install ## migrate SQLite, load the demo data once, serve http://127.0.0.1:8000
	@scripts/run.sh

test: install ## lint, then the whole suite on SQLite and on PostgreSQL
	@scripts/test.sh

lint: install ## ruff, formatting, import contracts, migrations check
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/lint-imports --no-cache

fmt: install ## format and autofix
	.venv/bin/ruff format .
	.venv/bin/ruff check --fix .

bench: install ## benchmarks (see bench/README.md)
	@bench/run-all

messages: install ## extract and compile translations (fr, de, it)
	@scripts/messages.sh
