# Passerelles — the two set-up commands are `make run` and `make test` (GNU make, Python 3.11+).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.passerelles-installed
LOCKED := $(VENV)/.passerelles-locked
# package.json: axe-core for the accessibility tests, typescript and @elastic/elasticsearch (its request
# types) for the Elasticsearch contract tests; installed only where npm exists, those tests are skipped
# with the reason without it.
NPM        := $(shell command -v npm 2>/dev/null)
NODE_STAMP := node_modules/.passerelles-installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run test bench lint lock

help:
	@echo "make run    installe, migre, charge les données de démonstration et sert le site sur http://$(HOST):$(PORT)/"
	@echo "make test   installe si besoin et lance la suite de tests"
	@echo "make bench  lance les bancs de bench/ : annuaire, forum (face à machina d'origine), pages (CPU par page),"
	@echo "            ressources, discussions, recherche, charge (load : capacité d'uvicorn + daphne, paliers de requêtes/s offertes par"
	@echo "            200 membres simulés (Locust), 7 min 30 au plus après le remplissage, PostgreSQL et Redis locaux) ; un seul"
	@echo "            avec BENCH_ARGS=forum (résultats dans bench/results/) ; charge en essai court :"
	@echo "            PASSERELLES_LOAD_STEPS=10,20,30 PASSERELLES_LOAD_STEP_SECONDS=15 make bench BENCH_ARGS=load"
	@echo "make lint   vérifie le code avec ruff"
	@echo "make lock   recompile requirements.lock (exécution) et requirements-dev.lock (développement, tests)"
	@echo "            depuis pyproject.toml, avec les empreintes ; mises à jour : UV_ARGS=--upgrade make lock"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 ou plus récent est requis (trouvé : " + sys.version.split()[0] + ").")'
	$(PYTHON) -m venv $(VENV)

# Exact pins first, each file checked against the hashes of requirements-dev.lock (what CI tested: the
# runtime set of requirements.lock plus the test, lint and load-test tools), then the project itself
# without dependencies, checked against its own bounds. Re-runs only when a lock or pyproject.toml change.
$(LOCKED): requirements.lock requirements-dev.lock | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --require-hashes -r requirements-dev.lock
	@touch $@

$(STAMP): $(LOCKED) pyproject.toml
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --no-deps --no-build-isolation .
	@rm -rf build passerelles.egg-info
	$(BIN)/python -m pip check
	@touch $@

# npm ci installs exactly package-lock.json (and empties node_modules first, stamp included).
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

ifeq ($(NPM),)
install: $(STAMP)
	@echo "npm introuvable : axe-core et TypeScript ne sont pas installés, les tests d'accessibilité et de contrat Elasticsearch seront ignorés."
else
install: $(STAMP) $(NODE_STAMP)
endif

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "Passerelles : http://$(HOST):$(PORT)/  (Ctrl+C pour arrêter)"
	$(BIN)/daphne -b $(HOST) -p $(PORT) config.asgi:application

# Both cores (pytest-xdist); PYTEST_WORKERS=0 runs in one process.
PYTEST_WORKERS ?= 2

# The layer contracts first (.importlinter, docs/architecture.md): a second, then the suite.
test: install
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .

# Compile both locks from pyproject.toml, with every file's hash: requirements-dev.lock first (the dev
# extra and setuptools, which builds the project; current pins kept unless UV_ARGS=--upgrade), then
# requirements.lock (runtime only, what the Dockerfile installs) held to the same versions. Resolved for
# every platform, so that the image builds on arm64 too.
LOCK_ARGS := --universal --python-version 3.11 --generate-hashes --custom-compile-command "make lock" $(UV_ARGS)

lock: $(LOCKED)
	$(BIN)/uv pip compile --quiet pyproject.toml --extra dev --group build $(LOCK_ARGS) -o requirements-dev.lock
	$(BIN)/uv pip compile --quiet pyproject.toml -c requirements-dev.lock $(LOCK_ARGS) -o requirements.lock
