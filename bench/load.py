"""Many people at once (issue 18, item 3): N browser sessions against one `modelmix serve` while a big ingest
and a pull job hand their data to it through the inbox.

Set-up (untimed): a base ledger of --base-rows generated rows (`modelmix sample` + `modelmix ingest`); an
--ingest-rows file generated the same way (later days' traffic); a SQLite database holding LiteLLM's spend-log
table (--pull-rows rows made from the sample export, fresh request ids) for `modelmix pull sql --preset litellm`.

Then, per session count in --sessions (ascending), for --seconds: N Playwright contexts in one headless
Chromium, each looping Overview -> Explore -> What-if -> two slider moves, every step timed from the click
(or `goto`) until the page's own content is on screen (the Overview's Spend metric, Explore's table, What-if's
Savings metric, the Savings figure changing after a move). The first level also runs the ingest and the pull
(`modelmix ingest` and `modelmix pull sql` as separate processes, handing over through the inbox) while the
sessions browse. Recorded per level: steps answered, errors (a Streamlit exception box, a timeout), p50/p95/
max seconds. The run stops at the first level whose p95 passes 3 s (or --max-seconds overall). Afterwards the
ledger is checked: every ingested and pulled row is there once.

Usage: python bench/load.py [--sessions 1,2,4,8,12,20] [--seconds 60] [--base-rows 200000]
                            [--ingest-rows 1000000] [--pull-rows 20000] [--max-seconds 900]
Prints one JSON object (and a Markdown table) with the load average at the start and end of every level.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
SAMPLE = ROOT / "sample_data" / "litellm_spend_logs_sample.csv"
STEP_TIMEOUT_MS = 60_000


def cli(*args: str, env: dict | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "modelmix", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, **kw)


def load_average() -> float:
    return round(os.getloadavg()[0], 2)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def litellm_source(path: Path, rows: int) -> str:
    """A SQLite file with `LiteLLM_SpendLogs`: the sample export's rows repeated with fresh request ids and
    shifted days, `rows` in all."""
    import polars as pl

    base = pl.read_csv(SAMPLE, infer_schema=False)
    copies = -(-rows // base.height)
    frame = pl.concat([base.with_columns(pl.col("request_id") + f"-{i}",
                                         (pl.col("startTime").str.to_datetime() + pl.duration(days=i))
                                         .dt.strftime("%Y-%m-%d %H:%M:%S%.3f").alias("startTime"))
                       for i in range(copies)]).head(rows)
    with sqlite3.connect(path) as con:
        con.execute('create table "LiteLLM_SpendLogs" (' + ", ".join(f'"{c}" text' for c in frame.columns) + ")")
        con.executemany(f'insert into "LiteLLM_SpendLogs" values ({", ".join("?" * frame.width)})', frame.rows())
    return f"sqlite:///{path}"


async def session(ctx, url: str, until: float, times: list, errors: list, timeout: int = STEP_TIMEOUT_MS) -> None:
    page = await ctx.new_page()

    async def step(name: str, action, ready) -> None:
        t = time.monotonic()
        try:
            await action()
            await ready()
            if await page.locator('[data-testid="stException"]').count():
                errors.append((name, "exception box"))
            times.append((name, time.monotonic() - t))
        except Exception as e:  # noqa: BLE001 -- a timeout or a lost page is a failed step, counted
            errors.append((name, type(e).__name__))

    nav = lambda title: page.locator('[data-testid="stSidebarNav"] a', has_text=title).click()  # noqa: E731
    savings = page.locator('[data-testid="stMetric"]', has_text="Savings")
    await step("overview", lambda: page.goto(url + "/"),
               lambda: page.locator('[data-testid="stMetric"]').first.wait_for(timeout=timeout))
    while time.monotonic() < until:
        await step("overview", lambda: nav("Overview"),
                   lambda: page.locator('[data-testid="stMetric"]').first.wait_for(timeout=timeout))
        await step("explore", lambda: nav("Explore"),
                   lambda: page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=timeout))
        await step("whatif", lambda: nav("What-if"), lambda: savings.wait_for(timeout=timeout))
        for key in ("ArrowLeft", "ArrowRight"):
            try:
                before = await savings.inner_text(timeout=timeout)
            except Exception as e:  # noqa: BLE001
                errors.append(("slider", type(e).__name__))
                break

            async def move(key=key) -> None:
                knob = page.locator('[data-testid="stSlider"]').first.get_by_role("slider")
                await knob.focus()
                await page.keyboard.press(key)
                await page.keyboard.press(key)

            await step("slider", move, lambda before=before: page.wait_for_function(
                """([sel, text]) => { const m = [...document.querySelectorAll(sel)]
                       .find(e => e.innerText.includes('Savings'));
                   return m && m.innerText !== text; }""",
                arg=['[data-testid="stMetric"]', before], timeout=timeout))
    await page.close()


async def level(url: str, n: int, seconds: float, step_timeout_ms: int = STEP_TIMEOUT_MS) -> dict:
    from playwright.async_api import async_playwright

    times: list = []
    errors: list = []
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        contexts = [await browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(n)]
        until = time.monotonic() + seconds
        await asyncio.gather(*(session(c, url, until, times, errors, step_timeout_ms) for c in contexts))
        await browser.close()
    secs = sorted(t for _, t in times)
    q = statistics.quantiles(secs, n=20, method="inclusive") if len(secs) >= 2 else secs * 19
    return {"sessions": n, "steps": len(secs), "errors": len(errors), "error_kinds": sorted({f"{a}: {b}" for a, b in
                                                                                          errors}),
            "p50_s": round(statistics.median(secs), 2) if secs else None, "p95_s": round(q[18], 2) if secs else None,
            "max_s": round(secs[-1], 2) if secs else None,
            "by_step_p95_s": {k: round(sorted(t for s, t in times if s == k)[int(0.95 * (sum(1 for s, _ in times if
                                                                                              s == k) - 1))], 2)
                              for k in sorted({s for s, _ in times})}}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", default="1,2,4,8,12,20")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--base-rows", type=int, default=200_000)
    ap.add_argument("--ingest-rows", type=int, default=1_000_000)
    ap.add_argument("--pull-rows", type=int, default=20_000)
    ap.add_argument("--max-seconds", type=float, default=900)
    ap.add_argument("--keep", help="work in this folder (kept) instead of a temporary one")
    args = ap.parse_args()
    started = time.monotonic()
    work = Path(args.keep or tempfile.mkdtemp(prefix="modelmix-load-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "ledger.duckdb"
    env = {"PYTHONPATH": str(ROOT)}
    out: dict = {"load_average_start": load_average(), "levels": []}
    t = time.monotonic()
    for stale in work.glob("ledger.duckdb*"):          # a fresh ledger every run; generated inputs are reused
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    for folder, rows, seed in (("base", args.base_rows, "1"), ("big", args.ingest_rows, "2")):
        if not (work / folder).is_dir():
            assert cli("sample", "--rows", str(rows), "--out", str(work / folder), "--seed", seed,
                       env=env).returncode == 0
    p = cli("ingest", str(work / "base"), "--db", str(db), env=env)
    assert p.returncode in (0, 1), p.stderr
    source = work / f"litellm-{args.pull_rows}.sqlite"
    url_pull = f"sqlite:///{source}" if source.exists() else litellm_source(source, args.pull_rows)
    out["setup_s"] = round(time.monotonic() - t, 1)
    sys.path.insert(0, str(ROOT))
    from warehouse import Warehouse

    with Warehouse(db) as wh:
        rows_before = wh.scalar("select count(*) from usage_raw")
        last_before = wh.scalar("select coalesce(max(ingest_id), 0) from ingest_log")

    port = free_port()
    log = open(work / "serve.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "modelmix", "serve", "--db", str(db), "--port", str(port)],
                              cwd=ROOT, env={**os.environ, **env, "MODELMIX_INBOX_POLL_SECONDS": "0.5"},
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.5)
        # one untimed visit first: the server opens (and so holds) the ledger and warms up; the writers then hand
        # their data over through the inbox, as against a running dashboard
        t = time.monotonic()
        first = asyncio.run(level(url, 1, 1, step_timeout_ms=300_000))
        out["first_visit"] = {"seconds": round(time.monotonic() - t, 1), "errors": first["error_kinds"]}
        writers: list[subprocess.Popen] = []
        for n in [int(x) for x in args.sessions.split(",")]:
            if time.monotonic() - started > args.max_seconds:
                out["stopped"] = "max-seconds reached"
                break
            if not out["levels"]:   # the first level browses while the ingest and the pull run
                writers = [subprocess.Popen([sys.executable, "-m", "modelmix", "ingest", str(work / "big"), "--db",
                                             str(db), "--json"], cwd=ROOT, env={**os.environ, **env},
                                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
                           subprocess.Popen([sys.executable, "-m", "modelmix", "pull", "sql", "--url", url_pull,
                                             "--preset", "litellm", "--db", str(db), "--json"], cwd=ROOT,
                                            env={**os.environ, **env}, stdout=subprocess.PIPE,
                                            stderr=subprocess.PIPE, text=True)]
            la = load_average()
            result = asyncio.run(level(url, n, args.seconds))
            result.update(load_average_before=la, load_average_after=load_average(),
                          writers_running=sum(w.poll() is None for w in writers))
            out["levels"].append(result)
            print(json.dumps(result), file=sys.stderr, flush=True)
            if result["p95_s"] is None or result["p95_s"] > 3:
                out["p95_passes_3s_at"] = n
                break
        for w in writers:
            stdout, stderr = w.communicate(timeout=3600)
            out.setdefault("writers", []).append({"rc": w.returncode, "tail": (stderr or "")[-300:],
                                                  "stdout": stdout if w.args[3] == "ingest" else ""})
    finally:
        server.terminate()
        server.wait(timeout=60)
        log.close()
    # every row once: the ingest's and the pull's rows, each a distinct natural key
    # the pull's pages are logged as `pull:<source>/<stream> chunk N`
    check = ("select count(*) as n, count(distinct row_key) as keys, "
             "count(*) filter (where l.file_name like 'pull:%') as pulled "
             "from usage_raw u left join ingest_log l using (ingest_id)")
    ingested = 0
    for w in out.get("writers", []):
        try:
            ingested += sum(f["rows_loaded"] for f in json.loads(w.pop("stdout") or "{}").get("files", []))
        except ValueError:
            pass
    # each file the writers loaded still holds every row it reported (a newer daily billing export replaces the
    # base ledger's rows for the same provider-days, so the total alone can't be compared)
    per_file = ("select l.rows_loaded, (select count(*) from usage_raw u where u.ingest_id = l.ingest_id) "
                "from ingest_log l where l.ingest_id > $last")
    with Warehouse(db) as wh:
        n, keys, pulled = wh.sql(check).row(0)
        files = wh.sql(per_file, last=last_before).rows()
    out["ledger"] = {"rows_before": rows_before, "rows_after": n, "distinct_keys": keys, "pulled_rows": pulled,
                     "ingested_rows_reported": ingested, "pull_rows_in_source": args.pull_rows,
                     "files_loaded": len(files), "rows_in_those_files": sum(now for _, now in files),
                     "every_row_once": n == keys and pulled == args.pull_rows
                     and all(loaded == now for loaded, now in files)}
    out["load_average_end"] = load_average()
    print(json.dumps(out, indent=2))
    print("\n| sessions | steps | errors | p50 s | p95 s | max s | load avg |\n|---|---|---|---|---|---|---|")
    for r in out["levels"]:
        print(f"| {r['sessions']} | {r['steps']} | {r['errors']} | {r['p50_s']} | {r['p95_s']} | {r['max_s']} | "
              f"{r['load_average_before']} -> {r['load_average_after']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
