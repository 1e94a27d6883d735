"""Shared fixtures: real DuckDB files in tmp folders, and one ledger holding all of sample_data/.

tests/ mirrors the code (tests/ingest, tests/simulate, tests/dashboard, ...); the helper modules beside this
file (ledger_factory, finance_data, pull_fakes, ...) are shared by all of them. A few test modules import
helpers from another folder's module by name (e.g. `from test_dashboard_overview import APP`), so every
test folder is on sys.path, as when they shared one folder."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

from ingest import ingest_paths
from warehouse import Warehouse

# The dashboard's background warm-up (replays of What-if, Outlook, Budgets on every ledger it opens) off unless a
# test turns it on (tests/dashboard/test_dashboard_warmup.py): each page test opens a ledger of its own, and the
# warm-up threads' replays ran on beside the tests, unseen by --durations (~140 CPU-s of the fast loop's 423).
os.environ.setdefault("MODELMIX_WARM_UP", "false")

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_DATA = ROOT / "sample_data"
sys.path[1:1] = [str(d) for d in sorted(Path(__file__).resolve().parent.iterdir())
                 if d.is_dir() and any(d.glob("test_*.py")) and str(d) not in sys.path]


@pytest.fixture(scope="session")
def empty_ledger(tmp_path_factory) -> Path:
    """A new ledger with every migration applied and the price catalog loaded, made once per run: migrating a
    new file costs about half a second, and most tests start from an empty ledger."""
    path = tmp_path_factory.mktemp("template") / "empty.duckdb"
    Warehouse(path).close()
    return path


@pytest.fixture
def new_ledger(empty_ledger, tmp_path):
    """`new_ledger(name)`: the path of a fresh, fully migrated ledger file in this test's tmp folder (a copy of
    `empty_ledger`), as `Warehouse(path)` on a new path would make it."""

    def make(name: str = "ledger.duckdb") -> Path:
        path = tmp_path / name
        shutil.copyfile(empty_ledger, path)
        return path

    return make


@pytest.fixture
def wh(new_ledger, request):
    """A fresh ledger; after the test, every data check (`modelmix verify`) must pass on it, unless the test
    breaks the ledger on purpose (`@pytest.mark.breaks_ledger`)."""
    with Warehouse(new_ledger()) as w:
        yield w
        if request.node.get_closest_marker("breaks_ledger") is None:
            import duckdb

            from warehouse import checks
            from warehouse.errors import DatabaseError

            try:
                results = checks.run_all(w)
            except (DatabaseError, duckdb.ConnectionException) as e:
                if "closed" in str(e).lower():   # the test closed the ledger itself
                    return
                raise
            bad = [f"{r.name}:\n{r.bad}" for r in results if not r.ok]
            assert not bad, "modelmix verify fails on this test's ledger:\n" + "\n".join(bad)


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    """A ledger file with every bundled sample file loaded (closed again, so tests can open it)."""
    path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    with Warehouse(path) as w:
        results = ingest_paths(w, [SAMPLE_DATA])
        assert results, "sample_data/ holds no files"
        failed = [r for r in results if r.status == "rejected"]
        assert not failed, failed
    return path


@pytest.fixture
def sample_wh(sample_db):
    with Warehouse(sample_db) as w:
        yield w


@pytest.fixture(scope="module")
def gsm_wh(tmp_path_factory):
    """A ledger of RouteLLM's public GSM8K outcomes (tests/routellm_gsm8k.py), one per test module; modules that
    need a fresh one per test define their own `gsm_wh`."""
    import routellm_gsm8k as gsm

    folder = tmp_path_factory.mktemp("gsm")
    with Warehouse(folder / "l.duckdb") as w:
        gsm.load(w, folder)
        yield w


def write_csv(path: Path, header: str, *rows: str) -> Path:
    """A small CSV file from a header line and data lines, exactly as given."""
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def csv_file(tmp_path):
    counter = iter(range(10_000))

    def make(header: str, *rows: str, name: str | None = None) -> Path:
        return write_csv(tmp_path / (name or f"file{next(counter)}.csv"), header, *rows)

    return make


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config):
    """The fast loop (`pytest -m "not slow"`) runs on two pytest-xdist workers, one per core of the 2-core machine
    the project is measured on, whole files to a worker (module fixtures are built once). The whole suite stays
    in one process, where the timing-sensitive tests (browsers, concurrency, signals) run alone. An explicit
    `-n` wins (`-n 0`: one process)."""
    marks = (config.option.markexpr or "").replace("'", '"').strip()
    if marks == "not slow" and config.option.numprocesses is None and not hasattr(config, "workerinput"):
        config.option.numprocesses = 2
        config.option.dist = "loadfile"


def pytest_collection_modifyitems(config, items):
    """A real-browser test starts a server and Chromium (10-90 s here): it is slow wherever it lives, so the
    fast loop (`pytest -m "not slow"`) never waits for one."""
    for item in items:
        if item.get_closest_marker("browser") is not None and item.get_closest_marker("slow") is None:
            item.add_marker(pytest.mark.slow)
