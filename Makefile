# Two commands do all set-up on a fresh Linux machine with Python 3.11+:
#   make run    - the platform with demo data on embedded PostgreSQL + Redis
#   make test   - ruff, tsc + eslint (JavaScript), mypy --strict and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: run stack test lint jsdeps jscheck typecheck pytest translations clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/clb run

# A production-like stack: nginx, two app processes, a worker, PgBouncer (Debian's nginx and
# pgbouncer packages), PostgreSQL and Redis (infra/README.md).
stack: $(STAMP)
	$(BIN)/python -m development.stack

test: lint jscheck typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# node_modules as package-lock.json pins them: tsc and ESLint, and the OpenID provider the
# single sign-on tests run (tests/clb/auth/oidc_provider). Without npm it skips with a note
# on a developer's machine (those checks and tests skip too), but fails in CI (CI=true).
jsdeps:
	@if ! command -v npm >/dev/null 2>&1; then \
		if [ "$$(printf '%s' "$$CI" | tr A-Z a-z)" = "true" ]; then \
			echo "jsdeps: npm not found; CI needs Node.js and npm for the JavaScript checks and tests" >&2; \
			exit 1; \
		fi; \
		echo "jsdeps: npm not found, skipping the JavaScript packages"; \
		exit 0; \
	fi; \
	if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] \
		|| [ package-lock.json -nt node_modules/.package-lock.json ]; then \
		npm ci --no-audit --no-fund; \
	fi

# tsc and ESLint on frontend/static/js (versions pinned in package-lock.json).
jscheck: jsdeps
	@if command -v npm >/dev/null 2>&1; then npm run typecheck:js && npm run lint:js; fi

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: $(STAMP) jsdeps
	$(BIN)/pytest

# After changing texts: gather the Dutch strings into templates (.pot), merge them into every
# language's catalogue (new strings arrive empty, removed ones become obsolete) and check that
# each compiles. The app compiles the .po files itself at start-up (docs/translations.md).
LOCALES := frontend/locales
translations: $(STAMP)
	$(BIN)/python -m composition.message_sources $(LOCALES)
	$(BIN)/pybabel update -i $(LOCALES)/messages.pot -d $(LOCALES) -D messages --no-fuzzy-matching -w 100
	$(BIN)/pybabel update -i $(LOCALES)/console.pot -d $(LOCALES) -D console --no-fuzzy-matching -w 100
	$(BIN)/pybabel compile -d $(LOCALES) -D messages --statistics
	$(BIN)/pybabel compile -d $(LOCALES) -D console --statistics

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
