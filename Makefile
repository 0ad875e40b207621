# The shop: `make test` and `make demo` work on a fresh clone with nothing but Python.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: venv test run lint format migrate demo bench clean-results

$(STAMP): requirements/base.txt requirements/loadtest.txt requirements/dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	touch $(STAMP)

venv: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

migrate: $(STAMP)
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/gunicorn -c gunicorn.conf.py shop.wsgi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

demo: migrate
	$(BIN)/python manage.py loadtest race
	$(BIN)/python manage.py loadtest quick --run-time 30s

bench: migrate
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

# This tree against another commit, interleaved: make ab AB_ARGS="--base HEAD~3" (benchmarks/ab.py).
.PHONY: ab
ab: $(STAMP)
	$(BIN)/python -m benchmarks.ab $(AB_ARGS)

clean-results:
	rm -rf load_test_results bench_results
