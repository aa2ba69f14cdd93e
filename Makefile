# memo_registry: `make run` serves the site, `make test` runs the suite.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
STAMP  := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: install run test lint browser serve loadtest

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

install: $(STAMP)

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py load_initial_list
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

# The browser tests drive Debian's Chromium; install it (and a Chinese font)
# when it is missing.  Needs root or sudo, as apt-get does.
browser:
	@command -v chromium >/dev/null 2>&1 && fc-list :lang=zh 2>/dev/null | grep -q . || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-microhei; }

test: install browser
	$(BIN)/python -m pytest

# ruff, and the import layers of pyproject.toml's [tool.importlinter].
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# Production-style serving: gunicorn, static files by whitenoise.  Needs the
# production environment (DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL).
WORKERS ?= 5
serve: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput -v0
	$(BIN)/gunicorn memo_registry.wsgi -c memo_registry/gunicorn_conf.py -b 127.0.0.1:$(PORT) -w $(WORKERS)

# 50 users for 60 s with locust against gunicorn on 127.0.0.1 (PostgreSQL via
# DATABASE_URL; a scratch database <name>_loadtest is created and dropped).
.venv-load/.installed: loadtest/requirements.txt
	@test -x .venv-load/bin/python || $(PYTHON) -m venv .venv-load
	.venv-load/bin/python -m pip install --quiet --disable-pip-version-check -r loadtest/requirements.txt
	@touch $@

loadtest: install .venv-load/.installed
	$(BIN)/python loadtest/run.py

# The benchmark of docs/performance.md: a million listings, the lookup over
# HTTP, the list pages and the memo import, each against its floor.  Needs
# PostgreSQL through DATABASE_URL; works in a scratch database <name>_bench
# created beside it and dropped after.  BENCH_ROWS=10000 make bench is quick.
.PHONY: bench
bench: install
	$(BIN)/python -m bench.run
