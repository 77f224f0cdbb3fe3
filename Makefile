# The whole set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?= -n 2 -q

.PHONY: demo test lint bench info docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@ $(VENV)/.installed

# the demo's progress bar (tqdm) and figures (matplotlib) come with it
$(VENV)/.installed-demo: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[progress,plot]"
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed-demo
	$(BIN)/kernlearn demo

info: $(VENV)/.installed
	$(BIN)/kernlearn info

test: $(VENV)/.installed-test
	$(BIN)/ruff check kernlearn tests benchmarks examples
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check kernlearn tests benchmarks examples
	$(BIN)/ruff format --check kernlearn tests benchmarks examples

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[bench]"
	touch $@ $(VENV)/.installed

bench: $(VENV)/.installed-bench
	$(BIN)/python benchmarks/run_all.py

$(VENV)/.installed-docs: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[docs]"
	touch $@ $(VENV)/.installed

# The documentation site (Sphinx, numpydoc, sphinx-gallery) in docs/_build/html;
# any warning fails the build.
docs: $(VENV)/.installed-docs
	$(BIN)/sphinx-build -W --keep-going -b html docs docs/_build/html

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
