# `make demo` and `make test` set everything up on first use (tools/setup_env.sh)
# and reach the real work in seconds afterwards.
# The env: an active virtualenv/conda env if there is one, else ./.venv;
# override with `make test PYTHON=/path/to/python`.
ifneq ($(VIRTUAL_ENV)$(CONDA_PREFIX),)
PYTHON ?= python
else
PYTHON ?= .venv/bin/python
endif

.PHONY: setup demo test benchmark

setup:
	@tools/setup_env.sh $(PYTHON)

demo: setup
	$(PYTHON) tools/demo_synthetic.py

test: setup
	$(PYTHON) -m pytest -q tests

benchmark: setup
	$(PYTHON) tools/benchmark.py
