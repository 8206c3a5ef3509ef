# Two commands: `make figures` regenerates every figure on the embedded default params,
# `make test` runs the test suite. Each creates the virtual environment when missing.
PYTHON ?= python3.11
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.vidanon-installed
PARAMS ?= params/default.yaml

# Where the sample media and model weights are. A sibling ../shared (this project's CI and
# development machines) is used when present; otherwise files download into ~/.cache/vidanon
# and are verified against their pinned SHA-256.
ifneq ($(wildcard ../shared/data/SHA256SUMS),)
export VIDANON_DATA_DIR ?= $(abspath ../shared/data)
endif
ifneq ($(wildcard ../shared/weights/SHA256SUMS),)
export VIDANON_WEIGHTS_DIR ?= $(abspath ../shared/weights)
endif

.PHONY: figures test test-fast setup smoke benchmark clean strip-notebooks lab

setup: $(STAMP)

$(STAMP): requirements/base.txt requirements/nodeps.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements/base.txt
	$(BIN)/python -m pip install -q --no-deps -r requirements/nodeps.txt
	$(BIN)/python -m pip install -q --no-deps --no-build-isolation -e .
	touch $(STAMP)

figures: $(STAMP)
	$(BIN)/python -m vidanon run $(PARAMS)

smoke: $(STAMP)
	$(BIN)/python -m vidanon run params/smoke.yaml

test: $(STAMP)
	-sh scripts/install-browser.sh   # for the site's browser test; skipped with a reason if it fails
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser"

benchmark: $(STAMP)
	$(BIN)/python benchmarks/run.py $(BENCH)

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/

strip-notebooks: $(STAMP)
	$(BIN)/python -m vidanon strip-notebooks notebooks/*.ipynb

clean:
	rm -rf work figures/*/
