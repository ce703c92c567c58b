# Two commands for a new user:  make run  (the app with demo data)  and  make test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
DEMO_ASSETS ?= 5000
BEAT_LOG ?= var/beat.log

# The embedded default: SQLite under var/, jobs run in-process, development settings.
RUN_ENV  := HDC_DEBUG=1
# The tests: the real PostgreSQL and Redis on 127.0.0.1.
TEST_ENV := HDC_DEBUG=1 HDC_SECRET_KEY=test-only HDC_ALLOWED_HOSTS=testserver,localhost \
            HDC_DATABASE_URL=$${HDC_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/hdc} \
            HDC_REDIS_URL=$${HDC_TEST_REDIS_URL:-redis://127.0.0.1:6379/15}

.PHONY: run test install services lint smoke messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# The browser libraries (Chart.js), from the npm registry as package-lock.json pins them;
# served from node_modules/<package>/dist through STATICFILES_DIRS. Reinstalled when the
# lockfile changes.
node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "make install: npm not found. Install Node.js 20 or later with npm (Debian: apt-get install nodejs npm) and run it again." >&2; exit 1; }
	npm ci --no-audit --no-fund --omit=dev
	touch $@

install: $(VENV)/.installed node_modules/.installed

run: install
	@mkdir -p var
	$(RUN_ENV) $(BIN)/python manage.py migrate --noinput -v0
	$(RUN_ENV) $(BIN)/python manage.py seed_demo --assets $(DEMO_ASSETS) --if-empty
	$(RUN_ENV) $(BIN)/python manage.py ensure_schedules
	@echo ""
	@echo "  The catalog is at  http://127.0.0.1:$(PORT)/   (administration: /admin/)"
	@echo "  Scheduled runs: celery beat in the background, log in $(BEAT_LOG)"
	@echo ""
	@# Beat starts the scheduled runs; with no Redis they are worked inside the beat process
	@# itself. It runs as long as the server does, and is stopped with it.
	@$(RUN_ENV) $(BIN)/celery -A config beat --loglevel INFO >>$(BEAT_LOG) 2>&1 & \
	  beat=$$!; trap 'kill $$beat 2>/dev/null; wait $$beat 2>/dev/null' EXIT INT TERM; \
	  $(RUN_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

services:
	@bash .ci/services

lint: install
	$(BIN)/ruff check .

# The embedded default end to end on a scratch SQLite file: migrate, demo data, and both
# kinds of run worked in-process (the tests themselves run on PostgreSQL).
SMOKE_ENV := HDC_DEBUG=1 HDC_DATABASE_URL=sqlite:///$(CURDIR)/var/smoke.sqlite3 \
             HDC_EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend
smoke: install
	@mkdir -p var && rm -f var/smoke.sqlite3*
	$(SMOKE_ENV) $(BIN)/python manage.py migrate --noinput -v0
	$(SMOKE_ENV) $(BIN)/python manage.py seed_demo --assets 300 >/dev/null
	$(SMOKE_ENV) $(BIN)/python manage.py run_check inventory --scope 330000
	$(SMOKE_ENV) $(BIN)/python manage.py run_check rights_review --scope 330000
	$(SMOKE_ENV) HDC_REPORT_DIR=$(CURDIR)/var/smoke-reports $(BIN)/python manage.py monthly_reports --period 2026-10
	@rm -rf var/smoke.sqlite3* var/smoke-reports

test: install services lint smoke
	$(TEST_ENV) $(BIN)/python manage.py check
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/pytest

messages: install
	$(RUN_ENV) $(BIN)/python manage.py makemessages -l zh_Hans --ignore=.venv --ignore=var --ignore=tests --ignore=bench --no-obsolete
	$(RUN_ENV) $(BIN)/python manage.py compilemessages --ignore=.venv

clean:
	rm -rf var/catalog.sqlite3 var/catalog.sqlite3-wal var/catalog.sqlite3-shm var/beat.log .pytest_cache
