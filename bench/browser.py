"""Bench the dashboard as a person waits for it: headless Chromium (Debian's, via Playwright), per page, from
navigation to the last element settled, beside a one-line Streamlit app opened the same way in the same run.

For each ledger (the bundled sample, and/or N generated request rows ingested once, untimed):

- a fresh `streamlit run dashboard/app.py` and a fresh one-line app (`st.write("ok")`, the floor: what any
  Streamlit page costs in this browser on this machine), each on its own port; beside them a second, fairer
  floor: ModelMix's own sidebar (`dashboard/sidebar.py`: sign-in badge, period presets, date range, typed
  range, Show SQL, the navigation's 13 entries) around an empty page (the "sidebar floor": what every page
  costs before its own content), served on its own before the app (two servers can't share a ledger file); and a
  third, the "chart floor": the one-line app with one small Vega-Lite chart (what a page with any chart pays for
  Vega's start in a new tab before its own charts);
- **new tab**: per page registered in dashboard/app.py, a new tab (a new session) opens the page's own URL;
  the time is from navigation start to the last DOM change, once the script has finished
  (`stApp[data-test-script-state=notRunning]`), no spinner or skeleton is left and nothing changed for QUIET_MS.
  Two kinds, each floor measured the same way as the pages it is set against:
  - *warm* (the primary figure): a new page in one browser profile on disk that has opened this server before,
    as a person's new tab is: Streamlit serves its hashed chunks `immutable, max-age=1 year`, so the HTTP cache
    answers them and V8 may reuse their compiled code (a new session all the same);
  - *cold*: a new browser context, nothing cached (a first visit, or a private window);
- **weigh** (`--weigh`): per page and floor, one more new tab with Chrome's DevTools protocol on: the JavaScript
  it loaded (the lazy chunks beyond the one-line floor's, largest first) and the renderer's main-thread CPU;
- **menu switch**: in one tab, a click on each page in the sidebar menu to the same settled point;
- **slider move**: on What-if, one ArrowRight on the first slider to the moment the Savings figure changes;
  beside it the same on a floor app (one slider and one "Savings" metric in a fragment, nothing else): what any
  Streamlit slider round trip costs in this browser on this machine.
- **the sidebar in parts** (`--sidebar-parts`, alone): the sidebar floor built up one part at a time (a wide page,
  the sidebar's script, the navigation, its sections and icons, the badge and captions, the presets, the calendar's
  popover, the typed range and Show SQL), each step on its own server, warm tabs alternated step by step, with the
  renderer's and the server's CPU-s: where the sidebar's time over the one-line floor goes;
- **the page in parts** (`--page-parts /whatif`, alone): one page served as it is beside copies of it with one kind
  of element drawn as nothing (its charts, metrics, light tables, captions, notes, buttons, expanders; or with
  `--variants` one chart: `vega_lite_chart@#2`, a function's: `vega_lite_chart@preview`, or the charts drawn
  another way: `canvas`, `inline`, `noaria`, `static` and `png`, the last two rendered on the server by
  vl-convert-python, which is no project dependency: put it on PYTHONPATH for them), warm tabs alternated variant
  by variant, with the renderer main thread's CPU-s (`ThreadTime`, which the machine's load hardly moves): what
  the page's own first render costs; several pages at once (`--page-parts /whatif /upload`), `--trees` for the
  same pages as other checkouts draw them (a copy of main before a change: before and after alternated in one
  run) and `--floors` for the one-line and chart floors in the same rounds;
- **preview move**: on What-if, one ArrowRight (Left every other move) on the range input under the preview chart
  (a Vega-Lite parameter: the browser answers, no server round trip) to the moment the figures drawn in the chart
  change; and, in the page, from the key reaching the input to the DOM change that shows them.

Targets (issue 15 §8, docs/benchmarks.md "Dashboard in a browser"): every page within 0.7 s of its own floor from
a new tab: a page that draws a chart on it (an interactive Vega-Lite chart: tooltips with exact values) of the chart
floor, every other page of the one-line floor (the lead's decision of the eleventh session: Vega's fixed start in a
new tab, ~0.1-0.2 renderer CPU-s, is the price of the tooltips, and drawing charts on the server instead would add
an 84 MB dependency and server CPU per uncached tab); the sidebar floor says how much of it is the sidebar every
page shares; a menu switch <= 1 s, a slider move <= 100 ms. Note the machine's load (`uptime`) beside the figures.
Usage: python bench/browser.py [--sample] [--rows 1000000 5000000] [--db LEDGER.duckdb] [--repeat 2]
                               [--pages /prices /] [--no-switch] [--weigh] [--sliders-only] [--moves 20]
                               [--sidebar-parts] [--page-parts /whatif /upload [--variants canvas] [--trees ../base]
                               [--floors]] [--ports 8661-8669]
Every app is served with `modelmix serve`'s runtime options (cli.main.SERVE_RUNTIME_OPTIONS).
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "dashboard" / "app.py"
SAMPLE = ROOT / "sample_data"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
QUIET_MS = 500          # no DOM change for this long after the script finished: the page has settled
VIEWPORT = {"width": 1440, "height": 1000}
sys.path.insert(0, str(ROOT))

# installed before any page script runs: the time of the last DOM change, and Streamlit's run state
OBSERVE = """
window.__lastChange = performance.now();
new MutationObserver(() => { window.__lastChange = performance.now(); })
  .observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
