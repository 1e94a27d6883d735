"""Scale benchmark: a large company's year (10 M, 100 M request rows) on one machine, built from Parquet.

    python bench/scale.py [--rows N] [--increment ROWS] [--memory-limit 1GB] [--skip-prepare] [--keep DIR]
                          [--json FILE] [--resume]

Data (untimed, printed): the seeded Northwind generator (`cli.sample`) writes the LiteLLM request log in
slices of at most 2 M rows, at least 12 of them, each slice's rows squeezed into its own consecutive days of
one year (2025-12-01 + 365 days), so the slices are like a gateway's monthly (or weekly) exports; each slice
goes to Parquet with DuckDB (typed columns, as a database export would be) and its CSV is deleted, so there is
never a 50 GB CSV. Generation memory is bounded by the slice.

Then every operation runs in its own child process, so its peak RSS (VmHWM) is its own; each ratio compares
two operations of the same run:

1. ingest       `modelmix ingest` of the folder of slices into a fresh ledger (`ingest_paths`, one transaction
                per file, the app's MODELMIX_MEMORY_LIMIT)                      target <= 1.5x plain
2. plain        `create table t as select * from read_parquet(all slices)` into a fresh DuckDB file (after the
                ingest, so the kept ledger is there as early as possible)
3. increment    a one-day Parquet file of ROWS new requests (default 500,000) into that ledger
4. plain incr.  a plain read_parquet of that file into a fresh table           target increment <= 2x this
   lake         `modelmix lake export` of the ledger, then again after step 3 (only changed partitions)
5. hand query   bench_simulate's hand-written one-shift replay over `usage_replay`
6. replay       `simulate.run` of the same shift (totals must agree)           target <= 1.5x hand
7. preset       `simulate.run` of armstrong-80-99
8. spend        the headline spend queries (month to date, top teams, chargeback lines) over the whole year
9. prepare      `frontier.prepare` of the shift over the whole year, its slider table, the first lookup and a
                20-move drag: `prepare_per_row` the per-row engine forced (skipped with --skip-prepare: ~0.45 GB
                per 1 M rows), `prepare` the bucketed engine forced (simulate/buckets.py); their figures at
                seven shares compared (to the cent), and with the replay at share 0.8
Target for every operation: peak RSS <= 4 GB. A ratio's target is judged on CPU seconds (wall seconds are printed
too): on this shared machine the wall time of a step depends on what else runs; the CPU it used much less.

--resume (with --keep): the kept ledger is used as it is (steps 1-2 are not run again, so their figures are not
printed) and the increment is a new one-day file for the day after the ledger's last day (its own seed), so it
is new to the ledger; every other step runs as above.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sql  # noqa: E402  (the project's root is on the path from here)

START = dt.date(2025, 12, 1)
YEAR = 365
SLICE_ROWS = 2_000_000
GB = 1e9


def _peak_rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


def _cpu() -> float:
    import resource

    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


# --- data (child processes) -------------------------------------------------------------------------------------
def to_parquet(csv: Path, out: Path, first: dt.date, days: int) -> int:
    """The generated CSV (30 generated days from `first`) as Parquet, its times squeezed into `days` days."""
    import duckdb

    f = days / 30
    con = duckdb.connect()
    # each time moved to base + (time - base) * f; COPY ... TO takes its path as literal text, not a parameter
    con.execute("""copy (select * replace (
                    make_timestamp(cast(epoch_us($base) + (epoch_us("startTime") - epoch_us($base)) * $f as bigint))
                        as "startTime",
                    make_timestamp(cast(epoch_us($base) + (epoch_us("endTime") - epoch_us($base)) * $f as bigint))
                        as "endTime")
                  from read_csv($csv)) to """ + sql.path_literal(out) + " (format parquet, compression zstd)",
                {"csv": str(csv), "base": dt.datetime.combine(first, dt.time()), "f": f})
    n = con.execute("select count(*) from read_parquet($p)", {"p": str(out)}).fetchone()[0]
    con.close()
    return n


def gen_slice(data: Path, index: int, rows: int, first: dt.date, days: int, seed: int) -> dict:
    from cli import sample

    work = data / f".gen{index}"
    csv = sample.generate(work, rows, seed=seed, start=first, days=30)["litellm_spend_logs"]
    out = data / f"litellm_spend_logs_{index:03d}.parquet"
    part = out.with_name(out.name + ".part")     # renamed when whole, so a stopped run leaves no half slice
    n = to_parquet(csv, part, first, days)
    part.rename(out)
    shutil.rmtree(work)
    return {"rows": n}


# --- operations (child processes) -------------------------------------------------------------------------------
def _wh(db: Path):
    from modelmix.settings import settings
    from warehouse import Warehouse

    return Warehouse(db, memory_limit=os.environ.get("MODELMIX_BENCH_MEMORY_LIMIT") or settings().memory_limit)


def op_plain(db: Path, src: str) -> dict:
    import duckdb

    limit = os.environ.get("MODELMIX_BENCH_PLAIN_MEMORY_LIMIT") or os.environ.get("MODELMIX_BENCH_MEMORY_LIMIT")
    con = duckdb.connect(str(db), config={"memory_limit": limit} if limit else {})
    con.execute("create table t as select * from read_parquet($p)", {"p": src})
    rows = con.execute("select count(*) from t").fetchone()[0]
    con.close()
    return {"rows": rows}


def op_ingest(db: Path, src: str) -> dict:
    from ingest import ingest_paths

    with _wh(db) as wh:
        results = ingest_paths(wh, [src])
    bad = [r.error for r in results if r.status != "loaded"]
    if bad:
        raise SystemExit(f"ingest failed: {bad[:3]}")
    return {"rows": sum(r.rows_loaded for r in results), "files": len(results),
            "duplicate": sum(r.rows_duplicate for r in results)}


def op_lake(db: Path, src: str) -> dict:
    from warehouse import lake

    with _wh(db) as wh:
        done = lake.export(wh, src)
    return {"partitions": done["partitions"], "written": len(done["written"]), "rows": done["rows_written"],
            "daily_months_written": len(done["daily_months_written"]), "repriced": done["repriced"]}


def _shift():
    import simulate

    return simulate.parse_scenario({"name": "bench", "policies": [
        {"kind": "shift", "match": {"models": ["gpt-4o"]}, "share": 0.8,
         "to": {"model": "cheap", "prices": {"input": 0.15, "output": 0.6}}}]})


def op_hand(db: Path, src: str) -> dict:
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_simulate", ROOT / "bench" / "bench_simulate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    HAND = mod.HAND  # noqa: N806 -- the same hand-written replay as bench/bench_simulate.py

    with _wh(db) as wh:
        r = wh.sql(HAND)
    return {"baseline": float(r["baseline"][0]), "scenario": float(r["scenario"][0])}


def op_replay(db: Path, src: str) -> dict:
    import simulate

    scenario = _shift() if src == "shift" else simulate.load_scenario(src)
    with _wh(db) as wh:
        r = simulate.run(wh, scenario)
    return {"baseline": r.baseline_cost_usd, "scenario": r.scenario_cost_usd}


def op_spend(db: Path, src: str) -> dict:
    with _wh(db) as wh:
        start, end = wh.sql("select min(day) as a, max(day) as b from usage_daily").row(0)
        out = {}
        for name, params in (("spend_month_to_date", {"end": end}),
                             ("top_teams", {"start": start, "end": end, "limit": 10}),
                             ("finance_chargeback_lines", {"month_start": start, "month_end": end})):
            t = time.perf_counter()
            frame = wh.query(name, **params)
            out[name] = {"seconds": round(time.perf_counter() - t, 3), "rows": frame.height}
    return out


CHECK_SHARES = [0.0, 0.1, 0.33, 0.5, 0.8, 0.999, 1.0]


def op_prepare(db: Path, src: str) -> dict:
    """`frontier.prepare` of the shift over the whole year with the engine `src` ("per_row": the per-row arrays,
    forced whatever the rows; "buckets": the quantile buckets, forced), then slider moves: the first lookup (the
    bucketed engine reads its boundary bucket back), a drag of 20 small moves (one read per bucket entered), and
    the figures at CHECK_SHARES, which the parent compares between the engines and with the replay."""
    os.environ["MODELMIX_SLIDER_ROW_LIMIT"] = str(10**12 if src == "per_row" else 0)
    import simulate
    from simulate import frontier

    shift = _shift()

    def at(share: float):
        return simulate.parse_scenario({**shift.model_dump(mode="json", exclude_none=True),
                                        "policies": [{**shift.policies[0].model_dump(mode="json", exclude_none=True),
                                                      "share": share}]})

    with _wh(db) as wh:
        t = time.perf_counter()
        prep = frontier.prepare(wh, shift)
        table = prep.table(0, shift)
        prepared = time.perf_counter() - t
        moves = [at(0.8 + k / 1000) for k in range(21)]
        t = time.perf_counter()
        first = table.lookup(moves[0], teams=True).scenario_cost_usd
        lookup = time.perf_counter() - t
        drag = []
        for sc in moves[1:]:
            t = time.perf_counter()
            table.lookup(sc, teams=True)
            drag.append((time.perf_counter() - t) * 1000)
        figures = {str(s): table.lookup(at(s)).scenario_cost_usd for s in CHECK_SHARES}
        t = time.perf_counter()
        point = frontier.cheapest_at_quality(wh, shift, 0)       # every count: the bucketed engine reads them all
        cheapest = time.perf_counter() - t
    return {"engine": type(prep).__name__, "prepare_seconds": prepared, "lookup_ms": lookup * 1000,
            "cheapest_seconds": cheapest, "cheapest_claimed": point.claimed if point else None,
            "drag_ms_median": sorted(drag)[len(drag) // 2], "drag_ms_max": max(drag), "scenario": first,
            "figures": figures, "rows": getattr(prep, "period_rows", None) or getattr(prep, "n_rows", None)}


OPS = {"gen": None, "plain": op_plain, "ingest": op_ingest, "lake": op_lake, "hand": op_hand, "replay": op_replay,
       "spend": op_spend, "prepare": op_prepare}


def _child(argv: list[str]) -> None:
    op = argv[0]
    cpu, t = _cpu(), time.perf_counter()
    if op == "gen":
        data, index, rows, first, days, seed = argv[1:]
        out = gen_slice(Path(data), int(index), int(rows), dt.date.fromisoformat(first), int(days), int(seed))
    else:
        out = OPS[op](Path(argv[1]), argv[2])
    out.update(seconds=time.perf_counter() - t, cpu_seconds=_cpu() - cpu, peak_rss_bytes=_peak_rss())
    print(json.dumps(out, default=str))


_env: dict[str, str] = {}


def run(*args: str) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **_env})
    if proc.returncode != 0:
        raise SystemExit(f"{args[0]} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# --- orchestration ----------------------------------------------------------------------------------------------
def make_data(data: Path, rows: int, worker: tuple[int, int] = (0, 1)) -> dict:
    n = max(12, math.ceil(rows / SLICE_ROWS))
    bounds = [i * YEAR // n for i in range(n + 1)]
    sizes = [rows // n + (1 if i < rows % n else 0) for i in range(n)]
    t, cpu, peak, total = time.perf_counter(), 0.0, 0, 0
    for i in range(n):
        if (data / f"litellm_spend_logs_{i:03d}.parquet").is_file() or i % worker[1] != worker[0]:
            continue    # written by a run that was stopped (generation resumes where it was), or another worker's
        r = run("gen", data, i, sizes[i], START + dt.timedelta(days=bounds[i]), bounds[i + 1] - bounds[i], 1000 + i)
        cpu, peak, total = cpu + r["cpu_seconds"], max(peak, r["peak_rss_bytes"]), total + r["rows"]
    size = sum(f.stat().st_size for f in data.glob("*.parquet"))
    return {"slices": n, "rows_generated_now": total, "bytes": size, "seconds": time.perf_counter() - t, "cpu_seconds": cpu,
            "peak_rss_bytes": peak}


def make_increment(tmp: Path, rows: int, day: dt.date | None = None) -> Path:
    """One day's file (by default the day after the year): the generator's 30 days squeezed into one, as Parquet.
    Another day gets its own folder and seed, so its ids and bytes are new to a ledger holding the first."""
    from cli import sample

    first = START + dt.timedelta(days=YEAR)
    day = day or first
    # days after the year keep the seeds earlier runs used (9 + days after it); a day inside the year gets one of
    # its own above them (9 + a negative count was refused by the generator)
    offset = (day - first).days
    seed = 9 + offset if offset >= 0 else 1_000_000 - offset
    folder = "increment" if day == first else f"increment-{day}"
    csv = sample.generate(tmp / "inc", rows, seed=seed, start=day, days=30)["litellm_spend_logs"]
    out = tmp / folder / f"litellm_spend_logs_{folder}.parquet"
    out.parent.mkdir(exist_ok=True)
    to_parquet(csv, out, day, 1)
    shutil.rmtree(tmp / "inc")
    return out


def _next_day(db: Path) -> dt.date:
    """The day after the last day in a kept ledger (read-only)."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    last = con.execute("select max(ts) from usage_raw").fetchone()[0]
    con.close()
    return last.date() + dt.timedelta(days=1)


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--increment", type=int, default=500_000)
    ap.add_argument("--memory-limit", help="DuckDB memory_limit for every operation (default: the app's setting)")
    ap.add_argument("--plain-memory-limit",
                    help="DuckDB memory_limit of the plain reads only (default: --memory-limit, else DuckDB's own "
                         "80 %% of RAM, which a 100 M-row read fills: 4.3 GB at 10 M on a shared machine)")
    ap.add_argument("--skip-prepare", action="store_true",
                    help="skip the per-row engine's frontier.prepare (~0.45 GB per 1 M rows); the bucketed one runs")
    ap.add_argument("--ledger", type=Path, help="only the prepare steps (both engines), on this existing ledger")
    ap.add_argument("--keep", type=Path, help="work in (and keep) this folder; data already there is reused")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--generate-only", action="store_true", help="with --keep: write the data, time nothing")
    ap.add_argument("--gen-worker", type=lambda v: tuple(map(int, v.split("/"))), default=(0, 1), metavar="K/N",
                    help="with --generate-only: write only slices i with i %% N == K (N such runs share the work)")
    ap.add_argument("--steps", type=lambda v: v.split(","), metavar="A,B,...",
                    help="run these steps in this order (default: ingest,plain,lake,increment,lake_incr,"
                         "plain_increment,hand,replay,preset,spend,prepare_per_row,prepare); `lake` before `increment` is the full "
                         "export, after it the incremental one")
    ap.add_argument("--resume", action="store_true",
                    help="with --keep: use the kept ledger (no plain read, no ingest) and a new day's increment")
    ap.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args.child)
        return 0
    if args.memory_limit:
        _env["MODELMIX_BENCH_MEMORY_LIMIT"] = args.memory_limit
    if args.plain_memory_limit:
        _env["MODELMIX_BENCH_PLAIN_MEMORY_LIMIT"] = args.plain_memory_limit
    if args.resume and not (args.keep and (args.keep / "ledger.duckdb").is_file()):
        ap.error("--resume needs --keep DIR holding a ledger.duckdb from an earlier run")
    known = {"ingest", "plain", "lake", "increment", "lake_incr", "plain_increment", "hand", "replay", "preset",
             "spend", "prepare_per_row", "prepare"}
    if args.steps and (bad := [s for s in args.steps if s not in known]):
        ap.error(f"unknown step(s) {', '.join(bad)}; the steps are {', '.join(sorted(known))}")
    if args.ledger:
        return prepare_only(args.ledger, args.skip_prepare, args.json)
    tmp = args.keep or Path(tempfile.mkdtemp(prefix="modelmix-scale-"))
    data = tmp / "slices"
    report: dict = {"rows": args.rows, "load_before": _load()}
    try:
        if len(list(data.glob("*.parquet"))) < max(12, math.ceil(args.rows / SLICE_ROWS)):
            data.mkdir(parents=True, exist_ok=True)
            report["data"] = make_data(data, args.rows, args.gen_worker)
            d = report["data"]
            print(f"generated {d['rows_generated_now']:,} rows (this run) in {d['slices']} Parquet slices, {d['bytes'] / 1e6:,.0f} MB, "
                  f"{d['seconds']:.0f} s (cpu {d['cpu_seconds']:.0f} s, peak {d['peak_rss_bytes'] / GB:.2f} GB) "
                  f"[load {_load()}]", flush=True)
        if args.generate_only and args.gen_worker[0] != 0:
            return 0    # worker 0 writes the increment
        db, plain_db = tmp / "ledger.duckdb", tmp / "plain.duckdb"
        if args.resume:
            inc = make_increment(tmp, args.increment, _next_day(db))
        else:
            inc = next((tmp / "increment").glob("*.parquet"), None) if (tmp / "increment").is_dir() else None
            inc = inc or make_increment(tmp, args.increment)
        if args.generate_only:
            return 0
        ops: dict[str, dict] = {}

        def step(name: str, *a) -> dict:
            ops[name] = r = run(*a)
            r["load"] = _load()
            if args.json:       # after every step, so a long run stopped part-way keeps what it measured
                args.json.write_text(json.dumps({**report, "ops": ops}, indent=2, default=str))
            print(f"  {name:<16} {r['seconds']:8.2f} s  cpu {r['cpu_seconds']:8.1f} s  "
                  f"peak {r['peak_rss_bytes'] / GB:5.2f} GB  [load {r['load']}]", flush=True)
            return r

        plain_db.unlink(missing_ok=True)
        if not args.resume:
            db.unlink(missing_ok=True)

        def plain(src: str) -> dict:
            try:
                return step("plain" if src == str(data / "*.parquet") else "plain_increment", "plain", plain_db, src)
            finally:
                plain_db.unlink(missing_ok=True)

        def lake() -> dict:
            # the full export, or, once the increment is in and a full export was made, the incremental one
            if "increment" in ops and "lake" in ops:
                return step("lake_incr", "lake", db, str(tmp / "lake"))
            shutil.rmtree(tmp / "lake", ignore_errors=True)
            return step("lake", "lake", db, str(tmp / "lake"))

        steps = {"ingest": lambda: step("ingest", "ingest", db, str(data)),
                 "plain": lambda: plain(str(data / "*.parquet")),
                 "lake": lake, "increment": lambda: step("increment", "ingest", db, str(inc)),
                 "lake_incr": lake, "plain_increment": lambda: plain(str(inc)),
                 "hand": lambda: step("hand", "hand", db, ""), "replay": lambda: step("replay", "replay", db, "shift"),
                 "preset": lambda: step("preset", "replay", db, "armstrong-80-99"),
                 "spend": lambda: step("spend", "spend", db, ""),
                 "prepare_per_row": lambda: step("prepare_per_row", "prepare", db, "per_row"),
                 "prepare": lambda: step("prepare", "prepare", db, "buckets")}
        order = args.steps or [k for k in steps if not (args.resume and k in ("ingest", "plain"))
                               and not (args.skip_prepare and k == "prepare_per_row")]
        for name in order:
            steps[name]()
        report.update(ops=ops, ledger_bytes=db.stat().st_size, load_after=_load())
        _print(report)
        if args.json:
            args.json.write_text(json.dumps(report, indent=2, default=str))
        return 0
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


