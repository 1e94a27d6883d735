"""A load pays for what it uses: ingesting a CSV or a Parquet file into a ledger imports neither polars nor pyarrow
(0.25 and 0.16 CPU s of a process's start-up, docs/benchmarks.md "The increment's rollups, eighth session"), so a
daily `modelmix ingest` does not pay them; frames are made only where a query returns one (`Warehouse.sql`) or where
the price catalog is (re)loaded (a new ledger, a new genai-prices). A Parquet file's columns are described by
DuckDB (warehouse/files.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from warehouse import Warehouse

ROOT = Path(__file__).resolve().parent.parent.parent

SCRIPT = """
import sys
from ingest import ingest_paths
from warehouse import Warehouse
with Warehouse(sys.argv[1]) as wh:
    [r] = ingest_paths(wh, [sys.argv[2]])
assert r.status == "loaded" and r.rows_loaded == 2, (r.status, r.error)
print(sorted(m for m in ("polars", "pyarrow") if m in sys.modules))
"""


ROWS = ("request_id,startTime,model,custom_llm_provider,prompt_tokens,completion_tokens,spend\n"
        "r1,2026-10-01 10:00:00,gpt-4o-mini,openai,1000,100,0.01\n"
        "r2,2026-10-01 11:00:00,gpt-4o-mini,openai,1000,100,0.01\n")


@pytest.mark.parametrize("container", ["csv", "parquet"])
def test_ingesting_a_file_imports_no_frame_library(tmp_path, container):
    with Warehouse(tmp_path / "ledger.duckdb"):
        pass    # the ledger exists, with its price catalog, as a daily load finds it
    csv = tmp_path / "log.csv"
    csv.write_text(ROWS)
    path = csv
    if container == "parquet":   # written by DuckDB, every column text as a gateway's own Parquet export may be
        path = tmp_path / "log.parquet"
        with duckdb.connect() as con:
            con.execute(f"copy (select * from read_csv('{csv}', all_varchar = true)) to '{path}' (format parquet)")
        csv.unlink()
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "ledger.duckdb"), str(path)],
                          capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin",
                                                                           "HOME": str(tmp_path)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
