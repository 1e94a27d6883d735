"""What the stored replay rows (`replay_stored`, sql/writes/replay_stored_rows.sql) cost and save, on an existing
ledger: its build (timed when the ledger has none yet: the open builds it, as for an older ledger, or with
--rebuild, what a price, alias or rule change pays for it), its size on disk, and one read of the default range
(the sidebar's 90 days up to the ledger's last day) through the view and through the table, statement by statement.

Each figure: wall seconds, CPU seconds of the process (DuckDB's threads included) and the load average after it;
on a shared machine the wall time is mostly waiting for a core.

Usage: python bench/replay_stored.py --db LEDGER [--days 90] [--rebuild]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sql  # noqa: E402
from warehouse import Warehouse, ledger  # noqa: E402


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def _timed(label: str, fn):
    w, c = time.perf_counter(), _cpu()
    out = fn()
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{label:<64} {time.perf_counter() - w:8.2f} s  cpu {_cpu() - c:7.2f} s  [load {load}]", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--days", type=int, default=90)
    ap.add_argument("--rebuild", action="store_true", help="also time a rebuild of the table from every row")
    args = ap.parse_args(argv)
    wh = _timed("open (builds replay_stored when the ledger has none)", lambda: Warehouse(args.db))
    try:
        if args.rebuild:
            _timed("rebuild replay_stored from every row (a price change's part)",
                   lambda: wh.write(ledger.create_replay_stored))
        rows = wh.scalar("select count(*) from replay_stored")
        block = wh.scalar("select block_size from pragma_database_size() where database_name = current_database()")
        size = wh.scalar("select count(distinct block_id) from pragma_storage_info('replay_stored') "
                         "where block_id >= 0") * block
        print(f"replay_stored: {rows:,} rows, ≈ {size / 1e9:.2f} GB on disk "
              f"({size / max(rows, 1):.0f} bytes a row)", flush=True)
        last = wh.scalar("select max(ts) from replay_stored").date()
        span = {"start": dt.datetime.combine(last - dt.timedelta(days=args.days - 1), dt.time()),
                "end_excl": dt.datetime.combine(last + dt.timedelta(days=1), dt.time())}
        where = "where ts >= $start and ts < $end_excl"
        total = ("select count(*), sum(coalesce(cost_usd, list_cost_usd)), sum(input_tokens + cache_read_tokens "
                 "+ cache_write_tokens + output_tokens) from {t} " + where)
        a = _timed(f"{args.days} days: count, cost, tokens through usage_replay",
                   lambda: wh.sql(total.format(t="usage_replay"), **span).row(0))
        b = _timed(f"{args.days} days: count, cost, tokens of replay_stored",
                   lambda: wh.sql(total.format(t="replay_stored"), **span).row(0))
        assert a == b, (a, b)
        print(f"  equal: {a[0]:,} rows, ${a[1]:,.6f}", flush=True)
        bucket = "select count(*), sum(coalesce(cost_usd, list_cost_usd)) from {t} " + where + \
                 " and input_tokens + cache_read_tokens + cache_write_tokens + output_tokens between 1400 and 1410"
        a = _timed("one token bucket (1400-1410) through usage_replay",
                   lambda: wh.sql(bucket.format(t="usage_replay"), **span).row(0))
        b = _timed("one token bucket (1400-1410) of replay_stored",
                   lambda: wh.sql(bucket.format(t="replay_stored"), **span).row(0))
        assert a == b, (a, b)
        _timed("whatif_sessions (reads replay_stored)",
               lambda: wh.query("whatif_sessions", start=span["start"].date(), end=last))
    finally:
        wh.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