def _note(note) -> str:
    try:
        return note() if callable(note) else note
    except KeyError as e:      # a ratio whose other step was not run (--steps, --resume)
        return f"(ratio: step {e} not run)"


def _prepare_note(o: dict) -> str:
    """Both engines' prepare, lookups and peak RSS, and whether their figures agree to the cent."""
    out = []
    for name in ("prepare_per_row", "prepare"):
        if name in o:
            p = o[name]
            out.append(f"{p['engine']}: prepare {p['prepare_seconds']:.1f} s, first lookup {p['lookup_ms']:.1f} ms, "
                       f"drag median {p['drag_ms_median']:.2f} ms (max {p['drag_ms_max']:.1f}), cheapest at 95% "
                       f"{p.get('cheapest_seconds', float('nan')):.1f} s, peak "
                       f"{p['peak_rss_bytes'] / GB:.2f} GB [load {p['load']}]")
    if "prepare_per_row" in o and "prepare" in o:
        a, b = o["prepare_per_row"]["figures"], o["prepare"]["figures"]
        worst = max(abs(a[k] - b[k]) for k in a)
        out.append(f"engines agree at {len(a)} shares: largest difference ${worst:.6f} "
                   f"({'met' if worst < 0.005 else 'MISSED'}: to the cent)")
    if "replay" in o and "prepare" in o:
        d = abs(o["replay"]["scenario"] - o["prepare"]["figures"]["0.8"])
        out.append(f"replay at share 0.8 ${o['replay']['scenario']:,.2f}, bucketed lookup differs by ${d:.6f}")
    return "; ".join(out)


