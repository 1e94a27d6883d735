"""Where one ingest's time goes, statement by statement, in process.

    python bench/profile_ingest.py LEDGER FILE [--json OUT]

Opens LEDGER (a copy: the file is loaded into it for real) as `modelmix ingest` does, loads FILE, and times every
statement the load job runs on the writer's cursor (the staging read, classify, insert, the derived refresh:
model names, attribution, source choice, self-hosted rates, usage_daily; accounting, audit), plus what runs
around the transaction: opening the ledger (migrations and their backup, the catalog), staging and hashing the
file, the commit (with DuckDB's automatic checkpoint) and the close. Each line: wall and CPU seconds of the whole
process (DuckDB's threads included; `resource.getrusage`), and where the statement lives (its `.sql` file, or the
calling line for SQL written in Python). Run `EXPLAIN ANALYZE` of the costliest by hand from the origin shown.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sql  # noqa: E402


def _cpu() -> float:
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


class Clock:
    """Wall and CPU seconds per labelled part, in the order first seen."""

    def __init__(self) -> None:
        self.parts: dict[str, list[float]] = {}
        self.calls: dict[str, int] = defaultdict(int)
        self.scans: dict[str, dict[str, list[int]]] = {}   # label -> table -> [rows, row groups read, of]

    def total(self) -> tuple[float, float]:
        return sum(v[0] for v in self.parts.values()), sum(v[1] for v in self.parts.values())

    def add(self, label: str, wall: float, cpu: float) -> None:
        w, c = self.parts.get(label, [0.0, 0.0])
        self.parts[label] = [w + wall, c + cpu]
        self.calls[label] += 1

    def timed(self, label: str, fn):
        def run(*a, **k):
            t, c = time.perf_counter(), _cpu()
            try:
                return fn(*a, **k)
            finally:
                self.add(label, time.perf_counter() - t, _cpu() - c)
        return run


def _label(text: str) -> str:
    if origin := sql.origin(text):
        return origin
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename == __file__:
        frame = frame.f_back
    where = f"{Path(frame.f_code.co_filename).relative_to(ROOT)}:{frame.f_lineno}" if frame else "?"
    return f"{where} {' '.join(text.split())[:48]}"


def ledger_scans(profile: dict) -> dict[str, list[int]]:
    """From DuckDB's profile of one statement: per table of the ledger (temp tables left out) it scanned, the rows
    and row groups it read and the row groups the table has."""
    out: dict[str, list[int]] = {}

    def walk(node: dict) -> None:
        table = (node.get("extra_info") or {}).get("Table")
        if node.get("type") == "TABLE_SCAN" and table and not table.strip('"').startswith("temp"):
            name = table.split(".")[-1]
            got = out.setdefault(name, [0, 0, 0])
            got[0] += node.get("rows_scanned", 0)
            got[1] += node.get("row_groups_scanned", 0)
            got[2] += node.get("total_row_groups_to_scan", 0)
        for child in node.get("children", []):
            walk(child)

    for node in profile.get("operator", []):
        walk(node)
    return out


class TimedCursor:
    """The writer's cursor with every execute timed (the result is fetched by the caller: DuckDB materialises it
    in execute for these statements, so the time is the statement's). `scans`: DuckDB's profiler on, and the rows
    each statement read from the ledger's tables kept (Clock.scans)."""

    def __init__(self, cur, clock: Clock, scans: bool = False) -> None:
        self._cur, self._clock, self._scans = cur, clock, scans
        if scans:
            cur.execute("set enable_profiling = 'no_output'")
            cur.execute("set profiling_mode = 'detailed'")

    def execute(self, text, params=None):
        label = _label(text)
        t, c = time.perf_counter(), _cpu()
        self._cur.execute(text, params)
        self._clock.add(label, time.perf_counter() - t, _cpu() - c)
        if self._scans:
            for table, (rows, groups, of) in ledger_scans(json.loads(self._cur.get_profiling_information(
                    format="json"))).items():
                got = self._clock.scans.setdefault(label, {}).setdefault(table, [0, 0, 0])
                got[0], got[1], got[2] = got[0] + rows, got[1] + groups, max(got[2], of)
        return self

    def executemany(self, text, params=None):
        label = _label(text)
        t, c = time.perf_counter(), _cpu()
        self._cur.executemany(text, params)
        self._clock.add(label, time.perf_counter() - t, _cpu() - c)
        return self

    def __getattr__(self, name):
        return getattr(self._cur, name)


