# Two entry points: `make demo` (install, then run the demo on the embedded SQLite database)
# and `make test` (install, lint, check migrations, run the whole suite on SQLite and, at the
# same time, on PostgreSQL when SIGNOFF_DATABASE_URL names one).
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

# The two passes run side by side (each is one process, and CI has two cores); each pass's
# output is printed whole when both are done, and either failing fails the target.
test: lint
	@logs=$$(mktemp -d); \
	echo "== test suite on SQLite$${SIGNOFF_DATABASE_URL:+ and, alongside, on PostgreSQL}"; \
	env -u SIGNOFF_DATABASE_URL SIGNOFF_HOME=$$(mktemp -d) $(BIN)/pytest >$$logs/sqlite.log 2>&1 & lite=$$!; \
	if [ -n "$$SIGNOFF_DATABASE_URL" ]; then \
		SIGNOFF_HOME=$$(mktemp -d) $(BIN)/pytest >$$logs/postgres.log 2>&1 & pg=$$!; \
	fi; \
	wait $$lite; lite_rc=$$?; pg_rc=0; \
	if [ -n "$$pg" ]; then wait $$pg; pg_rc=$$?; fi; \
	echo "== SQLite pass (exit $$lite_rc)"; cat $$logs/sqlite.log; \
	if [ -n "$$pg" ]; then echo "== PostgreSQL pass (exit $$pg_rc)"; cat $$logs/postgres.log; \
	else echo "== SIGNOFF_DATABASE_URL not set: PostgreSQL pass skipped"; fi; \
	[ $$lite_rc -eq 0 ] && [ $$pg_rc -eq 0 ]

bench: install
	$(BIN)/python bench/run_bench.py
