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

.PHONY: run test lint lock format messages bench fuzz clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Exact versions from the lock files (`make lock` refreshes them), then fabcom itself.
$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python pyproject.toml requirements-dev.lock
	$(BIN)/pip install --quiet -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/fabcom migrate
	$(BIN)/fabcom demo --if-empty
	@echo "fabcom is starting on http://127.0.0.1:$(FABCOM_PORT)"
	$(BIN)/fabcom serve --port $(FABCOM_PORT)

test: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pytest -n auto --dist loadfile

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/pip-audit --strict --no-deps --disable-pip --progress-spinner off -r requirements-dev.lock

# Re-pin every dependency after a change in pyproject.toml (needs uv: pip install uv).
# The runtime lock is constrained by the dev lock: production runs the versions tested.
lock:
	uv pip compile pyproject.toml --extra dev --python-version 3.11 --universal -q -o requirements-dev.lock
	uv pip compile pyproject.toml -c requirements-dev.lock --python-version 3.11 --universal -q -o requirements.lock

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-extract translatable strings and update the .po catalogues (then translate them).
messages: $(VENV)/.installed-dev
	$(BIN)/pybabel extract -F babel.cfg -k N_ -k gettext:2 -k ngettext:2,3 --no-location --sort-output --omit-header -o fabcom/locale/messages.pot .
	$(BIN)/pybabel update -i fabcom/locale/messages.pot -d fabcom/locale --no-fuzzy-matching --omit-header --ignore-obsolete

# The GraphQL API fuzzed by schemathesis with many more examples than `make test` uses.
fuzz: $(VENV)/.installed-dev
	FABCOM_FUZZ_EXAMPLES=200 FABCOM_FUZZ_RANDOM=1 $(BIN)/pytest tests/api/test_api_fuzz.py

# Benchmarks (never part of `make test`); the PostgreSQL ones read FABCOM_BENCH_POSTGRES_URL.
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench
	$(BIN)/python -m bench.web_inventory
	$(BIN)/python -m bench.graphql_items
	$(BIN)/python -m bench.federation_catchup
	$(BIN)/python -m bench.federation_catchup_http
	$(BIN)/python -m bench.federation_fanout
	$(BIN)/python -m bench.startup_memory
	$(BIN)/python -m bench.soak

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .mypy_cache