def prepare_only(db: Path, skip_per_row: bool, json_out: Path | None) -> int:
    """The prepare steps alone, on an existing ledger (both engines in one run, each in its own process)."""
    ops: dict[str, dict] = {}
    for name, engine in (("prepare_per_row", "per_row"), ("prepare", "buckets")):
        if engine == "per_row" and skip_per_row:
            continue
        ops[name] = r = run("prepare", db, engine)
        r["load"] = _load()
        print(f"  {name:<16} {r['seconds']:8.2f} s  cpu {r['cpu_seconds']:8.1f} s  "
              f"peak {r['peak_rss_bytes'] / GB:5.2f} GB  [load {r['load']}]", flush=True)
    print(_prepare_note(ops))
    if json_out:
        json_out.write_text(json.dumps(ops, indent=2, default=str))
    return 0


def _print(r: dict) -> None:
    o = r["ops"]
    ok = lambda b: "met" if b else "MISSED"  # noqa: E731
    ratio = lambda a, b, k="seconds": o[a][k] / o[b][k]  # noqa: E731
    what = (f"{o['ingest']['rows']:,} request rows ({o['ingest']['files']} Parquet files)" if "ingest" in o
            else f"the kept ledger of {r['rows']:,} request rows (--resume: ingest and plain not run again)")
    print(f"\n{what}; ledger {r['ledger_bytes'] / 1e6:,.0f} MB; load average before {r['load_before']}, "
          f"after {r['load_after']}")
    print("| operation | seconds | CPU s | peak RSS | note | load (1/5/15 min, at its end) |\n"
          "|---|---:|---:|---:|---|---|")
    notes = {
        "plain": "read_parquet -> table", "ingest": lambda: f"ingest / plain {ratio('ingest', 'plain'):.2f}x wall, "
        f"{ratio('ingest', 'plain', 'cpu_seconds'):.2f}x cpu (<= 1.5x: {ok(ratio('ingest', 'plain', 'cpu_seconds') <= 1.5)})",
        "increment": lambda: f"{o['increment']['rows']:,} rows; / plain {ratio('increment', 'plain_increment'):.2f}x wall, "
        f"{ratio('increment', 'plain_increment', 'cpu_seconds'):.2f}x cpu "
        f"(<= 2x: {ok(ratio('increment', 'plain_increment', 'cpu_seconds') <= 2)})",
        "plain_increment": "read_parquet of the increment",
        "hand": lambda: f"baseline ${o['hand']['baseline']:,.2f} -> ${o['hand']['scenario']:,.2f}",
        "replay": lambda: f"/ hand {ratio('replay', 'hand'):.2f}x wall, {ratio('replay', 'hand', 'cpu_seconds'):.2f}x cpu "
        f"(<= 1.5x: {ok(ratio('replay', 'hand', 'cpu_seconds') <= 1.5)}); totals "
        + ("agree" if abs(o['replay']['scenario'] - o['hand']['scenario']) < 0.005
           and abs(o['replay']['baseline'] - o['hand']['baseline']) < 0.005 else "DIFFER"),
        "preset": "armstrong-80-99",
        "lake": lambda: f"modelmix lake export: {o['lake']['partitions']} partitions, {o['lake']['rows']:,} rows",
        "lake_incr": lambda: f"the export again after the increment: {o['lake_incr']['written']} partition(s) written, "
        f"{o['lake_incr']['rows']:,} rows",
        "spend": lambda: ", ".join(f"{k} {v['seconds']:.2f} s" for k, v in o["spend"].items()
                           if isinstance(v, dict)),
    }
    if "prepare" in o:
        notes["prepare"] = _prepare_note(o)
    if "prepare_per_row" in o:
        notes["prepare_per_row"] = "the per-row engine (before: arrays of every row), forced"
    for k, note in notes.items():
        if k not in o:
            continue
        s = o[k]
        print(f"| {k} | {s['seconds']:.2f} | {s['cpu_seconds']:.1f} | {s['peak_rss_bytes'] / GB:.2f} GB"
              f"{'' if s['peak_rss_bytes'] <= 4 * GB else ' (over 4 GB)'} | {_note(note)} "
              f"| {s['load']} |")


if __name__ == "__main__":
    raise SystemExit(main())