"""
SETTLED = f"""() => {{
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stSpinner"], [data-testid="stSkeleton"]')) return false;
  if (!document.querySelector('[data-testid="stMain"] [data-testid="stMarkdownContainer"], h1')) return false;
  return performance.now() - window.__lastChange > {QUIET_MS};
}}"""


def pages() -> list[tuple[str, str]]:
    """(url path, title) of every page in app.py; the default page's own address is `/`."""
    found = []
    for node in ast.walk(ast.parse(APP.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "Page":
            kw = {k.arg: k.value.value for k in node.keywords if isinstance(k.value, ast.Constant)}
            found.append(("/" + ("" if kw.get("default") else Path(node.args[0].value).stem), kw["title"]))
    return found


def sections() -> dict[str, list[tuple[str, str, str | None]]]:
    """app.py's navigation as it is drawn: {section: [(url path, title, icon)]} (the sidebar-parts bench draws the
    same sections and Material icons around empty pages)."""
    tree = ast.parse(APP.read_text(encoding="utf-8"))
    [spec] = [node.value for node in ast.walk(tree) if isinstance(node, ast.Assign)
              and any(isinstance(t, ast.Name) and t.id == "pages" for t in node.targets)]
    out = {}
    for key, listed in zip(spec.keys, spec.values, strict=True):
        out[key.value] = []
        for call in listed.elts:
            kw = {k.arg: k.value.value for k in call.keywords if isinstance(k.value, ast.Constant)}
            out[key.value].append(("/" + ("" if kw.get("default") else Path(call.args[0].value).stem), kw["title"],
                                   kw.get("icon")))
    return out


def load() -> str:
    """The 1-minute load average now: printed beside every figure (the machine is shared)."""
    return f"load {os.getloadavg()[0]:.1f}"


PORTS: list[int] = []      # --ports: the range this bench may serve on (the machine is shared); empty: any free port


def free_port() -> int:
    for port in PORTS or [0]:
        with socket.socket() as s:
            # as the server binds (tornado sets it): a port whose last connections are in TIME_WAIT (a bench run
            # just before) is free to serve on, and without it every port of the range read as taken for a minute
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise RuntimeError(f"no free port in {PORTS[0]}-{PORTS[-1]}")


PIDS: dict[str, int] = {}      # url -> the server process serving it
PlaywrightTimeout = TimeoutError    # playwright's, once main() has imported it


def wait_idle(url: str, quiet: float = 0.05, window: float = 2.0, limit: float = 900) -> float:
    """Wait until the server behind `url` used under `quiet` CPU-s in `window` s (its warm-up replays done: on a
    large ledger they run for minutes after the first visit and would be timed as the first pages' wait);
    returns the seconds waited."""
    tick = os.sysconf("SC_CLK_TCK")
    stat = Path(f"/proc/{PIDS[url]}/stat")

    def cpu() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        before = cpu()
        time.sleep(window)
        if cpu() - before < quiet:
            break
    return time.monotonic() - t0


@contextlib.contextmanager
def server(script: Path, env: dict[str, str], launcher: Path | None = None, cwd: Path = ROOT):
    """`streamlit run script` as `modelmix serve` runs it; `launcher`: a Python file run instead of `-m streamlit`
    that takes the same arguments (the page-parts bench's, which patches Streamlit first); `cwd`: the tree it runs
    from (the page-parts bench's `--trees`)."""
    from cli.main import SERVE_RUNTIME_OPTIONS

    port = free_port()
    # every app (the floors too) with `modelmix serve`'s runtime options: no file watcher and no gc.collect() after
    # each run. Without them each new session of a process holding the dashboard's modules cost the server ~0.3 CPU-s
    # more (0.38 against 0.09 for What-if at load 6, ninth session), which the bench timed as the page's
    proc = subprocess.Popen(
        [sys.executable, *([str(launcher)] if launcher else ["-m", "streamlit"]), "run", str(script),
         "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", *SERVE_RUNTIME_OPTIONS],
        cwd=cwd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.3)
        PIDS[f"http://127.0.0.1:{port}"] = proc.pid
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


CHART = '[data-testid="stVegaLiteChart"]'
CHARTS: dict[str, int] = {}     # url -> the Vega-Lite charts its last new tab drew (which floor judges the page)
TARGET_S = 0.7                  # issue 15 §8: a new tab within this of the page's own floor


def judged(seconds: float, one_line: float, chart: float, charts: int) -> tuple[str, float, bool]:
    """A page's new tab against its own floor: (the floor's name, seconds over it, within TARGET_S). A page that
    drew a chart on its new tab is judged against the chart floor (the one-line app with one small Vega-Lite
    chart, opened the same way in the same run), any other against the one-line floor."""
    name, floor = ("chart", chart) if charts else ("one-line", one_line)
    return name, seconds - floor, seconds - floor <= TARGET_S


def new_tab(browser, url: str, expect: str | None = None, warm=None) -> float:
    """Seconds from navigation start to settled in a new tab (a new session): a new page in `warm` (the browser
    profile a person's new tab opens in, its caches filled by earlier tabs) or, without it, in a fresh context
    (a cold cache); `expect`: a selector that must be on the settled page (so an error screen is not timed as a
    fast page)."""
    ctx = warm or browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    try:
        page.add_init_script(OBSERVE)
        page.goto(url, wait_until="commit")
        page.wait_for_function(SETTLED, timeout=180_000, polling=50)
        if expect and not page.locator(expect).count():
            raise RuntimeError(f"{url} settled without {expect}: {page.inner_text('body')[:300]}")
        CHARTS[url] = page.locator(CHART).count()
        return page.evaluate("window.__lastChange") / 1000     # performance.now() counts from navigation start
    finally:
        page.close()
        if warm is None:
            ctx.close()


def weigh(browser, url: str) -> tuple[float, dict[str, int], float]:
    """One new tab with Chrome's DevTools protocol on: (seconds to settled, the JavaScript files it loaded -> their
    bytes, the renderer's main-thread CPU seconds, `Performance.getMetrics` TaskDuration). CPU seconds move less
    with the machine's load than wall seconds do; the files say which lazy chunks an element pulls in."""
    ctx = browser.new_context(viewport=VIEWPORT)
    try:
        page = ctx.new_page()
        cdp = ctx.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.add_init_script(OBSERVE)
        page.goto(url, wait_until="commit")
        page.wait_for_function(SETTLED, timeout=180_000, polling=50)
        files = dict(page.evaluate("""() => performance.getEntriesByType('resource')
            .filter(r => /\\.js(\\?|$)/.test(r.name)).map(r => [r.name.split('/').pop(), r.encodedBodySize])"""))
        task = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}["TaskDuration"]
        return page.evaluate("window.__lastChange") / 1000, files, task
    finally:
        ctx.close()


def menu_switches(browser, url: str, listed: list[tuple[str, str]]) -> dict[str, float]:
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.add_init_script(OBSERVE)
    page.goto(url, wait_until="commit")
    page.wait_for_function(SETTLED, timeout=180_000, polling=50)
    out = {}
    for _, title in listed[1:] + listed[:1]:
        start = page.evaluate("performance.now()")
        page.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
        page.get_by_role("heading", name=title, exact=True).first.wait_for(timeout=180_000)
        page.wait_for_function(SETTLED, timeout=180_000, polling=50)
        out[title] = (page.evaluate("window.__lastChange") - start) / 1000
    ctx.close()
    return out


NAV = '[data-testid="stSidebarNav"]'
# the sidebar floor: the dashboard's sidebar and navigation (same titles and addresses) around empty pages
SIDEBAR_FLOOR = """import sys
sys.path.insert(0, {root!r})
import streamlit as st
from dashboard import sidebar

st.set_page_config(page_title="ModelMix", layout="wide")
user = sidebar.draw()


def empty():
    st.title("Empty page")


st.navigation([st.Page(empty, title=title, url_path=path.strip("/") or "home", default=path == "/")
               for path, title in {listed!r}], expanded=True).run()
"""


# the sidebar in parts (`--sidebar-parts`): the same script with the element kinds not in KEEP drawn as nothing, so
# each step adds one kind of what the sidebar shows; "server": the sidebar's script runs (the person, the sign-in
# row, the ledger's dates); "navigation": app.py's 13 pages, plain or with its "sections" and icons
SIDEBAR_PARTS = """import contextlib
import sys
sys.path.insert(0, {root!r})
import streamlit as st
from dashboard import sidebar

KEEP = {keep!r}


def nothing(*args, **kwargs):
    return None


for kind in ("markdown", "caption", "pills", "text_input", "toggle"):
    if kind not in KEEP:
        setattr(st, kind, nothing)
if "popover" not in KEEP:
    st.popover, st.date_input = (lambda *args, **kwargs: contextlib.nullcontext()), nothing
st.set_page_config(page_title="ModelMix", layout="wide")
if "server" in KEEP:
    user = sidebar.draw()


def empty():
    st.title("Empty page")


if "sections" in KEEP:
    nav = {{section: [st.Page(empty, title=title, icon=icon, url_path=path.strip("/") or "home",
                              default=path == "/") for path, title, icon in listed]
           for section, listed in {sections!r}.items()}}
else:
    nav = [st.Page(empty, title=title, url_path=path.strip("/") or "home", default=path == "/")
           for listed in {sections!r}.values() for path, title, _ in listed]
if "navigation" in KEEP:
    st.navigation(nav, expanded=True).run()
else:
    empty()
"""
# cumulative: each step keeps what the one before drew and adds one thing
_NAV = ("server", "navigation", "sections")
SIDEBAR_STEPS = [
    ("wide page, no sidebar", ()),
    ("+ the sidebar's script (nothing drawn)", ("server",)),
    ("+ navigation (13 links, no sections or icons)", ("server", "navigation")),
    ("+ sections and icons, as app.py draws it", _NAV),
    ("+ heading, local-mode badge, captions (markdown)", (*_NAV, "markdown", "caption")),
    ("+ period presets (pills)", (*_NAV, "markdown", "caption", "pills")),
    ("+ calendar popover (closed)", (*_NAV, "markdown", "caption", "pills", "popover")),
    ("+ typed range, Show SQL: the whole sidebar", (*_NAV, "markdown", "caption", "pills", "popover", "text_input",
                                                   "toggle")),
]


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured_tab(browser, url: str, expect: str | None, warm=None) -> tuple[float, float, float, float, float]:
    """`new_tab` with what it cost: (seconds to settled, the renderer's main-thread task seconds, the server's
    CPU-s, the renderer main thread's CPU-s, the DOM nodes). Task seconds are the main thread's tasks' wall time
    (`TaskDuration`), which queueing on a loaded machine stretches; its CPU seconds (`ThreadTime`) hardly move with
    the load (0.29-0.30 CPU-s for a one-line page at load 15-16, where its task seconds went 0.48-0.72)."""
    ctx = warm or browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    try:
        cdp = ctx.new_cdp_session(page)
        cdp.send("Performance.enable")
        page.add_init_script(OBSERVE)
        pid = PIDS[url.split("/", 3)[0] + "//" + url.split("/", 3)[2]]     # the server of the url's host:port
        server_before = cpu_seconds(pid)
        page.goto(url, wait_until="commit")
        page.wait_for_function(SETTLED, timeout=180_000, polling=50)
        if expect and not page.locator(expect).count():
            raise RuntimeError(f"{url} settled without {expect}: {page.inner_text('body')[:300]}")
        metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        return (page.evaluate("window.__lastChange") / 1000, metrics["TaskDuration"], cpu_seconds(pid) - server_before,
                metrics["ThreadTime"], metrics["Nodes"])
    finally:
        page.close()
        if warm is None:
            ctx.close()


def sidebar_parts(browser, warm, tmp: Path, db: Path, repeat: int) -> None:
    """The sidebar floor built up one part at a time (SIDEBAR_STEPS), beside the one-line floor: every step on its
    own server (9 in all: `--ports` needs a range of 9) and its own copy of the ledger, all served at once, warm new tabs alternated step by step in each
    round so the machine's load drifts over all of them alike, then cold ones the same way; medians of `repeat`
    rounds after two warm-up opens each, with the renderer's and the server's CPU-s of the warm tabs."""
    import shutil

    floor_app = tmp / "floor.py"
    apps = [("one-line floor", floor_app, {}, None)]
    for n, (label, keep) in enumerate(SIDEBAR_STEPS):
        script, copy = tmp / f"sidebar_step_{n}.py", tmp / f"sidebar-step-{n}.duckdb"
        script.write_text(SIDEBAR_PARTS.format(root=str(ROOT), keep=keep, sections=sections()))
        shutil.copy(db, copy)
        apps.append((label, script, {"MODELMIX_DB": str(copy), "MODELMIX_WARM_UP": "false",
                                     "MODELMIX_JOBS_FILE": str(tmp / "jobs.yaml")},
                     NAV if "navigation" in keep else None))
    with contextlib.ExitStack() as stack:
        urls = [stack.enter_context(server(script, env)) for _, script, env, _ in apps]
        for (_, _, _, expect), url in zip(apps, urls, strict=True):
            for _ in range(2):
                new_tab(browser, url, expect=expect, warm=warm)
        warm_runs: dict[str, list[tuple[float, float, float]]] = {label: [] for label, *_ in apps}
        cold_runs: dict[str, list[float]] = {label: [] for label, *_ in apps}
        for _ in range(repeat):
            for (label, _, _, expect), url in zip(apps, urls, strict=True):
                warm_runs[label].append(measured_tab(browser, url, expect, warm)[:3])
        for _ in range(repeat):
            for (label, _, _, expect), url in zip(apps, urls, strict=True):
                cold_runs[label].append(new_tab(browser, url, expect))
        print(f"\nthe sidebar in parts — new tab, navigation to settled (median of {repeat} rounds, {load()})\n"
              f"  {'step':<48} warm (s)  step +  renderer CPU-s  server CPU-s | cold (s)  step +", flush=True)
        before = None
        for label, *_ in apps:
            w, task, srv = (statistics.median(r[i] for r in warm_runs[label]) for i in range(3))
            c = statistics.median(cold_runs[label])
            plus = ("        " if before is None else f"  {w - before[0]:+6.2f}",
                    "        " if before is None else f"  {c - before[1]:+6.2f}")
            print(f"  {label:<48} {w:8.2f}{plus[0]}  {task:14.2f}  {srv:12.2f} | {c:8.2f}{plus[1]}", flush=True)
            before = (w, c)


# the page in parts (`--page-parts PAGE`): dashboard/app.py served as it is, with Streamlit patched first so that
# the element kinds a variant names draw nothing when a page under dashboard/views/ draws them (the sidebar, drawn
# by app.py, is untouched). "KIND@function": only inside that function of the page (one chart of several).
# "expander" and "popover" swallow what they hold. A variant's elements return what an untouched widget returns
# on a new tab (a button False, an uploader None), so the page runs on as a new session would.
PAGE_PARTS_LAUNCHER = """import contextlib
import sys
import threading

sys.path.insert(0, {root!r})     # as `python -m streamlit` run from the tree would have it
import streamlit as st
from streamlit.delta_generator import DeltaGenerator

OMIT = {omit!r}
PATCHED = ("vega_lite_chart", "metric", "html", "caption", "markdown", "info", "warning", "success", "error",
           "button", "download_button", "page_link", "toggle", "file_uploader", "expander", "popover", "subheader")
RETURNS = {{"button": False, "download_button": False, "toggle": False}}
local = threading.local()


def in_page(function):
    frame = sys._getframe(2)
    while frame is not None:
        code = frame.f_code
        if "/dashboard/views/" in code.co_filename and (function is None or code.co_name == function):
            return True
        frame = frame.f_back
    return False


def nth(kind):
    # this call's number among the page run's calls of `kind` (1, 2, ...): a run starts with fresh cursors
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    run = id(get_script_run_ctx().cursors)
    if getattr(local, "run", None) != run:
        local.run, local.counts = run, {{}}
    local.counts[kind] = local.counts.get(kind, 0) + 1
    return local.counts[kind]


def left_out(kind, selectors):
    # whether this call of `kind` is left out: a selector None (every one the page draws), a function name (those
    # drawn inside it) or "#n" (the page run's n-th)
    number = nth(kind) if any(s and s.startswith("#") for s in selectors) and in_page(None) else None
    return any(in_page(None) and number == int(s[1:]) if s and s.startswith("#") else in_page(s) for s in selectors)


def as_canvas(spec):
    # a chart drawn on a canvas instead of SVG unless its spec names a renderer (the "canvas" variant)
    if isinstance(spec, dict) and "renderer" not in spec.get("usermeta", {{}}).get("embedOptions", {{}}):
        spec = {{**spec, "usermeta": {{"embedOptions": {{"renderer": "canvas"}}}}}}
    return spec


def inline_data(spec):
    # a chart's datasets as JSON rows in the spec instead of Arrow tables beside it (the "inline" variant); dates and
    # times as epoch milliseconds, which a Vega-Lite time scale reads as it reads Arrow's timestamps
    import polars as pl

    if not isinstance(spec, dict) or not isinstance(spec.get("datasets"), dict):
        return spec
    out = {{}}
    for name, frame in spec["datasets"].items():
        if isinstance(frame, pl.DataFrame):
            frame = frame.with_columns(pl.col(c).dt.epoch("ms") for c, t in frame.schema.items() if t.is_temporal())
            frame = frame.with_columns(pl.col(c).cast(pl.Float64) for c, t in frame.schema.items() if t.is_decimal())
            frame = frame.to_dicts()
        out[name] = frame
    return {{**spec, "datasets": out}}


def draw_static(dg, spec, png=False):
    # the "static" variant: the chart rendered to SVG on the server (vl-convert-python, not a project dependency:
    # installed beside the bench for this variant) and shown as an image, so the browser runs no Vega at all.
    # Streamlit's own chart theme is not applied (the same spec's figures and marks, its default look)
    import vl_convert

    spec = inline_data(spec)
    spec = {{**spec, "width": spec.get("width", 640) if isinstance(spec.get("width"), int) else 640}}
    for name, rows in spec.get("datasets", {{}}).items():
        if not isinstance(rows, list):
            spec["datasets"][name] = rows.to_dicts()
    if png:     # an image the browser decodes, no SVG elements (twice the pixels, for a sharp chart)
        dg.image(vl_convert.vegalite_to_png(spec, scale=2), width=spec["width"])
    else:
        dg.image(vl_convert.vegalite_to_svg(spec))


def without_aria(spec):
    # a chart without Vega-Lite's ARIA descriptions: no description per mark item (the "noaria" variant)
    if isinstance(spec, dict):
        spec = {{**spec, "config": {{**spec.get("config", {{}}), "aria": False}}}}
    return spec


@contextlib.contextmanager
def swallowed():
    local.swallow = getattr(local, "swallow", 0) + 1
    try:
        yield None
    finally:
        local.swallow -= 1


def patch(kind):
    original = getattr(DeltaGenerator, kind)
    functions = [function for omitted, function in OMIT if omitted == kind]

    def drawn_or_not(self, *args, **kwargs):
        if getattr(local, "swallow", 0) or (functions and left_out(kind, functions)):
            if kind in ("expander", "popover"):
                return swallowed()
            return RETURNS.get(kind)
        if kind == "vega_lite_chart" and ("canvas", None) in OMIT and args:
            args = (as_canvas(args[0]), *args[1:])
        if kind == "vega_lite_chart" and {{("static", None), ("png", None)}} & set(OMIT) and args and in_page(None):
            return draw_static(self, args[0], png=("png", None) in OMIT)
        if kind == "vega_lite_chart" and ("inline", None) in OMIT and args:
            args = (inline_data(args[0]), *args[1:])
        if kind == "vega_lite_chart" and ("noaria", None) in OMIT and args:
            args = (without_aria(args[0]), *args[1:])
        return original(self, *args, **kwargs)

    setattr(DeltaGenerator, kind, drawn_or_not)
    setattr(st, kind, getattr(st._main, kind))


for kind in PATCHED:
    patch(kind)
from streamlit.web.cli import main

sys.argv = ["streamlit", *sys.argv[1:]]
main()
"""
# each variant: (label, what it leaves out); the first is the page as it is
PAGE_VARIANTS = [
    ("the page as it is", ()),
    ("no charts", (("vega_lite_chart", None),)),
    ("no metrics", (("metric", None),)),
    ("no light tables (st.html)", (("html", None),)),
    ("no captions or markdown", (("caption", None), ("markdown", None))),
    ("no notes (info, warning, success)", (("info", None), ("warning", None), ("success", None))),
    ("no buttons, downloads, links, uploaders", (("button", None), ("download_button", None), ("page_link", None),
                                                 ("toggle", None), ("file_uploader", None))),
    ("no expanders or popovers", (("expander", None), ("popover", None))),
    ("none of these (title, headings' widgets)", tuple((kind, None) for kind in (
        "vega_lite_chart", "metric", "html", "caption", "markdown", "info", "warning", "success", "button",
        "download_button", "page_link", "toggle", "file_uploader", "expander", "popover", "subheader"))),
]


def parse_variant(text: str) -> tuple[str, tuple[tuple[str, str | None], ...]]:
    """`--variants` items: "vega_lite_chart@preview+metric" leaves out What-if's preview chart and every metric;
    "vega_lite_chart@#2" the page run's second chart; "canvas" draws every chart on a canvas, "noaria" without
    Vega-Lite's ARIA descriptions, "inline" with its data as JSON rows in the spec, "static" as an SVG image
    rendered on the server, "png" as a PNG (both need vl-convert-python importable; drawn another way)."""
    out = []
    for part in text.split("+"):
        kind, _, function = part.partition("@")
        out.append((kind, function or None))
    drawn_otherwise = {kind for kind, _ in out} <= {"canvas", "noaria", "inline", "static", "png"}
    return ("" if drawn_otherwise else "no ") + text, tuple(out)


def page_parts(browser, warm, tmp: Path, db: Path, paths: list[str], repeat: int, variants: list | None = None,
               trees: list[Path] | None = None, with_floors: bool = False) -> None:
    """Pages with one kind of element left out per variant (PAGE_VARIANTS, or `--variants`), or the same pages as
    other trees draw them (`--trees`: another checkout served as it is, e.g. a copy of main before a change): each
    variant and tree on its own server and its own copy of the ledger (9 at most: the `--ports` range), all served at
    once, warm new tabs alternated page by page and variant by variant in each round so the machine's load drifts
    over all of them alike; medians of `repeat` rounds after two warm-up opens each, with the renderer's and the
    server's CPU-s. `with_floors`: the one-line and chart floors opened in the same rounds, so a page's renderer
    CPU-s can be read against what a one-line page and a page with one small chart cost."""
    import shutil

    variants = [PAGE_VARIANTS[0], *variants] if variants else ([PAGE_VARIANTS[0]] if trees else PAGE_VARIANTS)
    apps = []       # (label, launcher, env, tree)
    for n, (label, omit, tree) in enumerate([(label, omit, ROOT) for label, omit in variants]
                                            + [(f"as {tree} draws it", (), Path(tree).resolve()) for tree in trees or []]):
        launcher, copy = tmp / f"page_parts_{n}.py", tmp / f"page-parts-{n}.duckdb"
        launcher.write_text(PAGE_PARTS_LAUNCHER.format(root=str(tree), omit=list(omit)))
        shutil.copy(db, copy)
        apps.append((label, launcher, {"MODELMIX_DB": str(copy), "MODELMIX_WARM_UP": "false",
                                       "MODELMIX_JOBS_FILE": str(tmp / "jobs.yaml"), "PYTHONPATH": str(tree)}, tree))
    floor_apps = []
    if with_floors:
        (tmp / "floor.py").write_text('import streamlit as st\nst.write("ok")\n')
        (tmp / "chart_floor.py").write_text(CHART_FLOOR)
        floor_apps = [("one-line floor", tmp / "floor.py"), ("chart floor", tmp / "chart_floor.py")]
    with contextlib.ExitStack() as stack:
        bases = [stack.enter_context(server(tree / "dashboard" / "app.py", env, launcher, cwd=tree))
                 for _, launcher, env, tree in apps]
        floor_urls = [stack.enter_context(server(script, {})) for _, script in floor_apps]
        tabs = [(path, label, base + path, NAV) for path in paths for (label, *_), base in zip(apps, bases, strict=True)]
        tabs += [(None, label, url, None) for (label, _), url in zip(floor_apps, floor_urls, strict=True)]
        for _, _, url, expect in tabs:
            for _ in range(2):
                new_tab(browser, url, expect=expect, warm=warm)
        runs: dict[tuple, list[tuple[float, ...]]] = {(path, label): [] for path, label, *_ in tabs}
        for _ in range(repeat):
            for path, label, url, expect in tabs:
                runs[(path, label)].append(measured_tab(browser, url, expect, warm))
        floors_seen = [(label, [statistics.median(r[i] for r in runs[(None, label)]) for i in range(5)])
                       for label, _ in floor_apps]
        for path in paths:
            print(f"\n{path} in parts — warm new tab, navigation to settled (median of {repeat} rounds, {load()}); the "
                  "renderer main thread's CPU-s (steady under load) and task s (stretched by it)\n"
                  f"  {'variant':<48} warm (s)  vs whole  renderer CPU-s  vs whole  task s  DOM nodes  server CPU-s",
                  flush=True)
            whole = None
            for label, *_ in apps:
                w, task, srv, cpu, nodes = (statistics.median(r[i] for r in runs[(path, label)]) for i in range(5))
                vs = (("        ", "        ") if whole is None else
                      (f"  {w - whole[0]:+6.2f}", f"  {cpu - whole[1]:+6.3f}"))
                print(f"  {label:<48} {w:8.2f}{vs[0]}  {cpu:14.3f}{vs[1]}  {task:6.2f}  {nodes:9.0f}  {srv:11.2f}",
                      flush=True)
                whole = whole or (w, cpu)
            for label, (w, task, srv, cpu, nodes) in floors_seen:
                print(f"  {label:<48} {w:8.2f}  {w - whole[0]:+6.2f}  {cpu:14.3f}  {cpu - whole[1]:+6.3f}  {task:6.2f}"
                      f"  {nodes:9.0f}  {srv:11.2f}", flush=True)


# the chart floor: the one-line floor with one small Vega-Lite chart (four bars, a tooltip) under it. What any page
# with a chart pays in a new tab before its own: Vega's start (its module evaluated, its first spec compiled, its
# tooltip handler and stylesheet), ~0.1-0.2 renderer CPU-s warm ("tenth session" in docs/benchmarks.md)
CHART_FLOOR = """import streamlit as st

st.write("ok")
st.vega_lite_chart({"data": {"values": [{"x": "a", "y": 1}, {"x": "b", "y": 3}, {"x": "c", "y": 2},
                                         {"x": "d", "y": 4}]},
                    "mark": "bar", "encoding": {"x": {"field": "x", "type": "nominal"},
                                                "y": {"field": "y", "type": "quantitative"},
                                                "tooltip": [{"field": "y", "type": "quantitative"}]}},
                   width="stretch")
"""

SLIDER_FLOOR = """import streamlit as st

st.title("What-if")


@st.fragment
def panel():
    share = st.slider("Share moved", 0, 100, 80)
    st.metric("Savings", f"${share * 12.5:,.2f}")


panel()
"""


def slider_moves(browser, url: str, moves: int = 5, path: str = "/whatif") -> list[float]:
    """What-if: one ArrowRight (or Left at the end) on the first slider, to the moment Savings changes."""
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.add_init_script(OBSERVE)
    page.goto(url + path, wait_until="commit")
    page.wait_for_function(SETTLED, timeout=300_000, polling=50)
    knob = page.locator('[data-testid="stSlider"]').first.get_by_role("slider")
    out = []
    for i in range(moves):
        before = page.locator('[data-testid="stMetric"]', has_text="Savings").first.inner_text()
        knob.focus()
        start = page.evaluate("performance.now()")
        page.keyboard.press("ArrowLeft" if i % 2 else "ArrowRight")
        page.wait_for_function(
            """([text]) => { const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
                   .find(e => e.innerText.includes('Savings')); return m && m.innerText !== text; }""",
            arg=[before], timeout=60_000, polling="raf")
        out.append((page.evaluate("performance.now()") - start) / 1000)
        page.wait_for_function(SETTLED, timeout=60_000, polling=50)
    ctx.close()
    return out


# in the page: the time each key press reaches the range input and of the first DOM change after it that changes
# the preview chart's figures (Vega redrawing its SVG text)
PREVIEW_OBSERVE = """() => {
  const input = document.querySelector('[data-testid="stVegaLiteChart"] .vega-bindings input[type=range]');
  const chart = input.closest('[data-testid="stVegaLiteChart"]');
  const figures = () => { const t = [...chart.querySelectorAll('svg text')]
    .find(e => e.textContent.includes(': savings ')); return t ? t.textContent : null; };
  window.__input = null; window.__drawn = null;
  let before = null;
  // the key press as the page receives it (before Vega's own input listener can redraw)
  input.addEventListener('keydown', () => { window.__input = performance.now(); window.__drawn = null;
                                            before = figures(); }, {capture: true});
  new MutationObserver(() => {
      if (window.__input !== null && window.__drawn === null && figures() !== before) {
        window.__drawn = performance.now(); } })
    .observe(chart, {subtree: true, childList: true, characterData: true, attributes: true});
}"""
PREVIEW_OPENER = '[data-testid="stExpander"] summary:has-text("Drag to preview")'
PREVIEW_TEXT = """() => { const t = [...document.querySelectorAll('[data-testid="stVegaLiteChart"] svg text')]
  .find(e => e.textContent.includes(': savings ')); return t ? t.textContent : null; }"""


def preview_moves(browser, url: str, moves: int = 20, path: str = "/whatif") -> tuple[list[float], list[float]]:
    """What-if's preview in the browser: one ArrowRight (Left every other move) on the range input under the
    preview chart, to the moment its figures show the new value (seconds, measured as `slider_moves` measures a
    Streamlit slider: from just before the key press to the text seen changed); and, inside the page, from the
    key press reaching the input to the DOM change that shows the new figures."""
    ctx = browser.new_context(viewport=VIEWPORT)
    page = ctx.new_page()
    page.add_init_script(OBSERVE)
    page.goto(url + path, wait_until="commit")
    page.wait_for_function(SETTLED, timeout=300_000, polling=50)
    page.locator(PREVIEW_OPENER).first.click()         # the preview is built when its expander is opened
    knob = page.locator('[data-testid="stVegaLiteChart"] .vega-bindings input[type=range]').first
    knob.wait_for(timeout=60_000)
    page.wait_for_function(SETTLED, timeout=60_000, polling=50)
    page.evaluate(PREVIEW_OBSERVE)
    seen, drawn = [], []
    for i in range(moves):
        before = page.evaluate(PREVIEW_TEXT)
        knob.focus()
        start = page.evaluate("performance.now()")
        page.keyboard.press("ArrowLeft" if i % 2 else "ArrowRight")
        page.wait_for_function(f"([text]) => ({PREVIEW_TEXT})() !== text", arg=[before], timeout=10_000,
                               polling="raf")
        seen.append((page.evaluate("performance.now()") - start) / 1000)
        drawn.append(page.evaluate("window.__drawn - window.__input") / 1000)
    ctx.close()
    return seen, drawn


def floors(browser, warm, floor_app: Path, sidebar_app: Path, chart_app: Path, env: dict[str, str], repeat: int,
           weights: dict | None = None) -> tuple[dict[str, tuple[float, float, float]], str]:
    """{"warm"/"cold": (one-line floor, sidebar floor, chart floor)} and the load then, each the median of repeat + 1
    new tabs after a first one (which fills the warm profile's caches), warm and cold alternated; the sidebar floor on
    its own server before the app's (two servers can't open one ledger file at once: the second would show "database
    busy", which settles in no time). With `weights`, each floor's `weigh` too."""
    out = {}
    with (server(floor_app, {}) as floor_url, server(chart_app, {}) as chart_url,
          server(sidebar_app, {**env, "MODELMIX_WARM_UP": "false"}) as sidebar_url):
        for url, expect in ((sidebar_url, NAV), (floor_url, None), (chart_url, None)):
            new_tab(browser, url, expect=expect, warm=warm)
            pairs = [(new_tab(browser, url, expect, warm), new_tab(browser, url, expect)) for _ in range(repeat + 1)]
            out[url] = [statistics.median(p[i] for p in pairs) for i in (0, 1)]
        if weights is not None:
            weights["floor"], weights["sidebar floor"] = weigh(browser, floor_url), weigh(browser, sidebar_url)
            weights["chart floor"] = weigh(browser, chart_url)
        return {kind: (out[floor_url][i], out[sidebar_url][i], out[chart_url][i])
                for i, kind in enumerate(("warm", "cold"))}, load()


def print_weights(weights: dict, floor_files: dict[str, int]) -> None:
    """Per page: JavaScript loaded, the largest chunks the one-line floor does not load, renderer CPU."""
    print("what each new tab loads and runs (one tab each; JS beyond the one-line floor's, renderer CPU-s):")
    for name, (t, files, task) in weights.items():
        extra = sorted(((b, f.split(".")[0]) for f, b in files.items() if f not in floor_files), reverse=True)
        print(f"  {name:<24} {t:5.2f} s  JS {sum(files.values()) / 1e6:4.2f} MB (+{sum(b for b, _ in extra) / 1e6:4.2f}: "
              + ", ".join(f"{n} {b / 1e3:.0f} kB" for b, n in extra[:4]) + f")  renderer {task:5.2f} CPU-s  {load()}",
              flush=True)


def pages_and_menu(browser, warm, url: str, floor: dict[str, tuple[float, float, float]], listed: list[tuple[str, str]],
                   name: str, repeat: int, switches: bool = True) -> None:
    """Every page from a new tab, warm and cold alternated, each against its own floors; then every menu switch
    (printed as they come)."""
    print(f"\n{name} — new tab, navigation to settled (median of {repeat}); target: its own floor + {TARGET_S} s "
          "(the chart floor for a page that draws a chart, else the one-line floor)\n"
          + "".join(f"  {kind:<4} floor (one-line app) {f:.2f} s, sidebar floor (ModelMix's sidebar, empty page) "
                    f"{s:.2f} s, chart floor (one-line app + one small Vega-Lite chart) {c:.2f} s\n"
                    for kind, (f, s, c) in floor.items())
          + "  page                     charts  warm (s)  judged on  over it  ok?   floor +  sidebar floor +  chart floor +"
            " | cold (s)  over its floor", flush=True)
    for path, _ in listed:      # every page once in the warm profile first, as a person who uses the dashboard has:
        new_tab(browser, url + path, warm=warm)     # each page's own chunks (the grid's, the charts') cached
    met = []
    for path, title in listed:
        pairs = [(new_tab(browser, url + path, warm=warm), new_tab(browser, url + path)) for _ in range(repeat)]
        (tw, tc), ((fw, sw, cw), (fc, _, cc)) = ([statistics.median(p[i] for p in pairs) for i in (0, 1)],
                                                 floor.values())
        charts = CHARTS[url + path]
        which, over, ok = judged(tw, fw, cw, charts)
        met += [title] if ok else []
        print(f"  {title:<24} {charts:6d}  {tw:8.2f}  {which:<9}  {over:+6.2f}  {'ok' if ok else 'OVER':<4}  {tw - fw:+6.2f}"
              f"  {tw - sw:+15.2f}  {tw - cw:+13.2f} | {tc:8.2f}  {judged(tc, fc, cc, charts)[1]:+14.2f}   {load()}",
              flush=True)
    print(f"  within {TARGET_S} s of its own floor (warm): {len(met)} of {len(listed)}"
          + (f" ({', '.join(met)})" if met else ""), flush=True)
    if not switches:
        return
    print(f"{name} — menu switch (target <= 1 s)", flush=True)
    for title, t in menu_switches(browser, url, listed).items():
        print(f"  {title:<24} {t:6.2f} s   {'ok' if t <= 1 else 'OVER':<4}  {load()}", flush=True)


def ledger_for(rows: int | None, tmp: Path) -> tuple[str, Path]:
    from ingest import ingest_paths
    from warehouse import Warehouse

    db = tmp / f"ledger-{rows or 'sample'}.duckdb"
    t = time.perf_counter()
    if rows is None:
        with Warehouse(db) as wh:
            ingest_paths(wh, [SAMPLE])
        return "sample ledger", db
    from cli import sample

    sample.generate(tmp / f"data-{rows}", rows)
    with Warehouse(db) as wh:
        ingest_paths(wh, [tmp / f"data-{rows}"])
    print(f"  ({rows:,} rows generated and ingested in {time.perf_counter() - t:.0f} s, untimed)", flush=True)
    return f"{rows:,} request rows", db


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", action="store_true", help="bench the bundled sample ledger")
    parser.add_argument("--rows", type=int, nargs="*", default=[], help="generated ledgers of N request rows")
    parser.add_argument("--repeat", type=int, default=2, help="new-tab opens per page (the median is shown)")
    parser.add_argument("--db", type=Path, nargs="*", default=[],
                        help="existing ledgers to bench as they are (e.g. one ingested from `modelmix sample`)")
    parser.add_argument("--pages", nargs="*", default=[],
                        help="only these pages (url path such as /prices, or title); default every page")
    parser.add_argument("--no-switch", action="store_true", help="new tabs only: no menu switches or slider moves")
    parser.add_argument("--weigh", action="store_true",
                        help="also per page: JavaScript loaded beyond the floor's and renderer CPU (DevTools)")
    parser.add_argument("--sliders-only", action="store_true",
                        help="only the slider moves: What-if's slider, its preview in the browser, the slider floor")
    parser.add_argument("--moves", type=int, default=20, help="slider moves per measure (the median is shown)")
    parser.add_argument("--sidebar-parts", action="store_true",
                        help="only the sidebar floor built up one element kind at a time, beside the one-line floor")
    parser.add_argument("--page-parts", metavar="PAGE", nargs="+",
                        help="only these pages (url paths such as /whatif) with one kind of element left out per "
                             "variant, beside the page as it is (renderer and server CPU-s)")
    parser.add_argument("--trees", nargs="*", default=[], type=Path,
                        help="with --page-parts: the same pages as these other checkouts draw them (e.g. main "
                             "before a change), served as they are beside this tree's, alternated")
    parser.add_argument("--floors", action="store_true",
                        help="with --page-parts: the one-line and chart floors opened in the same rounds")
    parser.add_argument("--variants", nargs="*", default=[],
                        help="with --page-parts: these variants instead of the element kinds, e.g. "
                             "vega_lite_chart@preview (one function's charts) or metric+caption")
    parser.add_argument("--ports", help="serve only on ports in this range, e.g. 8661-8669 (default: any free port)")
    args = parser.parse_args()
    if args.ports:
        first, last = map(int, args.ports.split("-"))
        PORTS[:] = range(first, last + 1)
    if not args.sample and not args.rows and not args.db:
        args.sample = True
    global PlaywrightTimeout
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min)")
    every = pages()
    listed = [(path, title) for path, title in every if not args.pages or path in args.pages or title in args.pages]
    with tempfile.TemporaryDirectory(prefix="modelmix-bench-browser-") as tmp, sync_playwright() as p:
        tmp = Path(tmp)
        floor_app = tmp / "floor.py"
        floor_app.write_text('import streamlit as st\nst.write("ok")\n')
        slider_app = tmp / "slider_floor.py"
        slider_app.write_text(SLIDER_FLOOR)
        chart_app = tmp / "chart_floor.py"
        chart_app.write_text(CHART_FLOOR)
        sidebar_app = tmp / "sidebar_floor.py"
        sidebar_app.write_text(SIDEBAR_FLOOR.format(root=str(ROOT), listed=every))
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # a person's browser: one profile on disk (HTTP cache, V8's code cache) in which every warm new tab opens
        warm = p.chromium.launch_persistent_context(str(tmp / "profile"), executable_path=CHROMIUM,
                                                    args=CHROMIUM_ARGS, viewport=VIEWPORT)
        for rows in ([None] if args.sample else []) + list(args.rows) + list(args.db):
            name, db = (f"ledger {rows}", rows) if isinstance(rows, Path) else ledger_for(rows, tmp)
            env = {"MODELMIX_DB": str(db), "MODELMIX_JOBS_FILE": str(tmp / "jobs.yaml")}
            if args.page_parts:
                page_parts(browser, warm, tmp, db, args.page_parts, max(args.repeat, 3),
                           [parse_variant(v) for v in args.variants], args.trees, args.floors)
                continue
            if args.sidebar_parts:
                sidebar_parts(browser, warm, tmp, db, max(args.repeat, 3))
                continue
            weights = {} if args.weigh and not args.sliders_only else None
            if not args.sliders_only:
                floor, floors_load = floors(browser, warm, floor_app, sidebar_app, chart_app, env, args.repeat,
                                            weights)
                print(f"floors measured at {floors_load}", flush=True)
            with server(APP, env) as url:
                new_tab(browser, url, expect=NAV)   # the server's first run (imports, opening the ledger)
                print(f"server idle (warm-up done) after {wait_idle(url):.0f} s", flush=True)
                if not args.sliders_only:
                    pages_and_menu(browser, warm, url, floor, listed, name, args.repeat, switches=not args.no_switch)
                if weights is not None:
                    for path, title in listed:
                        try:
                            weights[title] = weigh(browser, url + path)
                        except PlaywrightTimeout:   # one page that never settles must not lose the others' figures
                            print(f"  {title}: did not settle within 180 s while weighed ({load()})", flush=True)
                    print_weights(weights, weights["floor"][1])
                if args.no_switch:
                    continue
                moves = slider_moves(browser, url, args.moves)
                print(f"{name} — What-if slider move to the new Savings figure (target <= 0.1 s): "
                      + ", ".join(f"{m * 1000:.0f} ms" for m in moves)
                      + f"; median {statistics.median(moves) * 1000:.0f} ms; {load()}", flush=True)
                seen, drawn = preview_moves(browser, url, args.moves)
                print(f"{name} — What-if preview in the browser, range input move to its figures changed (target "
                      "<= 0.1 s): " + ", ".join(f"{m * 1000:.0f}" for m in seen)
                      + f" ms; median {statistics.median(seen) * 1000:.1f} ms; in the page, key press to the figures "
                      f"redrawn: median {statistics.median(drawn) * 1000:.1f} ms, max {max(drawn) * 1000:.1f} ms; "
                      f"{load()}", flush=True)
            with server(slider_app, {}) as slider_url:
                new_tab(browser, slider_url)
                moves = slider_moves(browser, slider_url, args.moves, path="")
                print(f"{name} — slider floor (a one-slider fragment app, same measure): "
                      + ", ".join(f"{m * 1000:.0f}" for m in moves)
                      + f" ms; median {statistics.median(moves) * 1000:.0f} ms; {load()}", flush=True)
        warm.close()
        browser.close()
    print(f"\nload after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
