# Maillage — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
export MAILLAGE_INSTANCE_PATH ?= $(CURDIR)/instance
export FLASK_APP := maillage.platform.wsgi
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
REDIS_URL ?= redis://127.0.0.1:6379/15
# Two workers (pytest-xdist): each has its own SQLite file or PostgreSQL schema and servers.
PYTEST_ARGS ?= -n auto

.PHONY: install run test test-sqlite test-postgres lint translations extract-messages benchmark clean

install: .make/system $(BIN)/.installed platform/static/vendor/htmx.min.js translations

.make/system: scripts/install-system-packages.sh
	@mkdir -p .make
	./scripts/install-system-packages.sh
	@touch $@

$(BIN)/.installed: setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# The OpenID provider the sign-in tests run against (npm oidc-provider).
tests/oidc/node_modules/.installed: tests/oidc/package.json tests/oidc/package-lock.json
	cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

platform/static/vendor/htmx.min.js: node_modules/.installed
	mkdir -p platform/static/vendor
	cp node_modules/htmx.org/dist/htmx.min.js $@

translations: $(BIN)/.installed
	$(BIN)/pybabel compile --use-fuzzy -d platform/translations

extract-messages: $(BIN)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l --ignore-dirs=".venv node_modules" -o platform/translations/messages.pot .
	$(BIN)/pybabel update -i platform/translations/messages.pot -d platform/translations

# The demo is loaded on an empty database unless `make run DEMO=0` (or MAILLAGE_DEMO=false):
# the instance then starts empty and `serve` prints a one-time setup link.
run: install
	$(BIN)/flask db upgrade
	@demo="$${MAILLAGE_DEMO:-1}"; demo="$${demo,,}"; \
	if [ "$(DEMO)" = 0 ] || [[ "$$demo" =~ ^(0|false|no|off)$$ ]]; then \
	  echo "Démo désactivée : une base vide attend l'installation (lien affiché ci-dessous)."; \
	else $(BIN)/flask maillage demo --if-empty; fi
	$(BIN)/flask maillage reindex --if-outdated
	@echo "Maillage: http://127.0.0.1:5000  (Ctrl-C stops the web server and the worker)"
	$(BIN)/flask maillage serve

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: install lint test-sqlite test-postgres

test-sqlite: tests/oidc/node_modules/.installed
	@echo "== Test suite on SQLite (embedded defaults) =="
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-postgres: tests/oidc/node_modules/.installed
	@set +e; $(BIN)/python scripts/check-services.py; status=$$?; set -e; \
	if [ $$status -eq 2 ]; then exit 0; elif [ $$status -ne 0 ]; then exit $$status; fi; \
	echo "== Test suite on PostgreSQL + Redis =="; \
	MAILLAGE_TEST_DATABASE_URL=$(PG_URL) MAILLAGE_TEST_BROKER_URL=$(REDIS_URL) \
	  $(BIN)/python -m pytest $(PYTEST_ARGS)

benchmark: install
	$(BIN)/python benchmarks/feed_latency.py
	$(BIN)/python benchmarks/search_index.py
	$(BIN)/python benchmarks/analytics.py
	$(BIN)/python benchmarks/federation_delivery.py
	$(BIN)/python benchmarks/federation_inbox.py

clean:
	rm -rf $(VENV) node_modules tests/oidc/node_modules .make platform/static/vendor
