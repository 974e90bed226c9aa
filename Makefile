# The two commands the README starts with: `make demo` and `make test`.
.PHONY: bootstrap demo test lint unit bench clean

VENV := .venv/bin

bootstrap:
	bash scripts/bootstrap.sh

demo: bootstrap
	$(VENV)/callprobe demo

lint: bootstrap
	$(VENV)/ruff check .
	$(VENV)/ruff format --check .
	$(VENV)/mypy
	$(VENV)/lint-imports

test: lint
	$(VENV)/pytest -q

unit: bootstrap
	$(VENV)/pytest -q tests/unit

bench: bootstrap
	$(VENV)/python -m bench.run_all

clean:
	-$(VENV)/callprobe db stop
	rm -rf .var
