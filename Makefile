# fabcom — the two commands that set everything up on a fresh machine:
#   make run    virtualenv + install + migrations + demo data + serve on 127.0.0.1:$(FABCOM_PORT)
#   make test   virtualenv with the dev extras + lint + the whole test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FABCOM_PORT ?= 8000
# The demo runs with the first-party modules on; set FABCOM_MODULES= to run the bare core.
FABCOM_MODULES ?= bookings,ressourcerie
export FABCOM_PORT FABCOM_MODULES

.PHONY: run test lint format messages bench fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/fabcom migrate
	$(BIN)/fabcom demo --if-empty
	@echo "fabcom is starting on http://127.0.0.1:$(FABCOM_PORT)"
	$(BIN)/fabcom serve --port $(FABCOM_PORT)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-extract translatable strings and update the .po catalogues (then translate them).
messages: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k gettext:2 -k ngettext:2,3 --no-location --sort-output --omit-header -o fabcom/locale/messages.pot .
	$(BIN)/pybabel update -i fabcom/locale/messages.pot -d fabcom/locale --no-fuzzy-matching --omit-header

# The GraphQL API fuzzed by schemathesis with many more examples than `make test` uses.
fuzz: $(VENV)/.installed-dev
	FABCOM_FUZZ_EXAMPLES=200 FABCOM_FUZZ_RANDOM=1 $(BIN)/pytest tests/api/test_api_fuzz.py

# Benchmarks (never part of `make test`); the PostgreSQL ones read FABCOM_BENCH_POSTGRES_URL.
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench
	$(BIN)/python -m bench.web_inventory
	$(BIN)/python -m bench.graphql_items

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
