# Two promises: `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run plan test test-all lint bench bench-los bench-plan clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	# Sionna RT's city scenes for the tests and benchmarks of `buildings: sionna:<city>`: data only (the PLY
	# files are read directly), so without its renderer (mitsuba, drjit: ~70 MB not needed)
	$(BIN)/pip install --quiet --no-deps "sionna-rt==2.2.0"
	touch $(STAMP)

venv: $(STAMP)

## make run: the main job on the built-in real-city example (central Helsinki, OSM buildings)
run: $(STAMP)
	$(BIN)/cellscape run examples/helsinki.yaml -o out/helsinki

## make plan: the planning example (choose sites, phase, tune, fibre) on the same Helsinki scenario (~1 min)
plan: $(STAMP)
	$(BIN)/cellscape plan examples/helsinki-plan.yaml -o out/helsinki-plan

## make test: the fast test set plus the import contracts
test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

## make test-all: also the slow tests (calibration drops, big property runs)
test-all: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -m ""

## make bench-plan: site selection at 2,000 candidates x 1 M demand pixels, MILP vs greedy (~4 min)
bench-plan: $(STAMP)
	$(BIN)/python benchmarks/selection_bench.py --time-limit 300
	$(BIN)/python benchmarks/selection_bench.py --objective max_coverage --time-limit 300

bench: $(STAMP)
	$(BIN)/python benchmarks/coverage_bench.py

## make bench-los: site-specific LOS benchmark (link marches/s, whole map vs naive, memory; ~7 min)
bench-los: $(STAMP)
	$(BIN)/python benchmarks/los_bench.py --naive-links 1000 --sizes-km 1,2,4,6

clean:
	rm -rf $(VENV) out .pytest_cache
