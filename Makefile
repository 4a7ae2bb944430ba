# `make demo` sets up and runs the pipeline on the bundled demo corpus; `make test` sets up and runs the tests.
PYTHON ?= python3
VENV ?= .venv
# A pinned torch. Without an NVIDIA GPU, PyTorch's CPU build (a few hundred MB instead of several GB of CUDA
# libraries) when its index answers within 5 s; otherwise pip's usual sources (a local wheel where the machine has
# one, else PyPI's build, CUDA on Linux). Another CUDA: `make setup TORCH_INDEX="--index-url
# https://download.pytorch.org/whl/cu126"`.
TORCH_SPEC ?= torch==2.13.0
TORCH_INDEX ?= $(shell command -v nvidia-smi >/dev/null 2>&1 || (curl -s -o /dev/null --max-time 5 \
	https://download.pytorch.org/whl/cpu/ && echo --index-url https://download.pytorch.org/whl/cpu))
BIN := $(VENV)/bin
export PREFECT_SERVER_ANALYTICS_ENABLED = false
export DO_NOT_TRACK = 1

.PHONY: setup demo lint test bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet $(TORCH_SPEC) $(TORCH_INDEX)
	$(BIN)/pip install --quiet -e ".[dev,dask,onnx,e5]"
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
