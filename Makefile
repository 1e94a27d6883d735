# Two entry points for a fresh machine: `make demo` and `make test` (see README).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= sample.duckdb
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

$(BIN)/modelmix: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

setup: $(BIN)/modelmix

# Debian packages the tests use: chromium (the one real-browser test), postgresql (the LiteLLM database pull)
system-deps:
	@need=""; \
	[ -x /usr/bin/chromium ] || need="$$need chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$$need postgresql"; \
	if [ -n "$$need" ]; then \
	  echo "installing Debian packages:$$need"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$need >/dev/null; \
	fi

demo: setup
	$(BIN)/modelmix ingest sample_data --db $(DB)
	$(BIN)/modelmix serve --db $(DB)

test: system-deps setup
	$(BIN)/python -m pytest -q

.PHONY: setup system-deps demo test
