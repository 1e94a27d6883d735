"""The look-up of a request file's ids (sql/writes/known_requests.sql) reads the ledger only in the file's window:
usage_raw's zone maps on `ts` skip the row groups of every other day, so a daily file's dedupe costs its window,
not the ledger (docs/benchmarks.md, "Where an ingest's CPU goes", third session)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

import sql
from warehouse import Warehouse

ROW_GROUP = 122_880     # DuckDB's rows per row group


@pytest.mark.slow     # half a million rows written (≈ 10 s at load 30)
def test_the_ids_look_up_reads_only_the_files_window(tmp_path):
    with Warehouse(tmp_path / "ledger.duckdb") as wh:
        cur = wh.cursor()
        # a ledger of 4 row groups, one hour per 1,000 rows in time order (as files append their rows), then a
        # new file of 3 ids: one already in the ledger inside the window, one outside it, one new
        n = 4 * ROW_GROUP
        cur.execute("""insert into usage_raw by name select
            timestamp '2026-01-01' + i * interval 3600 millisecond as ts, 'request' as granularity,
            'openai' as provider, 'gpt-4o' as model, 'gpt-4o' as model_raw, 'chat' as operation,
            'default' as service_tier, 1 as requests, 10 as input_tokens, 0 as cache_read_tokens,
            0 as cache_write_tokens, 5 as output_tokens, 0 as reasoning_tokens, 0.001 as cost_usd,
            'canonical' as source_format, 1 as ingest_id, i::uhugeint as row_key, 0 as dim_key
            from range($n) t(i)""", {"n": n})
        inside, outside = 3 * ROW_GROUP + 10, 100
        cur.execute("""create temp table staged as select * from (values
            ($inside::uhugeint, timestamp '2026-01-01' + $inside * interval 3600 millisecond + interval 1 hour),
            ($outside::uhugeint, timestamp '2026-01-01' + $inside * interval 3600 millisecond),
            (99999999::uhugeint, timestamp '2026-01-01' + $inside * interval 3600 millisecond)) t(row_key, ts),
            (select null::varchar[] as _errors)""", {"inside": inside, "outside": outside})
        lo, hi = cur.execute("select min(ts), max(ts) from staged").fetchone()
        window = {"lo": lo - dt.timedelta(days=1), "hi": hi + dt.timedelta(days=1)}
        text = sql.load("writes/known_requests")
        cur.execute(text, window)
        assert [r[0] for r in cur.execute("select row_key from known").fetchall()] == [inside]
        plan = cur.execute("explain analyze " + text[text.index("with ids"):], window).fetchall()[0][1]
        scanned = [tuple(int(x.replace(",", "")) for x in m)
                   for m in re.findall(r"Row Groups Scanned: ([\d,]+) / ([\d,]+)", plan)]
        ledger = [s for s in scanned if s[1] == max(t for _, t in scanned)]
        assert ledger and ledger[0][1] >= 4, plan
        assert ledger[0][0] <= 2, plan       # the window's (about 2 days: 1-2 row groups), never all 4
