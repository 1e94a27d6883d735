"""Ingest benchmark: ModelMix's full ingest of a LiteLLM spend-log export against a plain DuckDB read_csv.

    python bench/ingest.py [--rows N] [--keep] [--repeat R] [--json FILE]

Generates N request rows with the seeded Northwind generator into a temporary folder (not timed), then runs
each step in a fresh child process (so peak RSS is the step's own, read from /proc/self/status VmHWM):

1. plain     `create table t as select * from read_csv(path)` into a fresh DuckDB file (the baseline)
2. ingest    `ingest_paths` of the same file into a fresh Warehouse
3. re-ingest the same file again into that Warehouse (same bytes: recognised by sha256, nothing read)
4. overlap   a second file: the last half of the first file's rows plus as many new rows
             (expect N/2 loaded, N/2 duplicate)

Targets (DESIGN.md): ingest <= 2x plain; re-ingest < 0.2x ingest; peak RSS < 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _peak_rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --- steps (run in a child process) ---------------------------------------------------------------------------
MEMORY_LIMIT = os.environ.get("MODELMIX_BENCH_MEMORY_LIMIT") or None


def step_plain(csv: Path, db: Path) -> dict:
    import duckdb

    started = time.perf_counter()
    con = duckdb.connect(str(db), config={"memory_limit": MEMORY_LIMIT} if MEMORY_LIMIT else {})
    con.execute("create table t as select * from read_csv($path)", {"path": str(csv)})
    rows = con.execute("select count(*) from t").fetchone()[0]
    con.close()
    return {"seconds": time.perf_counter() - started, "rows_read": rows, "rows_loaded": rows}


def step_ingest(csv: Path, db: Path) -> dict:
    from ingest import ingest_paths
    from warehouse import Warehouse

    opened = time.perf_counter()
    wh = Warehouse(db, memory_limit=MEMORY_LIMIT)
    started = time.perf_counter()
    [result] = ingest_paths(wh, [csv])
    seconds = time.perf_counter() - started
    wh.close()
    closed = time.perf_counter()
    if result.error:
        raise SystemExit(f"ingest failed: {result.error}")
    return {"seconds": seconds, "open_seconds": started - opened, "close_seconds": closed - started - seconds,
            "rows_read": result.rows_loaded + result.rows_duplicate + result.rows_rejected,
            "rows_loaded": result.rows_loaded, "rows_duplicate": result.rows_duplicate,
            "rows_rejected": result.rows_rejected, "status": result.status}


STEPS = {"plain": step_plain, "ingest": step_ingest}


def _cpu_seconds() -> float:
    import resource

    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def _child(step: str, csv: Path, db: Path) -> None:
    cpu = _cpu_seconds()
    out = STEPS[step](csv, db)
    # CPU seconds of the whole step (import and open included): steadier than wall time on a shared machine
    out["cpu_seconds"] = _cpu_seconds() - cpu
    out["peak_rss_bytes"] = _peak_rss_bytes()
    print(json.dumps(out))


_env: dict[str, str] = {}


def run_step(step: str, csv: Path, db: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", step, str(csv), str(db)],
                          capture_output=True, text=True, cwd=ROOT, env={**os.environ, **_env})
    if proc.returncode != 0:
        raise SystemExit(f"step {step} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- data ------------------------------------------------------------------------------------------------------
def make_files(tmp: Path, rows: int) -> tuple[Path, Path, int]:
    """The request log, and the overlap file: its last half plus as many new rows (another seed's ids)."""
    from modelmix import sample

    first = sample.generate(tmp / "first", rows, seed=7)["litellm_spend_logs"]
    half = rows // 2
    fresh = sample.generate(tmp / "fresh", rows - half, seed=8)["litellm_spend_logs"]
    overlap = tmp / "overlap" / "litellm_spend_logs_overlap.csv"
    overlap.parent.mkdir()
    with open(first, "rb") as a, open(fresh, "rb") as b, open(overlap, "wb") as out:
        out.write(a.readline())
        for _ in range(rows - half):  # skip the first half (rows - half of them: the rest is `half` rows)
            a.readline()
        shutil.copyfileobj(a, out, 16 * 2**20)
        b.readline()
        shutil.copyfileobj(b, out, 16 * 2**20)
    shutil.rmtree(tmp / "fresh")
    return first, overlap, half


# --- report ----------------------------------------------------------------------------------------------------
def _versions() -> dict:
    import duckdb
    import polars

    return {"python": platform.python_version(), "duckdb": duckdb.__version__, "polars": polars.__version__,
            "cores": os.cpu_count(), "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
                                                          / 2**30, 1)}


