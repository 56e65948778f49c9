# Passerelles — the two set-up commands are `make run` and `make test` (GNU make, Python 3.11+).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.passerelles-installed
# axe-core (package.json) for the accessibility tests, installed only where npm exists; without it those
# tests are skipped with the reason.
NPM        := $(shell command -v npm 2>/dev/null)
NODE_STAMP := node_modules/.passerelles-installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run test bench lint lock

help:
	@echo "make run    installe, migre, charge les données de démonstration et sert le site sur http://$(HOST):$(PORT)/"
	@echo "make test   installe si besoin et lance la suite de tests"
	@echo "make bench  lance les bancs de bench/ : annuaire, forum (face à machina d'origine), ressources,"
	@echo "            discussions, recherche, charge (load : 200 membres simulés, 10 min, daphne et uvicorn en alternance,"
	@echo "            PostgreSQL et Redis locaux) ; un seul avec BENCH_ARGS=forum (résultats dans bench/results/) ; charge en"
	@echo "            essai court : PASSERELLES_LOAD_USERS=50 PASSERELLES_LOAD_SECONDS=60 make bench BENCH_ARGS=load"
	@echo "make lint   vérifie le code avec ruff"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 ou plus récent est requis (trouvé : " + sys.version.split()[0] + ").")'
	$(PYTHON) -m venv $(VENV)

# Exact pins first (what CI tested), then the project itself, checked against its own bounds.
# Re-runs only when the lock or pyproject.toml change.
$(STAMP): requirements.lock pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -r requirements.lock
	$(BIN)/python -m pip install --disable-pip-version-check --quiet --no-build-isolation -c requirements.lock '.[dev]'
	@rm -rf build passerelles.egg-info
	$(BIN)/python -m pip check
	@touch $@

# npm ci installs exactly package-lock.json (and empties node_modules first, stamp included).
$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

ifeq ($(NPM),)
install: $(STAMP)
	@echo "npm introuvable : axe-core n'est pas installé, les tests d'accessibilité seront ignorés."
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

test: install
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/run.py $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .

# Regenerate the lock from the current virtualenv (after a deliberate upgrade).
lock:
	@echo "# Exact versions tested by CI (make lock regenerates this file from .venv). Bounds: pyproject.toml." > requirements.lock
	$(BIN)/python -m pip freeze --all --exclude-editable | grep -v -E '^(pip|passerelles)([=@ ]|$$)' >> requirements.lock
