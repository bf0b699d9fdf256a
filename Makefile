# Two promises: `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# MapLibre GL JS for the web map (`cellscape serve`): taken from the npm registry at build time, pinned by
# version and integrity, copied into the package (src/cellscape/web/static/vendor/, .gitignored); never a CDN
MAPLIBRE_VERSION := 4.7.1
MAPLIBRE_INTEGRITY := sha512-lgL7XpIwsgICiL82ITplfS7IGwrB1OJIw/pCvprDp2dhmSSEBgmPzYRvwYYYvJGJD7fxUv1Tvpih4nZ6VrLuaA==
VENDOR_DIR := src/cellscape/web/static/vendor
VENDOR := $(VENDOR_DIR)/maplibre-gl.js

.PHONY: run plan test test-all lint bench bench-los bench-plan bench-web clean venv vendor

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	# Sionna RT's city scenes for the tests and benchmarks of `buildings: sionna:<city>`: data only (the PLY
	# files are read directly), so without its renderer (mitsuba, drjit: ~70 MB not needed)
	$(BIN)/pip install --quiet --no-deps "sionna-rt==2.2.0"
	@# the web map's JS/CSS; a machine without npm still gets `make run` (`make test` insists, see below)
	@$(MAKE) --no-print-directory vendor || echo "warning: MapLibre GL JS not fetched (needs npm): cellscape serve will say so"
	touch $(STAMP)

venv: $(STAMP) $(VENDOR)

## make vendor: maplibre-gl $(MAPLIBRE_VERSION) from the npm registry (npm pack), integrity checked
vendor: $(VENDOR)

$(VENDOR):
	@command -v npm >/dev/null || { echo "error: npm not found: install Node.js and npm (Debian: apt-get install -y npm)"; exit 1; }
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	  (cd "$$tmp" && npm pack --silent "maplibre-gl@$(MAPLIBRE_VERSION)" >/dev/null); \
	  tgz="$$tmp/maplibre-gl-$(MAPLIBRE_VERSION).tgz"; \
	  got="sha512-$$($(PYTHON) -c 'import base64,hashlib,sys; print(base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode())' "$$tgz")"; \
	  if [ "$$got" != "$(MAPLIBRE_INTEGRITY)" ]; then echo "error: maplibre-gl-$(MAPLIBRE_VERSION).tgz integrity $$got, expected $(MAPLIBRE_INTEGRITY)"; exit 1; fi; \
	  tar -xzf "$$tgz" -C "$$tmp" package/dist/maplibre-gl.js package/dist/maplibre-gl.css package/LICENSE.txt; \
	  mkdir -p $(VENDOR_DIR); \
	  cp "$$tmp/package/dist/maplibre-gl.css" "$$tmp/package/LICENSE.txt" $(VENDOR_DIR)/; \
	  cp "$$tmp/package/dist/maplibre-gl.js" $(VENDOR).partial; mv $(VENDOR).partial $(VENDOR); \
	  echo "vendored maplibre-gl $(MAPLIBRE_VERSION) into $(VENDOR_DIR)/"

## make run: the main job on the built-in real-city example (central Helsinki, OSM buildings)
run: $(STAMP)
	$(BIN)/cellscape run examples/helsinki.yaml -o out/helsinki

## make plan: the planning example (choose sites, phase, tune, fibre) on the same Helsinki scenario (~1 min)
plan: $(STAMP)
	$(BIN)/cellscape plan examples/helsinki-plan.yaml -o out/helsinki-plan

## make test: the fast test set plus the import contracts
test: $(STAMP) $(VENDOR)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q

## make test-all: also the slow tests (calibration drops, big property runs)
test-all: $(STAMP) $(VENDOR)
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -m ""

## make bench-plan: site selection at 2,000 candidates x 1 M demand pixels, MILP vs greedy (~4 min)
bench-plan: $(STAMP)
	$(BIN)/python benchmarks/selection_bench.py --time-limit 300
	$(BIN)/python benchmarks/selection_bench.py --objective max_coverage --time-limit 300

## make bench-web: load run of `cellscape serve`'s tile endpoint (50 connections, 2000 requests) on a fresh run
bench-web: $(STAMP) $(VENDOR)
	$(BIN)/python benchmarks/web_load.py

bench: $(STAMP)
	$(BIN)/python benchmarks/coverage_bench.py

## make bench-los: site-specific LOS benchmark (link marches/s, whole map vs naive, memory; ~7 min)
bench-los: $(STAMP)
	$(BIN)/python benchmarks/los_bench.py --naive-links 1000 --sizes-km 1,2,4,6

clean:
	rm -rf $(VENV) out .pytest_cache $(VENDOR_DIR)
