"""Ingest benchmark: ModelMix's full ingest of a LiteLLM spend-log export against a plain DuckDB read_csv.

    python bench/ingest.py [--rows N] [--shape wide|narrow] [--increment ROWS] [--keep] [--repeat R] [--json FILE]

Generates N request rows with the seeded Northwind generator into a temporary folder (not timed), then runs
each step in a fresh child process (so peak RSS is the step's own, read from /proc/self/status VmHWM):

1. plain     `create table t as select * from read_csv(path)` into a fresh DuckDB file (the baseline)
2. ingest    `ingest_paths` of the same file into a fresh Warehouse
3. re-ingest the same file again into that Warehouse (same bytes: recognised by sha256, nothing read)
4. overlap   a second file: the last half of the first file's rows plus as many new rows
             (expect N/2 loaded, N/2 duplicate)
5. increment (with --increment ROWS, default 500,000; 0 skips it) a file of ROWS new requests all on one day
             after the ledger's last, ingested into the ledger of steps 2-4, against
6. plain increment: a plain read_csv of that file into a fresh table.

--shape wide (default): the generator's LiteLLM export as written, 20 columns (request id, key hash, metadata
JSON, ...). --shape narrow: the same rows cut to the columns the format requires plus the provider and key
(8 columns), so parsing is a smaller share of the work and ModelMix's own costs show.

Targets (docs/benchmarks.md, "Ingest"): ingest <= 1.5x plain, both shapes; increment <= 2x a plain read of it; peak RSS < 1.5 GB.
"""

from __future__ import annotations

import argparse
import datetime as dt
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
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["load"] = " ".join(f"{x:.1f}" for x in os.getloadavg())   # at the step's end: 1, 5, 15 minutes
    return out


# --- data ------------------------------------------------------------------------------------------------------
NARROW = ("request_id", "startTime", "model", "custom_llm_provider", "prompt_tokens", "completion_tokens", "spend",
          "api_key")


def narrow(path: Path) -> Path:
    """The same rows with only the NARROW columns, as text exactly as written (polars, streamed, untimed)."""
    import polars as pl

    out = path.with_name(path.stem + "_narrow.csv")
    pl.scan_csv(path, infer_schema=False).select(NARROW).sink_csv(out)
    path.unlink()
    return out


def make_increment(tmp: Path, rows: int, day: dt.date, shape: str) -> Path:
    """`rows` new requests (another seed), their 30 generated days squeezed into `day`: one day's file."""
    import polars as pl

    from cli import sample

    path = sample.generate(tmp / "increment", rows, seed=9, start=day, days=30)["litellm_spend_logs"]
    fmt = "%Y-%m-%d %H:%M:%S%.3f"
    base = dt.datetime.combine(day, dt.time())
    squeeze = lambda c: (pl.lit(base) + (pl.col(c).str.to_datetime(fmt) - base) / 30).dt.to_string(fmt)  # noqa: E731
    frame = pl.read_csv(path, infer_schema=False).with_columns(startTime=squeeze("startTime"),
                                                               endTime=squeeze("endTime"))
    out = tmp / "increment" / "litellm_spend_logs_increment.csv"
    frame.write_csv(out, null_value="")
    for f in (tmp / "increment").iterdir():
        if f != out:
            f.unlink()
    return narrow(out) if shape == "narrow" else out


