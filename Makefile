# Two entry points for a fresh machine: `make demo` and `make test` (see README).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= sample.duckdb

$(BIN)/modelmix: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(BIN)/modelmix

demo: setup
	$(BIN)/modelmix ingest sample_data --db $(DB)
	$(BIN)/modelmix serve --db $(DB)

test: setup
	$(BIN)/python -m pytest -q

.PHONY: setup demo test
