"""bench/profile_ingest.py: every statement of a real load timed, and with --scans the rows each one read from the
ledger's own tables (docs/benchmarks.md, "The increment at 100 M, statement by statement")."""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
from pathlib import Path

import pytest

from cli import sample
from ingest import ingest_paths
from warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]


def _profiler():
    spec = importlib.util.spec_from_file_location("profile_ingest", ROOT / "bench" / "profile_ingest.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow     # two ledgers opened and loaded (≈ 25 s at load 20)
def test_every_statement_of_a_load_is_timed_and_its_ledger_reads_counted(tmp_path, capsys):
    first = sample.generate(tmp_path / "a", 400, seed=3, start=dt.date(2026, 1, 1), days=30)["litellm_spend_logs"]
    later = sample.generate(tmp_path / "b", 300, seed=4, start=dt.date(2026, 3, 1), days=30)["litellm_spend_logs"]
    db = tmp_path / "ledger.duckdb"
    with Warehouse(db) as wh:
        assert ingest_paths(wh, [first])[0].status == "loaded"
    out = tmp_path / "profile.json"
    assert _profiler().main([str(db), str(later), "--scans", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "300 rows loaded from 1 file(s)" in printed
    got = json.loads(out.read_text())
    parts = got["parts"]
    assert got["rows_loaded"] == 300
    # the staging statement (SQL built in Python: its calling line), the .sql files, commit and close all there
    assert any(k.startswith("ingest/job.py:") and "staged" in k for k in parts)
    for name in ("sql/writes/insert_new_rows.sql", "sql/writes/known_requests.sql",
                 "sql/writes/usage_daily_rows.sql", "(close) connection close (checkpoint)"):
        assert name in parts, sorted(parts)
    assert abs(sum(p["cpu"] for p in parts.values()) - got["cpu"]) < 0.5 * got["cpu"] + 0.5
    # the rollup of the new days read the new rows of usage_raw, not the 400 loaded before (other days);
    # temp tables (staged, known, fates) are not the ledger's and are left out
    rows, groups, of = parts["sql/writes/usage_daily_rows.sql"]["scans"]["usage_raw"]
    assert rows == 300 and 1 <= groups <= of
    assert not any(t in scans for p in parts.values() for scans in [p["scans"]] for t in ("staged", "known", "fates"))
    with Warehouse(db) as wh:       # the file was loaded for real, and the ledger's configuration locked again
        assert wh.scalar("select count(*) from usage_raw") == 700
        assert wh.scalar("select current_setting('lock_configuration')") is True
