# Two commands on a fresh clone: `make dev` and `make test`. Each installs what is missing.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
SDK_VERSION := $(shell sed -n 's/.*"workers-runtime-sdk==\([^"]*\)".*/\1/p' pyproject.toml)
# npm scripts put node_modules/.bin first on PATH, so Node 22 from npm runs, not the system's.
NPM_RUN := PATH="$(CURDIR)/node_modules/.bin:$$PATH"
# The local runtime tracks each request with AsyncLocalStorage; on Node 22 that installs promise
# hooks, which slow every promise (a streamed event by ~1 µs) unless this flag backs it with V8's
# async context instead (Node 24's default). workerd has no such cost.
NODE_FLAGS := --experimental-async-context-frame

.PHONY: install dev test test-unit test-http fuzz bench lint vendor dry-run deploy clean

install: $(VENV)/.installed node_modules/.installed python_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml','rb'))['dependency-groups']['dev']))" > $(VENV)/requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check -r $(VENV)/requirements.txt
	touch $@

node_modules/.installed: package.json
	npm install --no-audit --no-fund --loglevel=error
	touch $@

# The same SDK wheel deploy uploads; the local runtime loads it from here too.
python_modules/.installed: pyproject.toml $(VENV)/.installed
	rm -rf python_modules
	$(PY) -m pip install -q --disable-pip-version-check --no-deps --only-binary=:all: --no-compile \
		--target python_modules workers-runtime-sdk==$(SDK_VERSION)
	rm -rf python_modules/bin python_modules/*.dist-info/RECORD
	touch $@

dev: install
	$(NPM_RUN) PYTHON=$(CURDIR)/$(PY) node $(NODE_FLAGS) runtime/dev.mjs

test: install
	$(PY) -m ruff check .
	$(NPM_RUN) $(PY) -m pytest $(PYTEST_ARGS)

test-unit: install
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

test-http: install
	$(NPM_RUN) $(PY) -m pytest tests/http $(PYTEST_ARGS)

# schemathesis with FUZZ_CASES generated requests against a fresh local runtime and emulator
# (`make test` runs 300); the figures land in .fuzz-report.json for docs/reliability.md.
FUZZ_CASES ?= 10000
fuzz: install
	$(NPM_RUN) FUZZ_CASES=$(FUZZ_CASES) FUZZ_REPORT=$(CURDIR)/.fuzz-report.json \
		$(PY) -m pytest tests/http/test_openapi_fuzz.py -p no:cacheprovider $(PYTEST_ARGS); \
		status=$$?; cat .fuzz-report.json; exit $$status

bench: install
	$(NPM_RUN) node $(NODE_FLAGS) bench/run.mjs
	$(NPM_RUN) $(PY) -m bench.audio_upload --mb 20

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

vendor: python_modules/.installed

dry-run: install
	$(NPM_RUN) wrangler deploy --dry-run --outdir .wrangler/dry-run

deploy: install
	$(NPM_RUN) wrangler deploy

clean:
	rm -rf $(VENV) node_modules python_modules .wrangler .pytest_cache