def make_files(tmp: Path, rows: int, shape: str = "wide") -> tuple[Path, Path, int]:
    """The request log, and the overlap file: its last half plus as many new rows (another seed's ids)."""
    from cli import sample

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
    if shape == "narrow":
        first, overlap = narrow(first), narrow(overlap)
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
    ap.add_argument("--shape", choices=("wide", "narrow"), default="wide",
                    help="wide: the generator's 20-column export; narrow: its 8 essential columns")
    ap.add_argument("--increment", type=int, default=500_000,
                    help="rows of the one-day increment file loaded into the ledger last (0: skip)")
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
        first, overlap, half = make_files(tmp, args.rows, args.shape)
        # the generator's default year starts 2025-12-01 and lasts 365 days; the increment is the day after
        increment = make_increment(tmp, args.increment, dt.date(2026, 12, 1), args.shape) if args.increment else None
        size = first.stat().st_size
        print(f"generated {args.rows:,} LiteLLM rows ({args.shape}, {size / 1e6:,.0f} MB), the overlap file and "
              f"the increment in "
              f"{time.perf_counter() - started:.1f} s under {tmp}", flush=True)

        steps = ("plain", "ingest", "reingest", "overlap") + (("increment", "plain_increment") if increment else ())
        runs: dict[str, list[dict]] = {k: [] for k in steps}
        for rep in range(args.repeat):
            db_plain, db = tmp / f"plain{rep}.duckdb", tmp / f"ledger{rep}.duckdb"
            runs["plain"].append(run_step("plain", first, db_plain))
            runs["ingest"].append(run_step("ingest", first, db))
            runs["reingest"].append(run_step("ingest", first, db))
            runs["overlap"].append(run_step("ingest", overlap, db))
            if increment:
                runs["increment"].append(run_step("ingest", increment, db))
                db_plain.unlink(missing_ok=True)
                runs["plain_increment"].append(run_step("plain", increment, db_plain))
            db_plain.unlink(missing_ok=True)
            if not args.keep:
                db.unlink(missing_ok=True)
            print(f"  run {rep + 1}: " + ", ".join(f"{k} {v[-1]['seconds']:.2f} s" for k, v in runs.items()),
                  flush=True)
        res = {k: _median(v) for k, v in runs.items()}
        report = {"rows": args.rows, "shape": args.shape, "csv_bytes": size, "increment_rows": args.increment, "memory_limit": args.memory_limit or "default (80% of RAM)",
                  "overlap_expected_new": args.rows - half,
                  "versions": _versions(), "steps": res,
                  "ratio_ingest_to_plain": res["ingest"]["seconds"] / res["plain"]["seconds"],
                  "ratio_reingest_to_ingest": res["reingest"]["seconds"] / res["ingest"]["seconds"],
                  "cpu_ratio_ingest_to_plain": res["ingest"]["cpu_seconds"] / res["plain"]["cpu_seconds"],
                  **({"ratio_increment_to_plain": res["increment"]["seconds"] / res["plain_increment"]["seconds"],
                      "cpu_ratio_increment_to_plain": res["increment"]["cpu_seconds"]
                      / res["plain_increment"]["cpu_seconds"]} if increment else {}),
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
    print(f"\n{r['rows']:,} rows ({r['shape']}), {r['csv_bytes'] / 1e6:,.0f} MB CSV; duckdb {v['duckdb']}, polars {v['polars']}, "
          f"python {v['python']}, {v['cores']} cores, {v['memory_gib']} GiB; DuckDB memory_limit {r['memory_limit']}")
    print("| step | seconds | CPU seconds | rows/s | rows loaded | rows duplicate | peak RSS | load after |")
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    names = {"plain": "plain DuckDB read_csv -> file table", "ingest": "ModelMix ingest (fresh ledger)",
             "reingest": "re-ingest, same file", "overlap": "overlap file (1/2 old + 1/2 new)",
             "increment": f"one-day increment ({r['increment_rows']:,} rows) into that ledger",
             "plain_increment": "plain DuckDB read_csv of the increment"}
    for key, label in names.items():
        if key not in r["steps"]:
            continue
        s = r["steps"][key]
        rate = s["rows_read"] / s["seconds"] if key != "reingest" else r["rows"] / s["seconds"]
        lo, hi = s["range"]
        secs = f"{s['seconds']:.2f}" + (f" ({lo:.2f}-{hi:.2f})" if hi > lo else "")
        print(f"| {label} | {secs} | {s['cpu_seconds']:.1f} | {rate / 1e6:.2f} M | {s.get('rows_loaded', 0):,} | "
              f"{s.get('rows_duplicate', 0):,} | {s['peak_rss_bytes'] / 2**30:.2f} GiB | {s.get('load', '')} |")
    ok = lambda b: "ok" if b else "MISSED"  # noqa: E731
    ratio, rer = r["ratio_ingest_to_plain"], r["ratio_reingest_to_ingest"]
    peak = max(s["peak_rss_bytes"] for s in r["steps"].values()) / 2**30
    # ratios are judged on CPU seconds (as bench/scale.py does): on a shared machine a step's wall time is mostly
    # queueing behind other work
    cpu_ratio = r["cpu_ratio_ingest_to_plain"]
    print(f"\ningest / plain = {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU (target <= 1.5x: {ok(cpu_ratio <= 1.5)}); "
          f"re-ingest / ingest = {rer:.3f}x (target < 0.2x: {ok(rer < 0.2)}); peak RSS {peak:.2f} GiB "
          f"(target < 1.5 GB: {ok(peak < 1.5e9 / 2**30)})")
    print(f"load average after the run {r['load_average_after'][0]:.1f} on {v['cores']} cores (other work on the "
          "machine inflates wall times)")
    if "ratio_increment_to_plain" in r:
        inc, inc_cpu = r["ratio_increment_to_plain"], r["cpu_ratio_increment_to_plain"]
        print(f"increment / plain read of it = {inc:.2f}x wall, {inc_cpu:.2f}x CPU (target <= 2x: {ok(inc_cpu <= 2)})")
    ov = r["steps"]["overlap"]
    print(f"overlap: {ov['rows_loaded']:,} loaded (expected {r['overlap_expected_new']:,}), "
          f"{ov['rows_duplicate']:,} duplicate")


if __name__ == "__main__":
    raise SystemExit(main())