def _median(runs: list[dict]) -> dict:
    best = dict(runs[0])
    for key in ("seconds", "cpu_seconds", "peak_rss_bytes"):
        best[key] = statistics.median(r[key] for r in runs)
    best["range"] = (min(r["seconds"] for r in runs), max(r["seconds"] for r in runs))
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=5_000_000)
    ap.add_argument("--keep", action="store_true", help="keep the generated files and databases")
    ap.add_argument("--repeat", type=int, default=1, help="run each step R times; the median is reported")
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    ap.add_argument("--memory-limit",
                    help="DuckDB memory_limit for every step (e.g. 1GB); default: DuckDB's own (80%% of RAM)")
    ap.add_argument("--child", nargs=3, metavar=("STEP", "CSV", "DB"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0

    if args.memory_limit:
        _env["MODELMIX_BENCH_MEMORY_LIMIT"] = args.memory_limit
    tmp = Path(tempfile.mkdtemp(prefix="modelmix-bench-"))
    try:
        started = time.perf_counter()
        first, overlap, half = make_files(tmp, args.rows)
        size = first.stat().st_size
        print(f"generated {args.rows:,} LiteLLM rows ({size / 1e6:,.0f} MB) and the overlap file in "
              f"{time.perf_counter() - started:.1f} s under {tmp}", flush=True)

        runs: dict[str, list[dict]] = {k: [] for k in ("plain", "ingest", "reingest", "overlap")}
        for rep in range(args.repeat):
            db_plain, db = tmp / f"plain{rep}.duckdb", tmp / f"ledger{rep}.duckdb"
            runs["plain"].append(run_step("plain", first, db_plain))
            runs["ingest"].append(run_step("ingest", first, db))
            runs["reingest"].append(run_step("ingest", first, db))
            runs["overlap"].append(run_step("ingest", overlap, db))
            db_plain.unlink(missing_ok=True)
            if not args.keep:
                db.unlink(missing_ok=True)
            print(f"  run {rep + 1}: " + ", ".join(f"{k} {v[-1]['seconds']:.2f} s" for k, v in runs.items()),
                  flush=True)
        res = {k: _median(v) for k, v in runs.items()}
        report = {"rows": args.rows, "csv_bytes": size, "memory_limit": args.memory_limit or "default (80% of RAM)",
                  "overlap_expected_new": args.rows - half,
                  "versions": _versions(), "steps": res,
                  "ratio_ingest_to_plain": res["ingest"]["seconds"] / res["plain"]["seconds"],
                  "ratio_reingest_to_ingest": res["reingest"]["seconds"] / res["ingest"]["seconds"],
                  "cpu_ratio_ingest_to_plain": res["ingest"]["cpu_seconds"] / res["plain"]["cpu_seconds"],
                  "load_average_after": os.getloadavg()}
        _print(report)
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, default=str))
        return 0
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def _print(r: dict) -> None:
    v = r["versions"]
    print(f"\n{r['rows']:,} rows, {r['csv_bytes'] / 1e6:,.0f} MB CSV; duckdb {v['duckdb']}, polars {v['polars']}, "
          f"python {v['python']}, {v['cores']} cores, {v['memory_gib']} GiB; DuckDB memory_limit {r['memory_limit']}")
    print("| step | seconds | CPU seconds | rows/s | rows loaded | rows duplicate | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    names = {"plain": "plain DuckDB read_csv -> file table", "ingest": "ModelMix ingest (fresh ledger)",
             "reingest": "re-ingest, same file", "overlap": "overlap file (1/2 old + 1/2 new)"}
    for key, label in names.items():
        s = r["steps"][key]
        rate = s["rows_read"] / s["seconds"] if key != "reingest" else r["rows"] / s["seconds"]
        lo, hi = s["range"]
        secs = f"{s['seconds']:.2f}" + (f" ({lo:.2f}-{hi:.2f})" if hi > lo else "")
        print(f"| {label} | {secs} | {s['cpu_seconds']:.1f} | {rate / 1e6:.2f} M | {s.get('rows_loaded', 0):,} | "
              f"{s.get('rows_duplicate', 0):,} | {s['peak_rss_bytes'] / 2**30:.2f} GiB |")
    ok = lambda b: "ok" if b else "MISSED"  # noqa: E731
    ratio, rer = r["ratio_ingest_to_plain"], r["ratio_reingest_to_ingest"]
    peak = max(s["peak_rss_bytes"] for s in r["steps"].values()) / 2**30
    print(f"\ningest / plain = {ratio:.2f}x (target <= 2x: {ok(ratio <= 2)}); re-ingest / ingest = {rer:.3f}x "
          f"(target < 0.2x: {ok(rer < 0.2)}); peak RSS {peak:.2f} GiB (target < 1.5 GB: {ok(peak < 1.5e9 / 2**30)})")
    print(f"CPU seconds ingest / plain = {r['cpu_ratio_ingest_to_plain']:.2f}x; load average after the run "
          f"{r['load_average_after'][0]:.1f} on {v['cores']} cores (other work on the machine inflates wall times)")
    ov = r["steps"]["overlap"]
    print(f"overlap: {ov['rows_loaded']:,} loaded (expected {r['overlap_expected_new']:,}), "
          f"{ov['rows_duplicate']:,} duplicate")


if __name__ == "__main__":
    raise SystemExit(main())
