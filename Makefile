# Four Heroku-ready Python starters, one shared black-box suite, one benchmark.
# `make help` lists the targets. Everything runs on loopback: Postgres at 127.0.0.1:5432 and
# Redis at 127.0.0.1:6379, the ones already running or else from docker compose.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.SECONDEXPANSION:

APPS := $(patsubst %/Procfile,%,$(wildcard */Procfile))
SUITE_VENV := .venv
SUITE_PY := $(SUITE_VENV)/bin/python
UV := $(SUITE_VENV)/bin/uv
export DATABASE_ADMIN_URL ?= postgresql://postgres@127.0.0.1:5432/postgres
POSTGRES_HOST_PORT := 127.0.0.1:5432
REDIS_HOST_PORT := 127.0.0.1:6379
PYTEST_ARGS ?=
# Shared-suite workers (pytest-xdist), each app's tests on one worker: one worker per core.
# At 4 on 2 cores, an outage answer took 5.7 s (limit 5) while another worker built an app:
# the suite's timing must-haves need the cores. SUITE_WORKERS=0 runs it in one process.
SUITE_WORKERS ?= 2
PREREQUISITES := $(addprefix prerequisites-,test run bench lint)

.PHONY: help install install-suite services run test test-apps test-shared test-bench lint bench bench-smoke clean rehearse $(PREREQUISITES)

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# What the machine needs, checked (and installed where it can be) before any long work; stops
# within seconds naming what is missing and the command that gets it. See scripts/prerequisites.
$(PREREQUISITES): prerequisites-%:
	@scripts/prerequisites $* $(APPS)

install: install-suite $(APPS:%=%/.venv/.installed) ## one venv per app (<app>/.venv, its .python-version) and one for the suite, by uv

install-suite: $(SUITE_VENV)/.installed

# The suite's venv is rebuilt from scratch when its requirements or its Python change, so a
# removed pin leaves nothing behind. pip installs only uv (pinned in tests/requirements.txt);
# uv installs the rest, and every app's venv, in seconds from its cache (~/.cache/uv).
$(SUITE_VENV)/.installed: tests/requirements.txt .python-version
	rm -rf $(SUITE_VENV)
	$$(scripts/python-for .) -m venv $(SUITE_VENV)
	$(SUITE_VENV)/bin/pip install --quiet "$$(grep -x 'uv==[0-9.]*' tests/requirements.txt)"
	$(UV) pip install --quiet --python $(SUITE_PY) -r tests/requirements.txt
	touch $@

# An app's venv is rebuilt when its requirements or its pinned Python change. It has no pip:
# the deploy rehearsal and the README quick starts install with pip into venvs of their own.
$(APPS:%=%/.venv/.installed): %/.venv/.installed: %/requirements.txt %/.python-version $$(wildcard %/requirements-dev.txt) | $(SUITE_VENV)/.installed
	rm -rf $*/.venv
	$(UV) venv --quiet --python "$$(scripts/python-for $*)" $*/.venv
	$(UV) pip install --quiet --python $*/.venv/bin/python -r $*/requirements.txt $(if $(wildcard $*/requirements-dev.txt),-r $*/requirements-dev.txt)
	touch $@

define answers
(exec 3<>/dev/tcp/$(subst :,/,$(1))) 2>/dev/null
endef

services: ## Postgres and Redis: the ones already running, else docker compose if a Docker engine answers
	@if $(call answers,$(POSTGRES_HOST_PORT)) && $(call answers,$(REDIS_HOST_PORT)); then \
	  echo "Using the Postgres ($(POSTGRES_HOST_PORT)) and Redis ($(REDIS_HOST_PORT)) already running."; \
	elif docker info >/dev/null 2>&1; then \
	  docker compose up -d --wait; \
	else \
	  echo "No Postgres at $(POSTGRES_HOST_PORT) or no Redis at $(REDIS_HOST_PORT), and no Docker engine."; \
	  echo "Either start Docker and run 'make services' (docker compose up -d --wait),"; \
	  echo "or start PostgreSQL on 127.0.0.1:5432 (user postgres, trust or DATABASE_ADMIN_URL) and Redis on 127.0.0.1:6379."; \
	  exit 1; \
	fi

run: prerequisites-run install ## every app side by side from its Procfile (honcho), on Postgres and Redis when they answer (APP=name for one)
	@$(MAKE) --no-print-directory services || echo "make run: without Postgres and Redis, each app runs on its embedded defaults."
	$(SUITE_PY) -m scripts.run $(APP)

rehearse: prerequisites-run install-suite services ## one app deployed as its README says, on the local stand-in for Heroku (build, add-ons, release, router); APP=name
	$(SUITE_PY) -m scripts.rehearse $(APP)

test: prerequisites-test install services test-apps test-shared test-bench ## check the machine, install, services, each app's own tests, the shared suite

# Each app reads DATABASE_ADMIN_URL (exported above) for its scratch databases and fails, not
# skips, when it is set and unreachable. Any skip fails the target: on a machine `make test`
# prepared, nothing an app's tests need is missing (pytest -rs lists each skip's reason).
test-apps: install ## each app's own fast tests, in its own venv
	@for app in $(APPS); do \
	  echo "== $$app: own tests"; \
	  log=$$(mktemp); \
	  (cd $$app && env -u DATABASE_URL -u REDIS_URL -u SECRET_KEY -u DYNO .venv/bin/python -m pytest -q -rs) | tee $$log; \
	  if grep -q '^SKIPPED' $$log; then echo "== $$app: tests were skipped inside make test (reasons above)"; rm -f $$log; exit 1; fi; \
	  rm -f $$log; \
	done

# --dist loadgroup keeps every test of one app on one worker (conftest.py marks them with the
# app's xdist_group): they share the app's one Redis database and its session-wide instance.
test-shared: install-suite ## the shared black-box suite over every app, each app's tests on one pytest-xdist worker (APP=name for one)
	$(SUITE_PY) -m pytest tests -q -n $(SUITE_WORKERS) --dist loadgroup $(if $(APP),--app=$(APP)) $(PYTEST_ARGS)

test-bench: install-suite ## the benchmark's own unit tests (parsing, statistics)
	$(SUITE_PY) -m pytest bench/tests -q -p no:cacheprovider

# The CI workflow and Dependabot's rules are checked against SchemaStore's schemas as
# check-jsonschema ships them (tests/test_compose.py does the same for docker-compose.yml).
lint: prerequisites-lint install-suite ## ruff check and ruff format --check over everything; the CI workflow and dependabot.yml against their schemas
	$(SUITE_VENV)/bin/ruff check .
	$(SUITE_VENV)/bin/ruff format --check .
	$(SUITE_VENV)/bin/check-jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(SUITE_VENV)/bin/check-jsonschema --builtin-schema vendor.dependabot .github/dependabot.yml

bench: prerequisites-bench install services ## side-by-side benchmark (see bench/README.md; BENCH_ARGS=...)
	$(SUITE_PY) -m bench $(BENCH_ARGS)

bench-smoke: prerequisites-bench install services ## one short level per route, so the benchmark harness cannot rot
	$(SUITE_PY) -m bench --smoke $(BENCH_ARGS)

clean: ## remove venvs, caches and the suite's leftover databases
	-$(SUITE_PY) -c "from harness.postgres import drop_leftovers; drop_leftovers()"
	rm -rf $(SUITE_VENV) $(APPS:%=%/.venv) tests/.results
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
