"""Bench reading a per-request shadow-evaluation file: N requests graded on their own model and on a target (2N
grades, default N = 1 M), as `modelmix simulate S --oracle --shadow FILE` reads it before the oracle starts.

In one process, alternating (so both sides share the machine's load): `shadow.load` (the file to columns, every
check), `with_shadow` (the grades into the scenario) and the grades' fingerprint (`RequestGrades.digest`, the
slider tables' cache key, which reads each column's buffers), for this tree's simulate/shadow.py and, with
`--before FILE`, an earlier one (e.g. `git show 76cb3bb:simulate/shadow.py > /tmp/old_shadow.py`). Each step: wall
and process CPU seconds (all threads), and the load average. With `--cli TREE...`: the whole command, from nothing,
on a bench ledger of N request rows (bench/bench_simulate.py's), once per source tree (PYTHONPATH), alternating;
CPU is the child's user + system.

With `--router`: a router-score file of N requests instead (request_id, score, router, provider), timing
`router.load` and `router.scores_data` and the scenario validating them (`assumptions.router_scores`), for this
tree's simulate/router.py and, with `--before FILE`, an earlier one.

Usage: python bench/bench_shadow.py [N] [--before OLD_PY] [--router] [--cli TREE [TREE ...]] [--cli-only] [--repeat R]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl

import simulate
from simulate import router, shadow


def write_grades(path: Path, n: int) -> None:
    """Request k (id req-k, openai) graded on its logged model (gpt-4o-mini when k % 4 == 0, else gpt-4o: the
    bench ledger's) and on `cheap`."""
    i = np.arange(n)
    ids = pl.Series([f"req-{k}" for k in range(n)])
    pl.DataFrame({
        "request_id": pl.concat([ids, ids]),
        "model": np.concatenate([np.where(i % 4 == 0, "gpt-4o-mini", "gpt-4o"), np.full(n, "cheap")]),
        "score": np.concatenate([0.5 + (i % 7) / 20, 0.3 + (i % 11) / 15]),
        "provider": ["openai"] * (2 * n)}).write_csv(path)


def write_scores(path: Path, n: int) -> None:
    """Request k (id req-k, openai) scored by one router."""
    i = np.arange(n)
    pl.DataFrame({"request_id": [f"req-{k}" for k in range(n)], "score": (i * 7919 % 1000) / 1000,
                  "router": "routellm-mf", "provider": "openai"}).write_csv(path)


def routers(path: Path, modules: dict, repeat: int) -> None:
    base = {"name": "bench", "policies": [{"kind": "shift", "share": 0.5, "pick": "score", "to": {"model": "cheap",
                                           "prices": {"input": 0.15, "output": 0.6}}}]}
    for r in range(repeat):
        for label, module in modules.items():
            load_s, load_cpu, rows = step(lambda m=module: m.load(path))
            data_s, data_cpu, data = step(lambda m=module, x=rows: m.scores_data(x))
            val_s, val_cpu, _ = step(lambda d=data: simulate.parse_scenario({**base, "assumptions": {"router_scores": d}}))
            print(f"run {r + 1} {label:7s} load {load_s:6.2f} s cpu {load_cpu:6.2f} | scores_data {data_s:5.2f} s cpu "
                  f"{data_cpu:5.2f} | scenario {val_s:5.2f} s cpu {val_cpu:5.2f} | cpu total "
                  f"{load_cpu + data_cpu + val_cpu:6.2f} s  load {os.getloadavg()[0]:.1f}", flush=True)
            del rows, data


def step(fn):
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, out


def in_process(path: Path, modules: dict, repeat: int) -> None:
    scenario = simulate.parse_scenario({"name": "bench", "policies": [
        {"kind": "shift", "match": {"models": ["gpt-4o"]}, "share": 0.8,
         "to": {"model": "cheap", "prices": {"input": 0.15, "output": 0.6}}}]})
    for r in range(repeat):
        for label, module in modules.items():
            load_s, load_cpu, grades = step(lambda m=module: m.load(path))
            with_s, with_cpu, sc = step(lambda m=module, g=grades: m.with_shadow(scenario, g))
            dig_s, dig_cpu, _ = step(sc.assumptions.request_grades.digest)
            total = load_cpu + with_cpu + dig_cpu
            print(f"run {r + 1} {label:7s} load {load_s:6.2f} s cpu {load_cpu:6.2f} | with_shadow {with_s:6.2f} s "
                  f"cpu {with_cpu:5.2f} | digest {dig_s:5.2f} s cpu {dig_cpu:4.2f} | cpu total {total:6.2f} s  "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
            del grades, sc


def cli(path: Path, n: int, trees: list[str], repeat: int) -> None:
    from bench.bench_simulate import FILL
    from warehouse import Warehouse
    from warehouse.ledger import refresh_derived

    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        db = Path(tmp) / "bench.duckdb"
        with Warehouse(db) as wh:
            wh.write(lambda cur: cur.execute(FILL, {"n": n}))
            wh.write(lambda cur: cur.execute("insert into ingest_log (ingest_id, file_name, format, source_kind, "
                                             "status) values (1, 'bench', 'bench', 'telemetry', 'loaded')"))
            wh.write(refresh_derived)
        scenario = Path(tmp) / "s.yaml"
        scenario.write_text("name: bench\npolicies:\n  - {kind: shift, match: {models: [gpt-4o]}, share: 0.8, "
                            "to: {model: cheap, prices: {input: 0.15, output: 0.6}}}\n")
        for r in range(repeat):
            for tree in trees:
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                t = time.perf_counter()
                p = subprocess.run([sys.executable, "-m", "modelmix", "simulate", str(scenario), "--db", str(db),
                                    "--oracle", "--shadow", str(path)], capture_output=True, text=True,
                                   cwd=tree, env={**os.environ, "PYTHONPATH": tree})   # -m imports from cwd
                wall = time.perf_counter() - t
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
                apgr = next((line.strip() for line in p.stdout.splitlines() if "oracle  apgr" in line), p.stderr[-300:])
                print(f"run {r + 1} cli {tree}: {wall:6.2f} s  cpu {cpu:6.2f} s  exit {p.returncode}  "
                      f"load {os.getloadavg()[0]:.1f}  | {apgr}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", nargs="?", type=int, default=1_000_000, help="graded requests (2 grades each)")
    ap.add_argument("--before", metavar="FILE", help="an earlier simulate/shadow.py (router.py with --router) to "
                    "compare in the same process")
    ap.add_argument("--router", action="store_true", help="a router-score file instead of grades")
    ap.add_argument("--cli", nargs="+", metavar="TREE", help="source trees to run the whole command from")
    ap.add_argument("--cli-only", action="store_true", help="skip the in-process steps")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--dir", default=tempfile.gettempdir(), help="where the grades file and ledger go")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(dir=args.dir, prefix="bench_shadow_"))
    path = work / ("scores.csv" if args.router else "grades.csv")
    (write_scores if args.router else write_grades)(path, args.n)
    what = f"{args.n:,} router scores" if args.router else f"{2 * args.n:,} grades ({args.n:,} requests x 2 models)"
    print(f"{what}, {path.stat().st_size / 1e6:.0f} MB  load {os.getloadavg()[0]:.1f}", flush=True)
    modules = {}
    if args.before:
        spec = importlib.util.spec_from_file_location("shadow_before", args.before)
        modules["before"] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(modules["before"])
    modules["after"] = router if args.router else shadow
    try:
        if args.router:
            routers(path, modules, args.repeat)
        elif not args.cli_only:
            in_process(path, modules, args.repeat)
        if args.cli:
            cli(path, args.n, args.cli, args.repeat)
    finally:
        path.unlink()
        work.rmdir()


if __name__ == "__main__":
    main()
