# Two entry points for a fresh machine: `make demo` and `make test` (see README).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DB ?= sample.duckdb
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

LOCK := requirements.lock

# Every package comes from the lock, pinned and hash-checked (setuptools too: the project is built without
# fetching a build backend), then ModelMix itself, editable, with no dependency resolution of its own.
$(BIN)/modelmix: pyproject.toml $(LOCK)
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --require-hashes -r $(LOCK)
	$(BIN)/pip install -q --no-deps --no-build-isolation -e .
	touch $@

setup: $(BIN)/modelmix

# Re-resolve the lock to the newest releases pyproject.toml allows (`make lock P=duckdb` upgrades one package).
# An upgrade is its own commit, made after `make test` passed on the new lock (README, "Upgrading dependencies").
lock:
	$(PY) -m venv .venv-lock
	.venv-lock/bin/pip install -q pip-tools==7.7.0
	.venv-lock/bin/pip-compile -q --generate-hashes --allow-unsafe --extra test --build-deps-for wheel \
	  --strip-extras --no-emit-index-url --no-emit-find-links $(if $(P),--upgrade-package $(P),--upgrade) \
	  -o $(LOCK) pyproject.toml

# Debian packages the tests use: chromium (the one real-browser test), postgresql (the LiteLLM database pull),
# a Java 17 runtime (the Spark engine in local mode, tests/test_spark.py)
system-deps:
	@need=""; \
	[ -x /usr/bin/chromium ] || need="$$need chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need="$$need postgresql"; \
	command -v java >/dev/null 2>&1 || need="$$need openjdk-17-jre-headless"; \
	if [ -n "$$need" ]; then \
	  echo "installing Debian packages:$$need"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$need >/dev/null; \
	fi

demo: setup
	$(BIN)/modelmix ingest sample_data --db $(DB)
	$(BIN)/modelmix serve --db $(DB)

test: system-deps setup
	$(BIN)/python -m pytest -q

.PHONY: setup system-deps demo test lock