class _Unlocked:
    """A connection whose `set lock_configuration` is skipped (the profiler is set on the writer's cursor later)."""

    def __init__(self, con) -> None:
        self._con = con

    def execute(self, text, *a):
        return self if "lock_configuration" in text else self._con.execute(text, *a)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("ledger", type=Path)
    ap.add_argument("file", type=Path, help="a file, or a folder of files (one `ingest_paths` call, as `modelmix ingest DIR`)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--scans", action="store_true",
                    help="also the rows and row groups each statement read from the ledger's tables (DuckDB's "
                         "profiler on the writer's cursor: the ledger's configuration is left unlocked for it)")
    args = ap.parse_args(argv)

    from ingest import job, read
    from modelmix.settings import settings
    from warehouse import Warehouse, db

    clock = Clock()
    undo: list[tuple[object, str, object]] = []

    def patch(owner: object, name: str, value: object) -> None:
        undo.append((owner, name, getattr(owner, name)))
        setattr(owner, name, value)

    from warehouse import prices

    # around the transaction
    for name in ("stage_into", "sample", "sha256"):
        patch(read, name, clock.timed(f"(outside) read.{name}", getattr(read, name)))
    migrate = Warehouse._migrate
    patch(Warehouse, "_migrate", lambda self: clock.timed("(open) migrations (+ backup before one)", migrate)(self))
    patch(prices, "ensure_catalog", clock.timed("(open) prices.ensure_catalog", prices.ensure_catalog))
    load = job._load
    patch(job, "_load", lambda cur, *a: load(TimedCursor(cur, clock, args.scans), *a))
    if args.scans:      # the profiler is a per-connection setting, set after the configuration would be locked
        harden = db.harden
        patch(db, "harden", lambda con, folder: harden(_Unlocked(con), folder))
    in_tx = db.Warehouse._in_transaction

    def tx(self, cur, actor, changes_data, fn, *a):
        t, c = time.perf_counter(), _cpu()
        before_w, before_c = clock.total()
        out = in_tx(self, cur, actor, changes_data, fn, *a)
        inner_w, inner_c = clock.total()
        clock.add("(tx) begin + commit (+ automatic checkpoint) + Python between statements",
                  time.perf_counter() - t - (inner_w - before_w), _cpu() - c - (inner_c - before_c))
        return out
    patch(db.Warehouse, "_in_transaction", tx)

    c_all, t_all = _cpu(), time.perf_counter()
    try:
        t, c = time.perf_counter(), _cpu()
        wh = Warehouse(args.ledger, memory_limit=settings().memory_limit)
        opened_w, opened_c = time.perf_counter() - t, _cpu() - c
        open_w = sum(v[0] for k, v in clock.parts.items() if k.startswith("(open)"))
        open_c = sum(v[1] for k, v in clock.parts.items() if k.startswith("(open)"))
        clock.add("(open) connect, size check, harden, rest", opened_w - open_w, opened_c - open_c)
        t, c = time.perf_counter(), _cpu()
        try:
            results = job.ingest_paths(wh, [args.file])
        finally:
            ingest_w, ingest_c = time.perf_counter() - t, _cpu() - c
            t, c = time.perf_counter(), _cpu()
            wh.close()
            clock.add("(close) connection close (checkpoint)", time.perf_counter() - t, _cpu() - c)
    finally:
        for owner, name, value in reversed(undo):
            setattr(owner, name, value)
    total_w, total_c = time.perf_counter() - t_all, _cpu() - c_all
    for r in results:
        if r.status != "loaded" or r.error:
            print(f"ingest of {r.path}: {r.status} {r.error}", file=sys.stderr)
    loaded = sum(r.rows_loaded for r in results)
    rows = sorted(clock.parts.items(), key=lambda kv: -kv[1][1])
    print(f"{loaded:,} rows loaded from {len(results)} file(s); whole: {total_w:.2f} s wall, {total_c:.2f} CPU s "
          f"(ingest_paths {ingest_w:.2f} / {ingest_c:.2f})")

    def scanned(label: str) -> str:
        return "; ".join(f"{t} {r:,} rows, {g}/{n} row groups" for t, (r, g, n) in clock.scans.get(label, {}).items())

    print(f"{'part':<80} {'calls':>5} {'wall s':>8} {'cpu s':>8}  {'ledger rows read' if args.scans else ''}")
    for label, (w, c) in rows:
        print(f"{label[:80]:<80} {clock.calls[label]:>5} {w:8.2f} {c:8.2f}  {scanned(label)}")
    if args.json:
        args.json.write_text(json.dumps({"rows_loaded": loaded, "wall": total_w, "cpu": total_c,
                                         "parts": {k: {"calls": clock.calls[k], "wall": v[0], "cpu": v[1],
                                                       "scans": clock.scans.get(k, {})}
                                                   for k, v in rows}}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
