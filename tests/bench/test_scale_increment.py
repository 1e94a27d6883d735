"""bench/scale.py's increment file: one day of new rows for any day, inside the generated year too (a day before the
day after the year got a negative seed, which the generator refused)."""

from __future__ import annotations

import datetime as dt
import importlib.util
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[2]


def _scale():
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "bench" / "scale.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_an_increment_of_a_day_inside_the_year_is_one_day_of_new_rows(tmp_path):
    scale = _scale()
    inside = scale.START + dt.timedelta(days=40)
    files = [scale.make_increment(tmp_path, 500, day) for day in (inside, inside + dt.timedelta(days=1))]
    con = duckdb.connect()
    days, ids = [], []
    for f in files:
        first, last, n, distinct = con.execute(
            "select min(startTime)::date, max(startTime)::date, count(*), count(distinct request_id) "
            "from read_parquet(?)", [str(f)]).fetchone()
        assert n == distinct == 500 and first == last
        days.append(first)
        ids.append({r[0] for r in con.execute("select request_id from read_parquet(?)", [str(f)]).fetchall()})
    assert days == [inside, inside + dt.timedelta(days=1)]
    assert not ids[0] & ids[1]                      # each day its own seed: no id repeated
