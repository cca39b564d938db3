# The project's interface. `make run` builds the warehouse, `make test` runs every test.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DATA_DIR ?= $(CURDIR)/data
export DATA_DIR
export DAGSTER_HOME ?= $(DATA_DIR)/dagster_home
export DO_NOT_TRACK = 1
export HF_HUB_DISABLE_TELEMETRY = 1

.PHONY: install install-spark run test test-fast lint dev bench docs screenshot clean

# The virtualenv is rebuilt when the dependency pins change. Bytecode is compiled at install:
# with PYTHONDONTWRITEBYTECODE set, every start would otherwise recompile Dagster and dbt (~6 s).
$(BIN)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==0.13.9
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m compileall -q orchestration
	touch $@

install: $(BIN)/.installed

# The optional Spark engine (pyspark, dbt-spark; Java 17 needed to run it). The main lock constrains
# the install, so dbt-core, dbt-adapters and every other shared package stay at their pins.
install-spark: install  ## add the Spark engine to the virtualenv (dbt target `spark`; tests/test_spark.py then runs)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements-spark.lock -c requirements.lock

# The sample's last six days: the first has no previous snapshot, 2026-01-17 is a Hub-wide stall.
SERIES_FROM ?= 2026-01-15
SERIES_TO ?= 2026-01-20

run: install  ## build the warehouse from a short daily series of the bundled synthetic sample (offline)
	$(BIN)/observatory backfill --source sample --from $(SERIES_FROM) --to $(SERIES_TO)
	$(BIN)/observatory status

# Two workers: most tests wait on a build's subprocesses, and each test has its own data folder.
# worksteal keeps both busy although one file (test_concurrency.py) holds a third of the time.
test: install  ## run the whole test suite (offline), on two workers
	$(BIN)/pytest -n 2 --dist worksteal

test-fast: install  ## unit tests and dbt unit tests only: no end-to-end build, real data or browser (under a minute)
	$(BIN)/pytest -m "not e2e"

bench: install  ## the Hub-scale benchmark (2.2M models, DuckDB and then Spark when installed; about 25 minutes, not part of make test)
	$(BIN)/python benchmarks/hub_scale.py

docs: install  ## dbt docs of the warehouse as one offline page (build first); its own target folder, so builds keep their partial parse
	cd dbt_project && DUCKDB_PATH=$(DATA_DIR)/warehouse/observatory.duckdb ../$(BIN)/dbt docs generate --static --quiet --target-path target/docs
	@echo "dbt docs: $(CURDIR)/dbt_project/target/docs/static_index.html"

screenshot: install  ## docs/report.png from the newest report (needs chromium)
	$(BIN)/python -m tests.browser $(DATA_DIR)/reports/latest.html docs/report.png

lint: install  ## ruff over the Python code (the rules in pyproject.toml; tests/test_code_style.py runs it in make test)
	$(BIN)/ruff check orchestration tests benchmarks

dev: install  ## the Dagster UI on http://localhost:3000
	mkdir -p $(DAGSTER_HOME)
	test -f $(DAGSTER_HOME)/dagster.yaml || printf 'telemetry:\n  enabled: false\n' > $(DAGSTER_HOME)/dagster.yaml
	# No -m: dagster dev reads pyproject.toml [tool.dagster], so the code location is named observatory,
	# the name the command line's runs carry.
	PATH=$(CURDIR)/$(BIN):$$PATH $(BIN)/dagster dev

clean:  ## remove built data (raw snapshots, warehouse, run history, reports, exports, benchmark scratch) and dbt artifacts
	rm -rf $(DATA_DIR)/raw $(DATA_DIR)/warehouse $(DATA_DIR)/dagster_home $(DATA_DIR)/reports $(DATA_DIR)/exports $(DATA_DIR)/benchmark dbt_project/target
