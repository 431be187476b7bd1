# Two commands do everything: `make run` (the demo) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PYTEST_WORKERS ?= 2

.PHONY: run test install lint format translations clean

$(STAMP): pyproject.toml sandbox/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]" -e "./sandbox[pytest]"  # the sandbox: demo and tests only
	touch $(STAMP)

install: $(STAMP)

run: install            ## the demo: web, worker + scheduler, embedded Redis, SQLite, demo data
	$(BIN)/portal demo

test: install           ## the whole test suite (PostgreSQL/Redis when TEST_DATABASE_URL/TEST_REDIS_URL are set)
	@sh scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

translations: install   ## extract texts, update the Dutch catalog, compile it
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o messages.pot --ignore-dirs=".venv instance" .
	$(BIN)/pybabel update -i messages.pot -d portal/translations --width 100
	$(BIN)/pybabel compile -d portal/translations
	rm -f messages.pot

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
