# The two commands of the README: `make demo` and `make test`; `make lint` runs ruff; `make dev` opens the Dagster UI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home

.PHONY: install demo demo-distributed test test-simulation bench lint dev screenshots clean

$(STAMP): pyproject.toml requirements.lock
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

$(DAGSTER_HOME)/dagster.yaml: dagster.yaml
	@mkdir -p $(DAGSTER_HOME)
	cp dagster.yaml $(DAGSTER_HOME)/dagster.yaml

demo: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/walmart-accounting demo

# The demo with its steps on two Celery worker processes: RabbitMQ on localhost and PostgreSQL (DAGSTER_PG_URL,
# default postgres@127.0.0.1:5432, database walmart_accounting_demo, recreated each time).
demo-distributed: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/walmart-accounting demo --executor celery

test: install
	$(BIN)/python -m pytest -n 2 -q -m 'not simulation and not celery'
	$(BIN)/python -m pytest -q -m celery

test-simulation: install
	$(BIN)/python -m pytest -q -m simulation

bench: install
	$(BIN)/python benchmarks/event_to_invoice.py

lint: install
	$(BIN)/ruff check .

# The README's pictures of the Dagster UI (docs/images), in Debian's Chromium: `apt-get install chromium` first.
screenshots: install
	$(BIN)/python -m pip install --quiet -c requirements.lock -e '.[dev,screenshots]'
	$(BIN)/python docs/screenshots.py

dev: install $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/walmart-accounting dev

clean:
	rm -rf $(VENV) .dagster_home .pytest_cache
