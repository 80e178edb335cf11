# Two entry points: `make demo` (install, then run the demo on the embedded SQLite database)
# and `make test` (install, lint, check migrations, run the whole suite on SQLite, and again
# on PostgreSQL when SIGNOFF_DATABASE_URL names one).
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: install demo test lint bench

$(BIN)/signoff: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(BIN)/signoff

install: $(BIN)/signoff

demo: install
	$(BIN)/signoff demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	env -u SIGNOFF_DATABASE_URL SIGNOFF_HOME=$$(mktemp -d) $(BIN)/python manage.py makemigrations --check --dry-run

test: lint
	@echo "== test suite on SQLite"
	env -u SIGNOFF_DATABASE_URL SIGNOFF_HOME=$$(mktemp -d) $(BIN)/pytest
	@if [ -n "$$SIGNOFF_DATABASE_URL" ]; then \
		echo "== test suite on PostgreSQL"; \
		SIGNOFF_HOME=$$(mktemp -d) $(BIN)/pytest; \
	else echo "== SIGNOFF_DATABASE_URL not set: PostgreSQL pass skipped"; fi

bench: install
	$(BIN)/python bench/run_bench.py
