# Two commands do everything: `make run` (the demo) and `make test` (the whole suite).
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCK   := requirements.lock
PYTEST_WORKERS ?= 2

.PHONY: run test install lock lint format translations clean

# The exact versions of requirements.lock (dev + demo extras), then the portal and the sandbox
# (demo and tests only) without resolving anything again. A changed lock or pyproject reinstalls.
$(STAMP): pyproject.toml sandbox/pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps -e . -e ./sandbox
	touch $(STAMP)

install: $(STAMP)

$(BIN)/uv:
	test -x $(BIN)/pip || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet uv

# requirements.lock: what `make install` and CI install (dev + demo extras, the sandbox's needs);
# deploy/requirements.lock: a production machine's subset (+ sentry), at the same versions.
lock: $(BIN)/uv         ## pin pyproject's dependencies into the lock files (UPGRADE=1: newest within the bounds)
	$(BIN)/uv pip compile pyproject.toml sandbox/pyproject.toml --extra dev --extra demo \
		--universal --python-version 3.11 --quiet $(if $(UPGRADE),--upgrade) -o $(LOCK)
	$(BIN)/uv pip compile pyproject.toml --extra sentry --constraint $(LOCK) \
		--universal --python-version 3.11 --quiet $(if $(UPGRADE),--upgrade) -o deploy/$(LOCK)

run: install            ## the demo: web, worker + scheduler, embedded Redis, SQLite, demo data
	$(BIN)/portal demo

test: install           ## the whole test suite (PostgreSQL/Redis when TEST_DATABASE_URL/TEST_REDIS_URL are set)
	@sh scripts/ensure-chromium.sh
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

lint: install           ## ruff, and the import contracts of .importlinter (the layers)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

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
