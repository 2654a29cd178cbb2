# Two commands set everything up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Bytecode, and pytest's rewritten test modules, are cached under var/pycache (not beside the
# sources): each test process would otherwise compile and rewrite every module again.
export PYTHONDONTWRITEBYTECODE :=
export PYTHONPYCACHEPREFIX := $(CURDIR)/var/pycache

.PHONY: run test reference bench lint format messages install node-deps clean

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed ($(PYTHON) not found)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(PY) requirements/base.txt requirements/test.txt
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/test.txt
	@# numpy's bytecode beside its sources, for commands run outside make (python -m
	@# budgets.tally): compiling numpy on each start costs ~0.3 s when PYTHONDONTWRITEBYTECODE is set.
	env -u PYTHONPYCACHEPREFIX $(PY) -m compileall -q -j0 $(VENV)/lib/python3.11/site-packages/numpy >/dev/null || true
	touch $(STAMP)

install: $(STAMP) node-deps

# axe-core, which the browser tests inject into pages (tests/browser/). Without npm those tests
# skip; CI (.ci/run) installs Chromium and runs `npm ci` itself and makes them required.
node-deps:
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "npm not found: the browser tests (tests/browser/) will be skipped"; \
	elif [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then \
	  npm ci --no-audit --no-fund --loglevel=error && touch node_modules \
	    || echo "npm ci failed: the browser tests (tests/browser/) will be skipped"; \
	fi

messages: $(STAMP)
	$(PY) manage.py compilemessages --ignore=.venv -v0

run: install messages
	$(PY) manage.py migrate --noinput -v0
	$(PY) manage.py load_demo_data
	@echo "Yishi is at http://127.0.0.1:8000  (demo SMS codes are printed below)"
	@# The task worker (imports, big exports, the open-data bundle) and the reaper (retries jobs
	@# whose worker died) run beside the web server and stop with it.
	$(PY) manage.py db_worker --queue-name='*' & worker=$$!; \
	  $(PY) manage.py reap_tasks --every 60 & reaper=$$!; \
	  trap 'kill $$worker $$reaper 2>/dev/null' EXIT INT TERM; \
	  $(PY) manage.py runserver 127.0.0.1:8000

# Two passes. First the suite in TEST_WORKERS processes (pytest-xdist, whole files per process);
# then the tests marked `serial` (fault injection, live batching, the browser: timings that the
# first pass's busy processes would upset), two files at a time, which mostly wait on Chromium
# and on servers. Each pass may find nothing to run (PYTEST_ARGS picked a few tests); the target
# fails on any failure, and when neither pass ran a test.
TEST_WORKERS ?= 2
test: install messages
	@# The models and the migrations agree (the suite builds its schema from the migrations).
	$(PY) manage.py makemigrations --check --dry-run -v0
	@set +e; \
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --serial-tests=skip --durations=15 $(PYTEST_ARGS); one=$$?; \
	echo "=== make test, second pass: the serial tests, after the rest ==="; \
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile --serial-tests=only $(PYTEST_ARGS); two=$$?; \
	for rc in $$one $$two; do [ $$rc -eq 0 ] || [ $$rc -eq 5 ] || exit $$rc; done; \
	[ $$one -eq 0 ] || [ $$two -eq 0 ] || { echo "make test: no test ran"; exit 5; }

# Every live comparison with pabutools that takes it at most 5 s (make test reruns those within
# 0.2 s; the recorded results in tests/budgets/tally/reference/ cover all of them).
reference: install
	YISHI_REFERENCE_LIVE_SECONDS=5 $(PY) -m pytest -n $(TEST_WORKERS) -m reference tests/budgets/tally/test_reference.py

# The bench-only peers (requirements/bench.txt); if they cannot be installed, the benches that use
# them say so and skip them.
bench: install messages
	$(PY) -m pip install --quiet -r requirements/bench.txt \
	  || echo "requirements/bench.txt failed to install: the native tally peer will be skipped"
	$(PY) bench/run.py $(BENCH_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) var db.sqlite3 node_modules
