"""Bench the dashboard server-side: each page's first render and a What-if slider move, on N request rows.

Generates N rows with `cli.sample.generate` into a temporary folder and ingests them once (untimed), then,
in-process with Streamlit's AppTest (no browser: server-side time only):

- one warm-up run of the app (imports, opening the ledger, the sidebar's date query);
- per page registered in dashboard/app.py: the wall time of its first render, with the result caches cleared
  before it (`st.cache_data`; the open ledger in `st.cache_resource` stays), so no page profits from another:
  once cold (no background warm-up, the simulator's replay caches emptied before each page), and once as served
  (the ledger reopened with `MODELMIX_WARM_UP` on; the background warm-up's time is printed, then the pages);
- What-if: moving the first slider (the share moved) to 5 values, each rerun timed: the rerun of the page's
  `st.fragment` that holds the sliders (what a browser requests on a move: AppTest itself always reruns the whole
  script, so the bench adds the fragment's id to its rerun request), then the page's whole rerun for comparison,
  and the service that move calls (`services.whatif.outcome` on the prepared tables) alone.

AppTest is run as a server runs after its first navigation (see `as_after_navigation`).

With `--db LEDGER` an existing ledger is read instead (nothing generated; opening it may apply migrations, timed
apart); `--range year` opens every page over the ledger's whole span instead of the sidebar's default; `--pages`
times only some pages (titles or files, comma-separated); `--cold-only` skips the as-served pass and the slider.
Each first render prints its wall time, the process's CPU seconds over it (DuckDB's threads included) and the load
average after it: on a shared machine the wall time is mostly waiting for a core.

Targets (docs/benchmarks.md, "Dashboard"): first render <= 1 s, slider move <= 100 ms.
Usage: python bench/dashboard.py [--rows 5000000 | --db LEDGER] [--range default|year] [--pages P,...] [--cold-only]
       [--timeout 600]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import functools
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
sys.path.insert(0, str(ROOT))


def flag(seconds: float, target: float) -> str:
    return "ok" if seconds <= target else "OVER"


def cpu_seconds() -> float:
    """User + system CPU of this process, every thread (DuckDB's included)."""
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_utime + u.ru_stime


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def page_titles() -> dict[str, str]:
    """file -> title of every page registered in dashboard/app.py."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    out = {}
    for n in ast.walk(tree):
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "Page" and n.args:
            title = next((k.value.value for k in n.keywords if k.arg == "title"), n.args[0].value)
            out[n.args[0].value] = title
    return out


def chosen_pages(wanted: str | None) -> list[str]:
    """The registered pages named in `wanted` (titles or files, comma-separated; none: every page)."""
    titles = page_titles()
    if not wanted:
        return list(titles)
    out = []
    for w in (x.strip() for x in wanted.split(",")):
        hit = [f for f, t in titles.items() if w in (f, t, Path(f).stem)]
        if not hit:
            raise SystemExit(f"no page {w!r}; the pages are {', '.join(titles.values())}")
        out += hit
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000, help="request rows to generate (default 5,000,000)")
    parser.add_argument("--db", type=Path, help="time the pages on this existing ledger (nothing generated)")
    parser.add_argument("--range", choices=("default", "year"), default="default",
                        help="the sidebar's default range, or the ledger's whole span (default: default)")
    parser.add_argument("--pages", help="only these pages (titles or files, comma-separated)")
    parser.add_argument("--cold-only", action="store_true", help="only the cold first renders")
    parser.add_argument("--queries", type=int, default=0, metavar="N",
                        help="also print each page's N slowest statements (file or calling line, wall and CPU s)")
    parser.add_argument("--timeout", type=float, default=600, help="AppTest timeout per run, seconds")
    args = parser.parse_args()
    pages = chosen_pages(args.pages)

    os.environ.setdefault("STREAMLIT_LOGGER_LEVEL", "error")    # no "No runtime found" lines between figures
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard.state import DATE_WIDGET_KEY
    from warehouse import Warehouse

    as_after_navigation()
    if args.queries:
        time_statements()

    with tempfile.TemporaryDirectory(prefix="modelmix-bench-dash-") as tmp:
        tmp = Path(tmp)
        if args.db:
            t, cpu = time.perf_counter(), cpu_seconds()
            with Warehouse(args.db) as wh:      # migrations and one-time rollup builds, if any, happen here
                usage_rows = wh.scalar("select count(*) from usage_raw")
            print(f"opened {args.db} ({usage_rows:,} ledger rows) in {time.perf_counter() - t:.1f} s, "
                  f"cpu {cpu_seconds() - cpu:.1f} s (untimed) [load {load()}]", flush=True)
            os.environ["MODELMIX_DB"] = str(args.db)
        else:
            generate(tmp, args.rows)
            os.environ["MODELMIX_DB"] = str(tmp / "bench.duckdb")
        os.environ["MODELMIX_JOBS_FILE"] = str(tmp / "jobs.yaml")   # none: the Sources page's empty state
        whole_year = whole_span() if args.range == "year" else None

        from dashboard.services import warmup
        from simulate import frontier, replay, team_costs

        def first_renders(label: str) -> dict[str, float]:
            out = {}
            for page in pages:
                at = AppTest.from_file(str(APP), default_timeout=args.timeout)
                if whole_year:
                    at.session_state[DATE_WIDGET_KEY] = whole_year
                at.run()    # the router (default page)
                st.cache_data.clear()
                STATEMENTS.clear()
                t, cpu = time.perf_counter(), cpu_seconds()
                at.switch_page(page).run()
                out[page] = time.perf_counter() - t
                print(f"  {label} {page:<28} {out[page]:7.2f} s  cpu {cpu_seconds() - cpu:6.2f} s  [load {load()}]",
                      flush=True)
                for name, wall, used in sorted(STATEMENTS, key=lambda s: -s[2])[:args.queries]:
                    print(f"      {name:<48} {wall:7.3f} s  cpu {used:6.3f} s", flush=True)
                assert not at.exception, (page, [e.value for e in at.exception])
            return out

        # cold: no background warm-up, the simulator's caches emptied before each page
        os.environ["MODELMIX_WARM_UP"] = "false"
        t = time.perf_counter()
        warm = AppTest.from_file(str(APP), default_timeout=args.timeout).run()
        assert not warm.exception, [e.value for e in warm.exception]
        print(f"warm-up (app + Overview, cold imports and caches): {time.perf_counter() - t:.2f} s\n", flush=True)
        plain = AppTest.run

        def cold_run(self, *a, **k):
            replay.RUNS.clear()
            frontier.PREPARED.clear()
            team_costs.TOTALS.clear()
            return plain(self, *a, **k)

        AppTest.run = cold_run
        cold = first_renders("cold")
        AppTest.run = plain
        if args.cold_only:
            print(f"\n{'page':<28} {'cold':>8}  target 1 s (What-if: 2 s)")
            for page in pages:
                print(f"{page:<28} {cold[page]:>6.2f} s  {flag(cold[page], 2.0 if 'whatif' in page else 1.0)}")
            return

        # as served: the ledger reopened with the warm-up on; it runs in the background, then pages are opened
        st.cache_resource.clear()
        replay.RUNS.clear()
        frontier.PREPARED.clear()
        team_costs.TOTALS.clear()
        os.environ["MODELMIX_WARM_UP"] = "true"
        AppTest.from_file(str(APP), default_timeout=args.timeout).run()
        warmer = warmup.running(os.environ["MODELMIX_DB"])
        t = time.perf_counter()
        assert warmer is not None and warmer.idle.wait(args.timeout)
        jobs = ", ".join(f"{p} {s:.2f} s" for p, s in warmer.last_run)
        print(f"background warm-up after opening the ledger: {time.perf_counter() - t:.2f} s more ({jobs})\n")
        served = first_renders("served")

        print(f"{'page':<28} {'cold':>8} {'after warm-up':>14}  target 1 s")
        for page in pages:
            print(f"{page:<28} {cold[page]:>6.2f} s {served[page]:>12.2f} s  {flag(served[page], 1.0)}", flush=True)

        # What-if slider: the fragment's rerun per move (what the browser asks for), the whole page's rerun for
        # comparison, then the service alone
        at = AppTest.from_file(str(APP), default_timeout=args.timeout).run()
        at.switch_page("views/whatif.py").run()
        slider = at.slider[0]
        lo, hi = slider.min, slider.max
        fragment_ids = list(at._fragment_storage._fragments)    # registered by the last full run
        print()
        for scope, label in ((fragment_ids, "fragment rerun (what a move costs)"), ([], "whole page rerun")):
            moves = []
            for frac in (0.5, 0.6, 0.7, 0.4, 0.3):
                value = lo + (hi - lo) * frac
                at.slider(key=slider.key).set_value(value)
                with rerun_scope(scope):
                    t = time.perf_counter()
                    at.run()
                    moves.append(time.perf_counter() - t)
                assert not at.exception, [e.value for e in at.exception]
                assert at.slider(key=slider.key).value == value
            target = f"target 100 ms {flag(statistics.median(moves), 0.1)}" if scope else ""
            print(f"What-if slider move ({slider.label[:40]}…), {label}: median "
                  f"{statistics.median(moves) * 1000:.0f} ms (min {min(moves) * 1000:.0f}, max "
                  f"{max(moves) * 1000:.0f}) {target}", flush=True)
        service = bench_service(st)
        print(f"What-if slider move, service only (whatif.outcome on the prepared tables): median "
              f"{statistics.median(service) * 1000:.1f} ms (max {max(service) * 1000:.1f})")
        st.cache_data.clear()
        st.cache_resource.clear()


STATEMENTS: list[tuple[str, float, float]] = []     # (file or calling line, wall s, process CPU s) per statement


def time_statements() -> None:
    """Record every `Warehouse.sql` statement (named queries and SQL written in Python) with its wall and CPU
    seconds, in STATEMENTS."""
    import sql
    from warehouse import db

    plain = db.Warehouse.sql

    def timed(self, text, *a, **k):
        t, cpu = time.perf_counter(), cpu_seconds()
        try:
            return plain(self, text, *a, **k)
        finally:
            STATEMENTS.append((sql.origin(text) or text.strip().splitlines()[0][:48], time.perf_counter() - t,
                               cpu_seconds() - cpu))

    db.Warehouse.sql = timed


def generate(tmp: Path, rows: int) -> None:
    """`rows` request rows from `cli.sample.generate`, ingested into tmp/bench.duckdb (untimed)."""
    from cli import sample
    from ingest import ingest_paths
    from warehouse import Warehouse

    t = time.perf_counter()
    sample.generate(tmp / "data", rows)
    print(f"generated {rows:,} request rows in {time.perf_counter() - t:.1f} s (untimed)", flush=True)
    t = time.perf_counter()
    with Warehouse(tmp / "bench.duckdb") as wh:
        results = ingest_paths(wh, [tmp / "data"])
        usage_rows = wh.scalar("select count(*) from usage_raw")
    bad = [r for r in results if r.status == "rejected"]
    assert not bad, bad
    print(f"ingested {usage_rows:,} ledger rows from {len(results)} files in {time.perf_counter() - t:.1f} s "
          f"(untimed)", flush=True)


def whole_span() -> tuple:
    """The ledger's first and last day with usage (MODELMIX_DB), read as the sidebar reads them."""
    from dashboard.services import ledger
    from warehouse import Warehouse

    with Warehouse(os.environ["MODELMIX_DB"]) as wh:
        return ledger.date_bounds(wh.query)


def as_after_navigation() -> None:
    """Run AppTest in the multipage mode a server is in once any session has run `st.navigation`.

    Streamlit keeps "this app uses a pages/ folder" in a process-wide flag that the first `st.navigation` turns
    off for good; AppTest resets it before every run, and dashboard/ has a pages/ folder, so each AppTest run
    starts in the file-based mode the server left long ago. The sign-in code (`dashboard.auth`) leaves that mode
    with `st.rerun()`, which would add a second pass of app.py to every timed run and turn every fragment rerun
    into a whole-app rerun: not what a user's request costs on a running server."""
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import app_test

    class AfterNavigation(PagesManager):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            PagesManager.uses_pages_directory = False

    app_test.PagesManager = AfterNavigation


@contextlib.contextmanager
def rerun_scope(fragment_ids: list[str]):
    """Scope `AppTest.run()` to `fragment_ids` (none: the whole script). A browser's rerun request for a widget
    inside an `st.fragment` carries the fragment's id, so only that function reruns; AppTest (Streamlit 1.67)
    always sends none, so this adds them to the rerun request it builds."""
    if not fragment_ids:
        yield
        return
    from streamlit.testing.v1 import local_script_runner

    plain = local_script_runner.RerunData
    local_script_runner.RerunData = functools.partial(plain, fragment_id_queue=fragment_ids)
    try:
        yield
    finally:
        local_script_runner.RerunData = plain


def bench_service(st) -> list[float]:
    """`services.whatif.outcome` for share moves of the page's default preset, after its first (preparing) call."""
    import simulate
    from dashboard import state
    from dashboard.services import ledger
    from dashboard.services import whatif as svc

    wh = state.warehouse()
    first, last = ledger.date_bounds(wh.query)
    start, end = ledger.default_range(first, last)
    name = [n for n in simulate.presets() if n != "baseline"][0]
    scenario = svc.with_period(simulate.load_scenario(name), start, end)
    spec = svc.sliders(scenario)[0]
    svc.outcome(wh, scenario)          # prepares once (the page does this on its first render)
    times = []
    for frac in (0.5, 0.6, 0.7, 0.4, 0.3):
        # a slider's shown value (a percentage for a share) to the scenario's value, as the page does
        moved = svc.with_values(scenario, {(spec.index, spec.field): spec.actual(spec.lo + (spec.hi - spec.lo) * frac)})
        t = time.perf_counter()
        svc.outcome(wh, moved)
        times.append(time.perf_counter() - t)
    return times


if __name__ == "__main__":
    main()
