"""Bench the replay: N synthetic request rows (default 2 M), one shift policy.

Prints a hand-written single-query replay of the same policy over the same rows (the relation the replay reads),
ModelMix's replay, both results (they must agree) and their ratio, in wall and CPU seconds (the two alternating,
best of 5 each; CPU is the process's, all DuckDB threads included, so it is less distorted by other load on a
shared machine); then the
armstrong-80-99 preset, a four-policy scenario, the one shift with a per-request shadow evaluation (10,000
graded requests on both models: the grade match and the replay's join), the what-if slider tables and the oracle
frontier over N graded requests (seconds, peak MB, ratio against one replay of the same run).
Usage: python bench/bench_simulate.py [N] [oracle] (`oracle`: only the replay and the oracle frontier; the whole
`modelmix simulate S --oracle --shadow FILE` in its own process: bench/bench_shadow.py --cli; not
bench/simulate.py: that name would shadow the package)
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

import simulate
import sql
from simulate import frontier, grade_keys, plan, replay, shadow
from simulate.scenario import RequestGrades
from warehouse import Warehouse
from warehouse.ledger import refresh_derived

FILL = """
insert into usage_raw
select
    timestamp '2025-01-01' + to_seconds(cast(i % (180 * 86400) as bigint)) as ts,
    'request', 'openai', m, m, 'acct', 'proj-' || (i % 20), null, null, 'team-' || (i % 7),
    case when i % 3 = 0 then 'chat' else 'extraction' end, 'chat', 'standard', 1,
    100 + (hash(i) % 4000), 0, 0, 10 + (hash(i + 1) % 600), 0, null, 'bench', 1,
    request_row_key('openai', 'req-' || i), cast(i % 50 as ubigint),
    -- conversations of 8 requests (migration 019's session_id), for the session unit and cache loss on a switch
    'conv-' || (i // 8),
    null    -- labels (migration 024)
from (select i, case when i % 4 = 0 then 'gpt-4o-mini' else 'gpt-4o' end as m from range($n) t(i))
"""

# the relation the replay reads its rows from (sql/simulate/replay_rows.sql: `usage_replay`, per provider and day
# the most detailed source, or its stored, priced copy): the hand-written query reads the same one
ROWS = re.search(r"\bfrom (\w+) as u\b", sql.load("simulate/replay_rows")).group(1)
# cached tokens are billed at the target's input price (it has no cache price), as the replay does
HAND = """
with u as (
    select *, coalesce(cost_usd, list_cost_usd) as c,
        input_tokens + cache_read_tokens + cache_write_tokens + output_tokens as tt
    from """ + ROWS + """
),
r as (
    select *, row_number() over (partition by model = 'gpt-4o' order by tt, ts) as rk,
        sum(case when model = 'gpt-4o' then 1 else 0 end) over () as n
    from u
)
select sum(c) as baseline,
    sum(case when model = 'gpt-4o' and rk <= floor(0.8 * n)
             then ((input_tokens + cache_read_tokens + cache_write_tokens) * 0.15 + output_tokens * 0.6) / 1e6
             else c end) as scenario
from r
"""


def timed(fn, repeat: int = 3, clear: bool = True):
    """(best wall seconds, the result); `timed.cpu` = process CPU seconds of that best run. `clear`: empty the
    replay and prepare caches first (time the work, not the memo)."""
    best, out = float("inf"), None
    for _ in range(repeat):
        if clear:
            replay.RUNS.clear()              # time the replay itself, not the result cache (simulate/memo.py)
            frontier.PREPARED.clear()
        t, c = time.perf_counter(), time.process_time()
        out = fn()
        wall = time.perf_counter() - t
        if wall < best:
            best, timed.cpu = wall, time.process_time() - c
    return best, out


timed.cpu = 0.0


def alternate(*fns, repeat: int = 5) -> list[tuple[float, float, object]]:
    """Each of `fns` run `repeat` times in turn (a, b, a, b, …), the replay's result cache emptied before each:
    per fn (best wall s, best CPU s, its last result)."""
    best = [[float("inf"), float("inf"), None] for _ in fns]
    for _ in range(repeat):
        for fn, b in zip(fns, best, strict=True):
            replay.RUNS.clear()
            t, c = time.perf_counter(), time.process_time()
            b[2] = fn()
            b[0] = min(b[0], time.perf_counter() - t)
            b[1] = min(b[1], time.process_time() - c)
    return [tuple(b) for b in best]


def main(n: int, only: str | None = None) -> None:
    with tempfile.TemporaryDirectory() as tmp, Warehouse(Path(tmp) / "bench.duckdb") as wh:
        t = time.perf_counter()
        wh.write(lambda cur: cur.execute(FILL, {"n": n}))
        # the replay reads usage_replay, which joins each row's ingest_log entry (source_choice)
        wh.write(lambda cur: cur.execute("insert into ingest_log (ingest_id, file_name, format, source_kind, status) "
                                         "values (1, 'bench', 'bench', 'telemetry', 'loaded')"))
        wh.write(refresh_derived)
        print(f"{n:,} request rows generated in {time.perf_counter() - t:.1f} s")
        shift = simulate.parse_scenario({"name": "bench", "policies": [
            {"kind": "shift", "match": {"models": ["gpt-4o"]}, "share": 0.8,
             "to": {"model": "cheap", "prices": {"input": 0.15, "output": 0.6}}}]})
        if only == "oracle":
            oracle(wh, shift, n, Path(tmp))
            return
        # alternating, best of 5 each (wall and CPU separately: one slow run of either under load moves neither)
        (hand_s, hand_cpu, hand), (ours_s, ours_cpu, ours) = alternate(lambda: wh.sql(HAND),
                                                                       lambda: simulate.run(wh, shift))
        hb, hs = float(hand["baseline"][0]), float(hand["scenario"][0])
        print(f"hand-written single query   {hand_s:.3f} s  cpu {hand_cpu:.2f} s  "
              f"(baseline ${hb:,.2f}, scenario ${hs:,.2f}; reads {ROWS}, as the replay)")
        print(f"simulate.run (one shift)    {ours_s:.3f} s  cpu {ours_cpu:.2f} s  "
              f"(baseline ${ours.baseline_cost_usd:,.2f}, scenario ${ours.scenario_cost_usd:,.2f})")
        same = abs(hb - ours.baseline_cost_usd) < 0.005 and abs(hs - ours.scenario_cost_usd) < 0.005
        print(f"ratio                       {ours_s / hand_s:.2f}x wall, {ours_cpu / hand_cpu:.2f}x cpu  "
              f"(target <= 1.5x); totals {'agree' if same else 'DIFFER'}; load {os.getloadavg()[0]:.1f}")
        arm_s, _ = timed(lambda: simulate.run(wh, simulate.load_scenario("armstrong-80-99")))
        print(f"armstrong-80-99 preset      {arm_s:.3f} s  cpu {timed.cpu:.2f} s")
        four = simulate.parse_scenario({"name": "four", "policies": [
            {"kind": "shift", "share": 0.5, "to": {"model": "gpt-4o-mini"}},
            {"kind": "cascade", "first": {"model": "gpt-4.1-nano"}, "escalation_rate": 0.2,
             "match": {"workloads": ["chat"]}},
            {"kind": "batch", "share": 0.3},
            {"kind": "cache", "hit_rate": 0.5}]})
        four_s, _ = timed(lambda: simulate.run(wh, four))
        print(f"four policies               {four_s:.3f} s  cpu {timed.cpu:.2f} s")
        sample = [(i, m) for i in range(1, n, max(n // 10_000, 1)) for m in ("gpt-4o", "cheap")]  # odd i: gpt-4o
        graded = shadow.with_shadow(shift, RequestGrades(
            request_id=[f"req-{i}" for i, _ in sample], provider=["openai"] * len(sample),
            model=[m for _, m in sample], score=[0.5 + (i % 7) / 20 for i, _ in sample]))
        graded_s, graded_r = timed(lambda: simulate.run(wh, graded))
        print(f"one shift + request grades  {graded_s:.3f} s  cpu {timed.cpu:.2f} s  "
              f"({graded_r.quality_basis['matched_requests']:,} graded rows, "
              f"{graded_r.quality_basis['measured_requests']:,.0f} requests measured; "
              f"{graded_s / ours_s:.2f}x the shift without)")
        sliders.replay_cpu = ours_cpu
        sliders(wh, shift, ours_s, ours)
        oracle(wh, shift, n, Path(tmp))


def sliders(wh, shift, replay_s: float, replayed) -> None:
    """The what-if slider path (simulate/frontier.py): prepare once, then a share move is a lookup."""
    t = time.perf_counter()
    prep = frontier.prepare(wh, shift)
    table = prep.table(0, shift)
    prepare_s = time.perf_counter() - t
    moves = [shift.model_copy(update={"policies": [p.model_copy(update={"share": s / 200})
                                                   for p in shift.policies]}) for s in range(201)]
    t = time.perf_counter()
    for sc in moves:
        table.lookup(sc)
    lookup_ms = (time.perf_counter() - t) / len(moves) * 1000
    t = time.perf_counter()
    for sc in moves[::20]:
        table.lookup(sc, teams=True)
    teams_ms = (time.perf_counter() - t) / len(moves[::20]) * 1000
    t = time.perf_counter()
    for sc in moves[::40]:
        prep.evaluate(sc)
    arrays_ms = (time.perf_counter() - t) / len(moves[::40]) * 1000
    grid = [i / 20 for i in range(21)]
    # on the prepared tables (what the What-if page pays after its first render), then from nothing (what the
    # CLI's --sweep pays: prepare + cumulative table + sweep; the bench used to time only this, as "prepared")
    frontier.sweep(wh, shift, 0, grid)
    sweep_s, _ = timed(lambda: frontier.sweep(wh, shift, 0, grid), clear=False)
    first_s, _ = timed(lambda: frontier.sweep(wh, shift, 0, grid))
    first_cpu = timed.cpu
    check = table.lookup(moves[160]).scenario_cost_usd         # share 0.8, as the replay above
    print(f"slider tables: prepare once {prepare_s:.3f} s; lookup per move {lookup_ms:.3f} ms "
          f"(with per-team table {teams_ms:.1f} ms; full array evaluation {arrays_ms:.1f} ms)")
    print(f"21-point frontier sweep     {sweep_s * 1000:.1f} ms (prepared)")
    print(f"sweep with its prepare      {first_s:.3f} s  cpu {first_cpu:.2f} s = {first_s / replay_s:.2f}x one replay "
          f"wall, {first_cpu / sliders.replay_cpu:.2f}x cpu (target <= 3x)")
    print(f"full replay / slider lookup {replay_s * 1000 / lookup_ms:,.0f}x  ({replay_s:.2f} s vs {lookup_ms:.3f} ms)"
          f"; lookup at 0.8 = ${check:,.2f} vs replay ${replayed.scenario_cost_usd:,.2f}")


def _peak_reset() -> None:
    """Start a new peak-RSS window (Linux: writing 5 to clear_refs resets VmHWM to the current RSS)."""
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _peak_mb() -> float:
    """The process's peak RSS since the last `_peak_reset` (VmHWM), in MB."""
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:")) / 1024


def _step(fn):
    """(wall s, cpu s, peak RSS MB, result) of one call."""
    _peak_reset()
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - t, time.process_time() - c, _peak_mb(), out


def oracle(wh, shift, n: int, tmp: Path) -> None:
    """The oracle frontier over n graded requests (every request graded on its own model and on the target: 2n
    grades), against one replay of the same shift in the same run: `frontier.router_report` from nothing (what
    `modelmix simulate S --oracle` pays: keying the grades, the slider tables' prepare, which joins them, and the
    report), again with the grades already keyed (a What-if upload is keyed once, then matched at each prepare),
    and on the prepared tables (what the What-if page pays after its first render); then from the grade file (its
    CSV read by simulate.shadow, then the frontier from nothing). Each step: wall and CPU seconds (CPU is the
    process's, DuckDB's threads included: less distorted by a shared machine's load), the peak RSS during the step
    (VmHWM, reset before it), and the load average after. The grade file is written to `tmp`."""
    import numpy as np
    import polars as pl

    i = np.arange(n)
    ids = pl.Series([f"req-{k}" for k in range(n)])
    # columns as simulate.shadow's reader hands them over (polars Series, not Python lists)
    grades = RequestGrades.model_construct(
        request_id=pl.concat([ids, ids]), provider=pl.Series(["openai"] * (2 * n)),
        model=pl.Series(np.where(i % 4 == 0, "gpt-4o-mini", "gpt-4o").tolist() + ["cheap"] * n),
        score=pl.Series(np.concatenate([0.5 + (i % 7) / 20, 0.3 + (i % 11) / 15])), source="bench")
    graded = shift.model_copy(update={"assumptions": shift.assumptions.model_copy(update={"request_grades": grades})})
    replay.RUNS.clear()
    frontier.PREPARED.clear()
    grade_keys.clear()
    rep_s, rep_cpu, rep_mb, _ = _step(lambda: simulate.run(wh, shift))
    load = os.getloadavg()[0]
    print(f"one replay (the shift, no grades)       {rep_s:7.2f} s  cpu {rep_cpu:6.2f} s  peak {rep_mb:6,.0f} MB  "
          f"load {load:.1f}")
    key_s, key_cpu, key_mb, _ = _step(lambda: grade_keys.keyed(wh, grades))
    print(f"grades keyed, {2 * n:,} grades".ljust(40) + f"{key_s:7.2f} s  cpu {key_cpu:6.2f} s  peak {key_mb:6,.0f} MB  "
          "(once per set of grades)")
    match_s, match_cpu, match_mb, match = _step(lambda: plan.match_request_grades(wh, graded, target_ids=["cheap"]))
    print("grade match, grades keyed".ljust(40) + f"{match_s:7.2f} s  cpu {match_cpu:6.2f} s  peak {match_mb:6,.0f} MB  "
          f"({match.matched_requests:,} matched; the replay's match: the prepare below joins the keyed grades "
          "itself)")
    frontier.PREPARED.clear()
    grade_keys.clear()
    cold_s, cold_cpu, cold_mb, rep = _step(lambda: frontier.router_report(wh, graded, 0))
    load = os.getloadavg()[0]
    print(f"oracle frontier from nothing            {cold_s:7.2f} s  cpu {cold_cpu:6.2f} s  peak {cold_mb:6,.0f} MB  "
          f"= {cold_s / rep_s:.1f}x one replay wall, {cold_cpu / rep_cpu:.1f}x cpu  load {load:.1f}")
    frontier.PREPARED.clear()
    kept_s, kept_cpu, kept_mb, rep = _step(lambda: frontier.router_report(wh, graded, 0))
    load = os.getloadavg()[0]
    print(f"  the same, the grades already keyed    {kept_s:7.2f} s  cpu {kept_cpu:6.2f} s  peak {kept_mb:6,.0f} MB  "
          f"= {kept_s / rep_s:.1f}x one replay wall, {kept_cpu / rep_cpu:.1f}x cpu  load {load:.1f}")
    warm_s, warm_cpu, warm_mb, rep = _step(lambda: frontier.router_report(wh, graded, 0))
    load = os.getloadavg()[0]
    m = rep.metrics
    print(f"oracle frontier on prepared tables      {warm_s:7.2f} s  cpu {warm_cpu:6.2f} s  peak {warm_mb:6,.0f} MB  "
          f"= {warm_s / rep_s:.2f}x one replay wall, {warm_cpu / rep_cpu:.2f}x cpu (target <= 2 s)  load {load:.1f}")
    print(f"  {n:,} graded requests, {frontier.prepare(wh, graded).grades.matched_requests:,} measured; "
          f"{len(rep.oracle.moved) - 1:,} moved counts per curve; APGR policy {m['policy']['apgr']:.3f}, oracle "
          f"{m['oracle']['apgr']:.3f}, random {m['random']['apgr']:.3f}")
    # the user's path: the grade file (CSV) read, then the frontier from nothing
    pl.DataFrame({"request_id": grades.request_id, "model": grades.model, "score": grades.score,
                  "provider": grades.provider}).write_csv(tmp / "grades.csv")
    frontier.PREPARED.clear()
    grade_keys.clear()
    read_s, read_cpu, read_mb, read = _step(lambda: shadow.load(tmp / "grades.csv"))
    print(f"the grade file read ({read.request_id.len():,} grades)".ljust(40)
          + f"{read_s:7.2f} s  cpu {read_cpu:6.2f} s  peak {read_mb:6,.0f} MB")
    file_s, file_cpu, file_mb, rep = _step(lambda: frontier.router_report(wh, shadow.with_shadow(shift, read), 0))
    load = os.getloadavg()[0]
    print("  then the frontier from nothing".ljust(40) + f"{file_s:7.2f} s  cpu {file_cpu:6.2f} s  peak "
          f"{file_mb:6,.0f} MB; from the file {read_s + file_s:.2f} s, cpu {read_cpu + file_cpu:.2f} s  load "
          f"{load:.1f}; APGR oracle {rep.metrics['oracle']['apgr']:.6f}")


if __name__ == "__main__":
    # `python bench/bench_simulate.py N [oracle]`: everything, or only the oracle frontier over N graded requests
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000, sys.argv[2] if len(sys.argv) > 2 else None)
