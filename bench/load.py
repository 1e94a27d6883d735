"""Many people at once (issue 18, item 3): N browser sessions against one `modelmix serve` while a big ingest
and a pull job hand their data to it through the inbox.

Set-up (untimed): a base ledger of --base-rows generated rows (`modelmix sample` + `modelmix ingest`); an
--ingest-rows file generated the same way (later days' traffic); a SQLite database holding LiteLLM's spend-log
table (--pull-rows rows made from the sample export, fresh request ids) for `modelmix pull sql --preset litellm`.

Then, per session count in --sessions (ascending): N Playwright contexts in one headless Chromium, each looping
Overview -> Explore -> What-if -> two slider moves, every step timed from the click (or `goto`) until the page's
own content is on screen (the Overview's Spend metric, Explore's table, What-if's Savings metric, the Savings
figure changing after a move). Every level runs its own ingest of a generated --ingest-rows year (a seed of its
own) and its own pull (`modelmix ingest` and `modelmix pull sql` as separate processes, handing over through
the inbox) while the sessions browse: for --seconds, and on while either still runs (up to --level-cap).
Recorded per level: steps answered, errors (a Streamlit exception box, a step without an answer in 60 s),
p50/p95/max seconds, the load average before and after, and the CPU seconds of the server's process tree (answering
every session, and loading what the inbox hands it) beside those of the level's Chromium (on this machine the
browsers share the server's cores, which real users' browsers do not). The run stops at the first level whose p95 passes 3 s
unless --all-levels (or at --max-seconds overall). Afterwards the ledger is checked: every ingested and pulled
row is there once (or replaced by a later load that recorded it).

With --browsers K, only K sessions of each level are real browsers and the rest are protocol-level clients:
Python coroutines speaking Streamlit's websocket protocol (the BackMsg/ForwardMsg protobufs of the installed
streamlit package). Each opens a session, reruns Overview, Explore and What-if by their page hashes and moves
What-if's first slider as the browser does (a rerun of the sliders' fragment carrying the widget's new value), each
step timed from sending the rerun to the server's `script_finished` and checked for the same content. They cost
the server what a browser session does (the page script, its queries, every element serialised) and the client
almost nothing, so on one machine the server's own limit can be measured; the real browsers in the same level
show whether protocol timings match browser timings (both are reported, `by_kind`), and the bench process's own
CPU is reported as client CPU.

Usage: python bench/load.py [--sessions 1,2,4,8,12,20] [--seconds 60] [--level-cap 240] [--all-levels]
                            [--base-rows 200000] [--ingest-rows 1000000] [--pull-rows 20000] [--max-seconds 900]
                            [--browsers K] [--think S] [--keep DIR]
Prints one JSON object (and a Markdown table) with the load average at the start and end of every level.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import shutil
import os
import resource
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


_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()      # fields from the state on (the name may hold spaces)


def descendants(root: int) -> list[int]:
    """`root` and every live process below it (from /proc's parent ids)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and (st := _stat(int(d.name))) is not None:
            children.setdefault(int(st[1]), []).append(int(d.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cpu_seconds(pids: list[int], only: str | None = None) -> float:
    """User + system CPU of `pids` and their reaped children (utime, stime, cutime, cstime), optionally only the
    processes whose command line contains `only`."""
    total = 0
    for pid in pids:
        if only is not None:
            try:
                if only not in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
                    continue
            except OSError:
                continue
        if (st := _stat(pid)) is not None:
            total += sum(int(v) for v in st[11:15])
    return total / _TICK


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def litellm_source(path: Path, rows: int, tag: str = "") -> str:
    """A SQLite file with `LiteLLM_SpendLogs`: the sample export's rows repeated with fresh request ids (`tag`
    makes them differ from another source's) and shifted days, `rows` in all."""
    import polars as pl

    base = pl.read_csv(SAMPLE, infer_schema=False)
    copies = -(-rows // base.height)
    frame = pl.concat([base.with_columns(pl.col("request_id") + f"{tag}-{i}",
                                         (pl.col("startTime").str.to_datetime() + pl.duration(days=i))
                                         .dt.strftime("%Y-%m-%d %H:%M:%S%.3f").alias("startTime"))
                       for i in range(copies)]).head(rows)
    with sqlite3.connect(path) as con:
        con.execute('create table "LiteLLM_SpendLogs" (' + ", ".join(f'"{c}" text' for c in frame.columns) + ")")
        con.executemany(f'insert into "LiteLLM_SpendLogs" values ({", ".join("?" * frame.width)})', frame.rows())
    return f"sqlite:///{path}"


async def session(ctx, url: str, going, times: list, errors: list, timeout: int = STEP_TIMEOUT_MS) -> None:
    page = await ctx.new_page()
    # the page's websocket messages (BackMsg out, ForwardMsg in), and its websockets opened and closed (a
    # reconnection opens a new one)
    frames = {"sent": 0, "received": 0, "opened": 0, "closed": 0}

    def watch(ws) -> None:
        frames["opened"] += 1
        ws.on("framesent", lambda _: frames.__setitem__("sent", frames["sent"] + 1))
        ws.on("framereceived", lambda _: frames.__setitem__("received", frames["received"] + 1))
        ws.on("close", lambda _: frames.__setitem__("closed", frames["closed"] + 1))

    page.on("websocket", watch)
    # the frontend's own log of its connection (Streamlit logs each state change and client error to the console)
    console: list[str] = []
    page.on("console", lambda m: console.append(f"{time.strftime('%H:%M:%S')} {m.text[:100]}")
            if any(w in m.text for w in ("state", "rror", "timed out", "onnect")) else None)
    note: dict = {}                           # what a slider step saw, for its error's detail

    async def step(name: str, action, ready) -> None:
        t = time.monotonic()
        note.clear()
        seen = dict(frames)
        try:
            await action()
            await ready()
            if await page.locator('[data-testid="stException"]').count():
                errors.append((name, "exception box", await _page_state(page)))
            times.append((name, time.monotonic() - t))
        except Exception as e:  # noqa: BLE001 -- a timeout or a lost page is a failed step, counted
            sent, received = frames["sent"] - seen["sent"], frames["received"] - seen["received"]
            errors.append((name, type(e).__name__, f"{await _page_state(page)} frames sent {sent} received "
                           f"{received}, websockets opened {frames['opened']} closed {frames['closed']} so far "
                           f"{note} {_why(e)!r} console {console[-6:]}"))

    nav = lambda title: page.locator('[data-testid="stSidebarNav"] a', has_text=title).click()  # noqa: E731
    savings = page.locator('[data-testid="stMetric"]', has_text="Savings")
    await step("overview", lambda: page.goto(url + "/"),
               lambda: page.locator('[data-testid="stMetric"]').first.wait_for(timeout=timeout))
    while going():
        await step("overview", lambda: nav("Overview"),
                   lambda: page.locator('[data-testid="stMetric"]').first.wait_for(timeout=timeout))
        await step("explore", lambda: nav("Explore"),
                   lambda: page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=timeout))
        await step("whatif", lambda: nav("What-if"), lambda: savings.wait_for(timeout=timeout))
        for key in ("ArrowLeft", "ArrowRight"):
            try:
                before = await savings.inner_text(timeout=timeout)
            except Exception as e:  # noqa: BLE001
                errors.append(("slider", type(e).__name__, await _page_state(page)))
                break

            async def move(key=key, before=before) -> None:
                knob = page.locator('[data-testid="stSlider"]').first.get_by_role("slider")
                note["before"] = before.replace("\n", " ")
                note["value_before"] = await knob.evaluate("e => e.value")
                note["running_at_press"] = await page.locator('[data-testid="stStatusWidget"]').count()
                await knob.focus()
                await page.keyboard.press(key)
                await page.keyboard.press(key)
                note["value_after"] = await knob.evaluate("e => e.value")

            await step("slider", move, lambda before=before: page.wait_for_function(
                """([sel, text]) => { const m = [...document.querySelectorAll(sel)]
                       .find(e => e.innerText.includes('Savings'));
                   return m && m.innerText !== text; }""",
                arg=['[data-testid="stMetric"]', before], timeout=timeout))
    await page.close()


def _why(e: Exception) -> str:
    """A Playwright error's first line and the last lines of its call log (what the action waited for: an element
    covered by another, disabled, not visible)."""
    lines = [x.strip() for x in str(e).splitlines() if x.strip()]
    return " / ".join(lines[:1] + [x for x in lines[1:] if "intercepts" in x or "not " in x or "waiting" in x][-3:])[:400]


async def _page_state(page) -> str:
    """What a browser page showed when a step failed (for the error's detail): the time, whether the app still
    said it was running, the Savings metric, any exception box's first line, the start of the main text."""
    try:
        running = await page.locator('[data-testid="stStatusWidget"]').count()
        savings = await page.evaluate("""() => { const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
            .find(e => e.innerText.includes('Savings')); return m ? m.innerText.replace(/\\s+/g, ' ') : null; }""")
        exc = await page.evaluate("""() => { const e = document.querySelector('[data-testid="stException"]');
            return e ? e.innerText.slice(0, 160) : null; }""")
        main = await page.evaluate("""() => { const e = document.querySelector('[data-testid="stMain"]');
            return e ? e.innerText.replace(/\\s+/g, ' ').slice(0, 160) : null; }""")
        dialog = await page.evaluate("""() => { const e = document.querySelector('[role="dialog"]');
            return e ? e.innerText.replace(/\\s+/g, ' ').slice(0, 200) : null; }""")
        return (f"{time.strftime('%H:%M:%S')} running={running} savings={savings!r} exception={exc!r} "
                f"dialog={dialog!r} main={main!r}")
    except Exception as e:  # noqa: BLE001 -- a closed page: say so
        return f"{time.strftime('%H:%M:%S')} page state unreadable: {type(e).__name__}"


class Protocol:
    """One dashboard session spoken at the protocol level: Streamlit's websocket (`/_stcore/stream`), BackMsg
    `rerun_script` out, ForwardMsg deltas back, as the browser's own client does, without drawing anything. The
    server does exactly what a browser session costs it (runs the page script, its queries, serialises every
    element); the client only parses the protobufs."""

    def __init__(self, ws):
        self.ws = ws
        self.pages: dict[str, str] = {}         # page title -> page_script_hash (from the navigation message)
        self.page = ""                          # the page shown (its hash; "" the default page)
        self.slider: tuple[str, str, float, float, float] | None = None   # id, fragment, value, step, min

    @classmethod
    async def open(cls, url: str) -> Protocol:
        import websockets

        ws = await websockets.connect(url.replace("http", "ws", 1) + "/_stcore/stream", subprotocols=["streamlit"],
                                      max_size=None, open_timeout=STEP_TIMEOUT_MS / 1000)
        return cls(ws)

    async def run(self, page: str | None = None, slider_values: tuple[float, ...] = ()) -> tuple[dict, float]:
        """Rerun `page` (a title; None: the page shown), or move the What-if slider through `slider_values`: one
        rerun of the sliders' fragment per key press, 70 ms apart, each carrying the widget's new value, as the
        browser sends two ArrowLeft presses. Waits for the last run's `script_finished`. Returns the new elements
        by type and when the last run finished; raises on an exception element or a run that failed."""
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if page is not None:
            self.page = self.pages.get(page, "")
        while True:      # what a previous step's last run still sent (a press's run finishing after the grace)
            try:
                await asyncio.wait_for(self.ws.recv(), 0.01)
            except asyncio.TimeoutError:
                break
        for i, value in enumerate(slider_values or (None,)):
            msg = BackMsg()
            state = msg.rerun_script
            state.page_script_hash = self.page
            state.context_info.timezone = "UTC"
            state.context_info.locale = "en-US"
            if value is not None:
                wid, fragment, *_ = self.slider
                state.fragment_id = fragment
                widget = state.widget_states.widgets.add()
                widget.id = wid
                widget.double_array_value.data.append(value)
            if i:
                await asyncio.sleep(0.07)
            await self.ws.send(msg.SerializeToString())
        asked = max(1, len(slider_values))
        found: dict[str, list] = {}
        first_slider = not slider_values
        finished, done_at = 0, None
        while True:
            if done_at is None:
                raw = await self.ws.recv()
            else:
                # a press's rerun may have been merged into the next one (one run for both): then nothing more
                # comes; the step ended at the last finish seen (the grace is not part of the step's time)
                try:
                    raw = await asyncio.wait_for(self.ws.recv(), 1.0)
                except asyncio.TimeoutError:
                    return found, done_at
            fwd = ForwardMsg()
            fwd.ParseFromString(raw)
            kind = fwd.WhichOneof("type")
            if kind == "navigation":
                self.pages = {p.page_name: p.page_script_hash for p in fwd.navigation.app_pages}
                self.page = self.page or fwd.navigation.page_script_hash
            elif kind == "delta" and fwd.delta.WhichOneof("type") == "new_element":
                element = fwd.delta.new_element
                what = element.WhichOneof("type")
                if what == "exception":
                    raise RuntimeError("exception element: " + element.exception.message[:120])
                found.setdefault(what, []).append(element)
                if what == "slider" and first_slider:       # the page's first slider, as the browser moves
                    first_slider = False
                    sl = element.slider
                    value = (list(sl.value) if sl.set_value else list(sl.default))[0]
                    self.slider = (sl.id, fwd.delta.fragment_id, value, sl.step, sl.min)
            elif kind == "script_finished":
                finished += 1
                if fwd.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue                                 # interrupted by the next press's rerun
                if fwd.script_finished not in (ForwardMsg.FINISHED_SUCCESSFULLY,
                                               ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY):
                    raise RuntimeError(f"script_finished status {fwd.script_finished}")
                done_at = time.monotonic()
                if finished >= asked:
                    return found, done_at

    async def close(self) -> None:
        await self.ws.close()


def _savings(found: dict[str, list]) -> str | None:
    """The last Savings figure drawn (a slider step's second run draws it again)."""
    return next((e.metric.body for e in reversed(found.get("metric", [])) if e.metric.label == "Savings"), None)


async def protocol_session(url: str, going, times: list, errors: list, timeout: int = STEP_TIMEOUT_MS,
                           think: float = 0.0) -> None:
    """The browser session's loop (Overview -> Explore -> What-if -> two slider moves) at the protocol level: each
    step timed from sending the rerun until the server's `script_finished`, and checked for the content the
    browser waits for (a metric, a table, the Savings metric, the Savings figure changing after a move)."""
    secs = timeout / 1000

    async def step(name: str, ready, **run) -> dict | None:
        t = time.monotonic()
        try:
            found, done_at = await asyncio.wait_for(client.run(**run), secs + 1)
            if not ready(found):
                kinds = {k: len(v) for k, v in found.items()}
                errors.append((name, "content missing", f"{time.strftime('%H:%M:%S')} after {done_at - t:.2f} s: "
                               f"elements {kinds}, savings {_savings(found)!r}, asked {run}"))
                return None
            times.append((name, done_at - t))
            if think:
                await asyncio.sleep(think)      # the time a browser spends drawing the answer before the next click
            return found
        except Exception as e:  # noqa: BLE001 -- a timeout, a lost connection, an exception element: counted
            errors.append((name, type(e).__name__, f"{time.strftime('%H:%M:%S')} after {time.monotonic() - t:.1f} s: "
                           f"{str(e)[:200]!r}, asked {run}"))
            return None

    try:
        client = await asyncio.wait_for(Protocol.open(url), secs)
    except Exception as e:  # noqa: BLE001
        errors.append(("overview", type(e).__name__, f"{time.strftime('%H:%M:%S')} opening: {str(e)[:200]!r}"))
        return
    try:
        await step("overview", lambda f: "metric" in f, page=None)
        while going():
            await step("overview", lambda f: "metric" in f, page="Overview")
            await step("explore", lambda f: "dataframe" in f, page="Explore")
            found = await step("whatif", lambda f: _savings(f) is not None, page="What-if")
            if found is None or client.slider is None:
                continue
            before = _savings(found)
            wid, fragment, value, step_size, low = client.slider
            left = (max(low, value - step_size), max(low, value - 2 * step_size))
            for presses in (left, (left[0], value)):          # two ArrowLefts, then two ArrowRights back
                after = await step("slider", lambda f, b=before: _savings(f) not in (None, b), slider_values=presses)
                if after is None:
                    break
                before = _savings(after)
    finally:
        with contextlib.suppress(Exception):
            await client.close()


async def level(url: str, n: int, seconds: float, step_timeout_ms: int = STEP_TIMEOUT_MS,
                writers: list | None = None, cap: float | None = None, browsers: int | None = None,
                think: float = 0.0) -> dict:
    """N sessions browsing for `seconds`, and on while any of `writers` still runs (at most `cap` seconds), so
    the sessions browse through the whole ingest and pull."""
    from playwright.async_api import async_playwright

    real = n if browsers is None else min(n, browsers)     # real Chromium sessions; the rest speak the protocol
    times: dict[str, list] = {"browser": [], "protocol": []}
    errors: dict[str, list] = {"browser": [], "protocol": []}
    own_cpu = resource.getrusage(resource.RUSAGE_SELF)
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS) if real else None
        contexts = [await browser.new_context(viewport={"width": 1280, "height": 900}) for _ in range(real)]
        start = time.monotonic()
        cap = max(cap or seconds, seconds)

        def going() -> bool:
            spent = time.monotonic() - start
            return spent < seconds or (spent < cap and any(w.poll() is None for w in writers or []))

        await asyncio.gather(*(session(c, url, going, times["browser"], errors["browser"], step_timeout_ms)
                               for c in contexts),
                             *(protocol_session(url, going, times["protocol"], errors["protocol"], step_timeout_ms,
                                                think) for _ in range(n - real)))
        browsed = time.monotonic() - start
        # the browsers' own CPU (every process of this level's Chromium, closed pages reaped into its main process)
        browser_cpu = cpu_seconds(descendants(os.getpid()), only="/chromium")    # Debian's script execs /usr/lib/chromium/chromium
        if browser is not None:
            await browser.close()
    used = resource.getrusage(resource.RUSAGE_SELF)
    # this process: the protocol clients (parsing ForwardMsgs) and Playwright's Python side
    client_cpu = used.ru_utime + used.ru_stime - own_cpu.ru_utime - own_cpu.ru_stime
    result = {"sessions": n, "browser_sessions": real, "protocol_sessions": n - real, "browsed_s": round(browsed, 1),
              "browser_cpu_s": round(browser_cpu, 1), "client_cpu_s": round(client_cpu, 1),
              **summary([t for kind in times.values() for t in kind], [e for kind in errors.values() for e in kind])}
    if browsers is not None:      # each kind on its own: do the protocol's timings match the browser's?
        result["by_kind"] = {kind: summary(times[kind], errors[kind]) for kind in times if times[kind] or errors[kind]}
    return result


def summary(times: list, errors: list) -> dict:
    """Steps answered, errors (by kind), p50/p95/max seconds, p95 per step."""
    secs = sorted(t for _, t in times)
    q = statistics.quantiles(secs, n=20, method="inclusive") if len(secs) >= 2 else secs * 19
    by_step = {}
    for name in sorted({s for s, _ in times}):
        mine = sorted(t for s, t in times if s == name)
        by_step[name] = round(mine[int(0.95 * (len(mine) - 1))], 2)
    return {"steps": len(secs), "errors": len(errors), "error_kinds": sorted({f"{e[0]}: {e[1]}" for e in errors}),
            "error_details": [" | ".join(map(str, e)) for e in errors[:40]],
            "p50_s": round(statistics.median(secs), 2) if secs else None, "p95_s": round(q[18], 2) if secs else None,
            "max_s": round(secs[-1], 2) if secs else None, "by_step_p95_s": by_step}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", default="1,2,4,8,12,20")
    ap.add_argument("--seconds", type=float, default=60, help="each level browses at least this long")
    ap.add_argument("--level-cap", type=float, default=240,
                    help="and on while its ingest or pull still runs, up to this many seconds")
    ap.add_argument("--base-rows", type=int, default=200_000)
    ap.add_argument("--ingest-rows", type=int, default=1_000_000)
    ap.add_argument("--pull-rows", type=int, default=20_000)
    ap.add_argument("--max-seconds", type=float, default=900)
    ap.add_argument("--all-levels", action="store_true",
                    help="run every level even after one whose p95 passes 3 s (to record each count's figures)")
    ap.add_argument("--browsers", type=int, default=None,
                    help="per level, this many real Chromium sessions and the rest protocol-level clients (Streamlit's "
                         "websocket messages, no browser: what the server spends, without the browsers' CPU on the "
                         "same cores); default: every session a real browser")
    ap.add_argument("--think", type=float, default=0.0,
                    help="a protocol client waits this long after each answered step (a browser draws the answer "
                         "before its next click; default 0: the next step at once)")
    ap.add_argument("--keep", help="work in this folder (kept) instead of a temporary one")
    ap.add_argument("--port", type=int, default=None, help="serve on this port (default: any free one)")
    args = ap.parse_args()
    counts = [int(x) for x in args.sessions.split(",")]
    started = time.monotonic()
    work = Path(args.keep or tempfile.mkdtemp(prefix="modelmix-load-"))
    work.mkdir(parents=True, exist_ok=True)
    db = work / "ledger.duckdb"
    env = {"PYTHONPATH": str(ROOT)}
    out: dict = {"load_average_start": load_average(), "levels": [], "writers": []}
    t = time.monotonic()
    for stale in work.glob("ledger.duckdb*"):          # a fresh ledger every run; generated inputs are reused
        shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    # every level has writers of its own: a generated year of its own seed (new rows, not a repeat of the last
    # level's file) and a pull source of its own request ids, pulled under a name of its own (a pull is incremental
    # on its source's cursor: the same name would skip rows no later than the last level's)
    inputs = [("base", args.base_rows, "1")] + [(f"big-{n}", args.ingest_rows, str(2 + i)) for i, n in enumerate(counts)]
    for folder, rows, seed in inputs:
        if not (work / folder).is_dir():
            assert cli("sample", "--rows", str(rows), "--out", str(work / folder), "--seed", seed,
                       env=env).returncode == 0
    p = cli("ingest", str(work / "base"), "--db", str(db), env=env)
    assert p.returncode in (0, 1), p.stderr
    pulls = {}
    for n in counts:
        source = work / f"litellm-{args.pull_rows}-L{n}.sqlite"
        pulls[n] = f"sqlite:///{source}" if source.exists() else litellm_source(source, args.pull_rows, f"-L{n}")
    out["setup_s"] = round(time.monotonic() - t, 1)
    sys.path.insert(0, str(ROOT))
    from warehouse import Warehouse

    with Warehouse(db) as wh:
        rows_before = wh.scalar("select count(*) from usage_raw")
        last_before = wh.scalar("select coalesce(max(ingest_id), 0) from ingest_log")

    port = args.port or free_port()
    log = open(work / "serve.log", "w")
    server = subprocess.Popen([sys.executable, "-m", "modelmix", "serve", "--db", str(db), "--port", str(port)],
                              cwd=ROOT, env={**os.environ, **env, "MODELMIX_INBOX_POLL_SECONDS": "0.5"},
                              stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    pulled_levels = 0
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
        first = asyncio.run(level(url, 1, 1, step_timeout_ms=300_000, browsers=args.browsers))
        out["first_visit"] = {"seconds": round(time.monotonic() - t, 1), "errors": first["error_kinds"]}
        for n in counts:
            if time.monotonic() - started > args.max_seconds:
                out["stopped"] = "max-seconds reached"
                break
            # this level's sessions browse while its ingest and pull run (separate processes, through the inbox)
            began = time.monotonic()
            writers = [subprocess.Popen([sys.executable, "-m", "modelmix", "ingest", str(work / f"big-{n}"), "--db",
                                         str(db), "--json"], cwd=ROOT, env={**os.environ, **env},
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True),
                       subprocess.Popen([sys.executable, "-m", "modelmix", "pull", "sql", "--url", pulls[n],
                                         "--preset", "litellm", "--name", f"litellm-L{n}", "--db", str(db),
                                         "--json"], cwd=ROOT,
                                        env={**os.environ, **env}, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True)]
            la = load_average()
            served = cpu_seconds(descendants(server.pid))
            result = asyncio.run(level(url, n, args.seconds, writers=writers, cap=args.level_cap,
                                       browsers=args.browsers, think=args.think))
            # the server's CPU in this level (its process tree: the Streamlit server answering every session and
            # loading what the inbox hands it), beside the browsers' (browser_cpu_s): which side a step waits for
            result.update(server_cpu_s=round(cpu_seconds(descendants(server.pid)) - served, 1),
                          load_average_before=la, load_average_after=load_average(),
                          writers_running_at_end=sum(w.poll() is None for w in writers))
            for w, what in zip(writers, ("ingest", "pull")):
                stdout, stderr = w.communicate(timeout=3600)
                out["writers"].append({"level": n, "what": what, "rc": w.returncode,
                                       "done_after_s": round(time.monotonic() - began, 1),
                                       "tail": (stderr or "")[-300:], "stdout": stdout if what == "ingest" else ""})
            pulled_levels += 1
            out["levels"].append(result)
            print(json.dumps(result), file=sys.stderr, flush=True)
            if (result["p95_s"] is None or result["p95_s"] > 3) and "p95_passes_3s_at" not in out:
                out["p95_passes_3s_at"] = n
                if not args.all_levels:
                    break
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
    for w in out["writers"]:
        try:
            ingested += sum(f["rows_loaded"] for f in json.loads(w.pop("stdout") or "{}").get("files", []))
        except ValueError:
            pass
    # each file the writers loaded still holds every row it reported, but for rows a later load replaced and
    # recorded in ingest_replacements (a newer daily billing export replaces an earlier one's rows for the same
    # provider-days: each level's generated year covers the same days), so the total alone can't be compared
    per_file = ("select l.rows_loaded, (select count(*) from usage_raw u where u.ingest_id = l.ingest_id) + "
                "(select coalesce(sum(r.rows), 0)::bigint from ingest_replacements r where r.replaced_ingest_id = "
                "l.ingest_id) from ingest_log l where l.ingest_id > $last")
    with Warehouse(db) as wh:
        n, keys, pulled = wh.sql(check).row(0)
        files = wh.sql(per_file, last=last_before).rows()
    out["ledger"] = {"rows_before": rows_before, "rows_after": n, "distinct_keys": keys, "pulled_rows": pulled,
                     "ingested_rows_reported": ingested, "pull_rows_in_source": args.pull_rows,
                     "files_loaded": len(files),
                     "rows_in_those_files_or_replaced_by_a_later_load": sum(now for _, now in files),
                     "pull_rows_expected": args.pull_rows * pulled_levels,
                     "every_row_once": n == keys and pulled == args.pull_rows * pulled_levels
                     and all(loaded == now for loaded, now in files)}
    out["load_average_end"] = load_average()
    print(json.dumps(out, indent=2))
    print("\n| sessions (browser + protocol) | browsed s | steps | errors | p50 s | p95 s | max s | server cpu s | "
          "browser cpu s | client cpu s | load avg |\n|---|---|---|---|---|---|---|---|---|---|---|")
    for r in out["levels"]:
        print(f"| {r['sessions']} ({r['browser_sessions']} + {r['protocol_sessions']}) | {r['browsed_s']} | {r['steps']} | "
              f"{r['errors']} | {r['p50_s']} | {r['p95_s']} | {r['max_s']} | {r['server_cpu_s']} | {r['browser_cpu_s']} | "
              f"{r['client_cpu_s']} | {r['load_average_before']} -> {r['load_average_after']} |")
        for kind, k in r.get("by_kind", {}).items():
            print(f"|   {kind} only | | {k['steps']} | {k['errors']} | {k['p50_s']} | {k['p95_s']} | {k['max_s']} | | | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
