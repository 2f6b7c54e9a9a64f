# Agora: the two commands are `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
# Run-time defaults for `make run` (embedded backends, local development).
RUN_ENV := DEBUG=$${DEBUG:-true}
# The port `make run` serves on: 8000, or PORT (`make run PORT=8001`, or in the environment).
RUN_PORT = $(or $(PORT),8000)
# uvicorn as Agora is served, here and in production (README): websocket messages of at
# most 64 KiB (the consumers take 4 KiB frames), and no rewriting of the client address
# from X-Forwarded-For (uvicorn trusts it from 127.0.0.1 by default): Agora reads that
# header itself, only when TRUSTED_PROXY_COUNT says a proxy of ours wrote it.
UVICORN_OPTIONS := --lifespan on --no-access-log --ws-max-size 65536 --no-proxy-headers

.PHONY: help run test test-fast lint fmt messages makemessages lock bench clean install screenshots

help:
	@echo "make run    set up everything and serve Agora on http://127.0.0.1:$(RUN_PORT) (PORT=...)"
	@echo "make test   lint, migrations check, and the test suite (embedded + PostgreSQL/Redis)"
	@echo "make test-fast  the embedded pass only, on every core (ARGS='tests/accounts --lf')"
	@echo "make bench  benchmarks (ratios printed, results in docs/performance.md)"
	@echo "make prod-local  the production shape on loopback (nginx, 2 ASGI, worker, beat; Ctrl+C stops)"
	@echo "make screenshots  the README's screenshots of the demo (docs/screenshots/, needs chromium)"

$(VENV)/.installed: requirements/dev.lock
	@PYTHON=$${PYTHON:-$$(scripts/find-python)} || exit 1; \
	  echo "Using $$PYTHON ($$($$PYTHON --version))"; \
	  test -x $(PY) || $$PYTHON -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/dev.lock
	@touch $@

install: $(VENV)/.installed

# Compiled catalogues are build output (not committed); msgfmt comes from gettext.
messages: install
	@command -v msgfmt >/dev/null || { echo "error: msgfmt not found: install gettext (apt-get install gettext)"; exit 1; }
	@$(RUN_ENV) $(PY) manage.py compilemessages --ignore '.venv' -v 0

makemessages: install
	$(RUN_ENV) $(PY) manage.py makemessages -l fr -l en --ignore '.venv/*' --ignore 'var/*' --no-obsolete --add-location file

run: install messages
	@$(RUN_ENV) $(PY) manage.py migrate --noinput -v 0
	@$(RUN_ENV) $(PY) manage.py seed_demo
	@echo ""
	@echo "  Agora is running on http://127.0.0.1:$(RUN_PORT)  (Ctrl+C to stop)"
	@echo ""
	@$(RUN_ENV) $(PY) -m uvicorn config.asgi:application --host 127.0.0.1 --port $(RUN_PORT) \
	  $(UVICORN_OPTIONS)

test: install messages
	@scripts/test.sh

# The README's pictures: the demo served on a free loopback port, photographed in Chromium.
screenshots: install messages
	@$(PY) scripts/screenshots.py

# The edit loop: the embedded pass only, on every core (pytest-xdist); ARGS go to pytest.
test-fast: install messages
	@scripts/test.sh --fast $(ARGS)

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	SECRET_KEY=lint-only-secret-key-not-for-production-0123456789 DEBUG=false $(PY) -m mypy

fmt: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

# Regenerate the lock from pyproject.toml (needs network to PyPI).
lock: install
	$(PY) -m pip install --quiet uv
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --universal --python-version 3.12 \
	  --generate-hashes --quiet -o requirements/dev.lock
	$(VENV)/bin/uv pip compile pyproject.toml --universal --python-version 3.12 \
	  --generate-hashes --quiet -o requirements/base.lock
	# bench.lock starts from dev.lock's pins, so the benchmark runs the tested versions.
	cp requirements/dev.lock requirements/bench.lock
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra bench --universal \
	  --python-version 3.12 --generate-hashes --quiet -o requirements/bench.lock

# The bench extra (pref_voting and its ~630 MB of dependencies) is installed here only, never
# by `make test`. `make lock` regenerates requirements/bench.lock with the others.
bench: install
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/bench.lock
	$(PY) bench/fanout.py --asgi-floor
	$(PY) bench/aggregate.py
	$(PY) bench/comments.py
	$(PY) bench/mass_mail.py
	$(PY) bench/write_path.py
	$(PY) bench/read_path.py
	$(PY) bench/load.py
	$(PY) bench/reconcile.py --drop

# The production shape on loopback (docs/deploy.md): its own PostgreSQL cluster and Redis,
# nginx, two uvicorn processes, a Celery worker and beat, logs in var/log/. Prints the URL;
# Ctrl+C stops everything, or `make prod-local-stop` from another terminal. PORT=8080 unless
# told (PORT=…); programs start it with `scripts/prod_local.py start` (docs/deploy.md).
.PHONY: prod-local prod-local-stop
prod-local: install messages
	@scripts/setup-prod-local
	@$(PY) scripts/prod_local.py run $(if $(PORT),--port $(PORT))

prod-local-stop:
	@$(PY) scripts/prod_local.py stop

clean:
	rm -rf $(VENV) var/staticfiles
