# `make demo` sets up and runs the pipeline on the bundled demo corpus; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
# A pinned torch: on machines with a local CPU wheel pip takes it; elsewhere PyPI's build (CUDA on Linux).
# GPU users with another CUDA: `make setup TORCH_SPEC="torch --index-url https://download.pytorch.org/whl/cu126"`.
TORCH_SPEC ?= torch==2.13.0
BIN := $(VENV)/bin
export PREFECT_SERVER_ANALYTICS_ENABLED = false
export DO_NOT_TRACK = 1

.PHONY: setup demo lint test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(TORCH_SPEC)
	$(BIN)/pip install --quiet -e ".[dev,dask]"
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/stancewire run

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: setup
	$(BIN)/python -m pytest

clean:
	rm -rf $(VENV) data .pytest_cache
