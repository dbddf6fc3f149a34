# Two commands on a fresh clone: `make dev` and `make test`. Each installs what is missing.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
SDK_VERSION := $(shell sed -n 's/.*"workers-runtime-sdk==\([^"]*\)".*/\1/p' pyproject.toml)
# npm scripts put node_modules/.bin first on PATH, so Node 22 from npm runs, not the system's.
NPM_RUN := PATH="$(CURDIR)/node_modules/.bin:$$PATH"
# workerd's Pyodide bundle, built from npm pyodide (runtime/pyodide_bundle.py); rebuilt after each
# npm install (package.json pins pyodide) and when the builder changes.
PYODIDE_BUNDLE := .cache/pyodide-bundle/pyodide_dev.capnp.bin

# The playground's browser tests drive Debian's chromium: Playwright's own browser download
# needs more than the package registries.
CHROMIUM ?= /usr/bin/chromium

.PHONY: install dev test test-unit test-http test-browser fuzz bench profile lint vendor dry-run deploy clean

install: $(VENV)/.installed node_modules/.installed python_modules/.installed $(PYODIDE_BUNDLE)

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml','rb'))['dependency-groups']['dev']))" > $(VENV)/requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check -r $(VENV)/requirements.txt
	touch $@

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

$(PYODIDE_BUNDLE): $(VENV)/.installed node_modules/.installed runtime/pyodide_bundle.py
	$(PY) runtime/pyodide_bundle.py --out $@

# The same SDK wheel deploy uploads; the local runtime loads it from here too.
python_modules/.installed: pyproject.toml $(VENV)/.installed
	rm -rf python_modules
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --only-binary=:all: --no-compile \
		--target python_modules workers-runtime-sdk==$(SDK_VERSION)
	rm -rf python_modules/bin python_modules/*.dist-info/RECORD
	touch $@

$(CHROMIUM):
	apt-get update
	apt-get install -y chromium

dev: install
	$(NPM_RUN) PYTHON=$(CURDIR)/$(PY) node runtime/dev.mjs

test: install $(CHROMIUM)
	$(PY) -m ruff check .
	$(NPM_RUN) CHROMIUM=$(CHROMIUM) $(PY) -m pytest $(PYTEST_ARGS)

test-unit: install
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test-http: install
	$(NPM_RUN) $(PY) -m pytest tests/http $(PYTEST_ARGS)

test-browser: install $(CHROMIUM)
	$(NPM_RUN) CHROMIUM=$(CHROMIUM) $(PY) -m pytest tests/browser $(PYTEST_ARGS)

# BENCH_ARGS=--save rewrites bench/baseline.json and bench/uploads-baseline.json with this run.
# schemathesis with FUZZ_CASES generated requests against a fresh local runtime and emulator
# (`make test` runs 300); the figures land in .fuzz-report.json for docs/reliability.md.
FUZZ_CASES ?= 10000
fuzz: install
	$(NPM_RUN) FUZZ_CASES=$(FUZZ_CASES) FUZZ_REPORT=$(CURDIR)/.fuzz-report.json \
		$(PY) -m pytest tests/http/test_openapi_fuzz.py -p no:cacheprovider $(PYTEST_ARGS); \
		status=$$?; cat .fuzz-report.json; exit $$status

bench: install
	$(NPM_RUN) node bench/run.mjs $(BENCH_ARGS)
	$(NPM_RUN) $(PY) -m bench.uploads $(BENCH_ARGS)

# V8's CPU profile of one bench variant on workerd, by kind of work (bench/profile.mjs):
# `make profile VARIANT=chat` (or health, onFetchHello, step:serve_chat, worker:native, ...).
VARIANT ?= chat
profile: install
	$(NPM_RUN) VARIANT=$(VARIANT) node bench/profile.mjs

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

vendor: python_modules/.installed

dry-run: install
	$(NPM_RUN) wrangler deploy --dry-run --outdir .wrangler/dry-run

deploy: install
	$(NPM_RUN) wrangler deploy

clean:
	rm -rf $(VENV) node_modules python_modules .wrangler .pytest_cache .cache
