"""Bench the dashboard as a person waits for it: headless Chromium (Debian's, via Playwright), per page, from
navigation to the last element settled, beside a one-line Streamlit app opened the same way in the same run.

For each ledger (the bundled sample, and/or N generated request rows ingested once, untimed):

- a fresh `streamlit run dashboard/app.py` and a fresh one-line app (`st.write("ok")`, the floor: what any
  Streamlit page costs in this browser on this machine), each on its own port;
- **new tab**: per page registered in dashboard/app.py, a new browser context (a new session, nothing cached in
  the browser) opens the page's own URL; the time is from navigation start to the last DOM change, once the
  script has finished (`stApp[data-test-script-state=notRunning]`), no spinner or skeleton is left and nothing
  changed for QUIET_MS; the floor app is measured the same way, and each page's excess over it is printed;
- **menu switch**: in one tab, a click on each page in the sidebar menu to the same settled point;
- **slider move**: on What-if, one ArrowRight on the first slider to the moment the Savings figure changes;
  beside it the same on a floor app (one slider and one "Savings" metric in a fragment, nothing else): what any
  Streamlit slider round trip costs in this browser on this machine.

Targets (issue 15 §8, docs/benchmarks.md "Dashboard in a browser"): every page within 0.7 s of the floor from
a new tab, a menu switch <= 1 s, a slider move <= 100 ms. Note the machine's load (`uptime`) beside the figures.
Usage: python bench/browser.py [--sample] [--rows 1000000 5000000] [--repeat 2]
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


def load() -> str:
    """The 1-minute load average now: printed beside every figure (the machine is shared)."""
    return f"load {os.getloadavg()[0]:.1f}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(script: Path, env: dict[str, str]):
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1):
                    break
            except OSError:
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def new_tab(browser, url: str) -> float:
    """Seconds from navigation start to settled, in a fresh context (a new session)."""
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        page = ctx.new_page()
        page.add_init_script(OBSERVE)
        page.goto(url, wait_until="commit")
        page.wait_for_function(SETTLED, timeout=180_000, polling=50)
        return page.evaluate("window.__lastChange") / 1000     # performance.now() counts from navigation start
    finally:
        ctx.close()


def menu_switches(browser, url: str, listed: list[tuple[str, str]]) -> dict[str, float]:
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
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
    ctx = browser.new_context(viewport={"width": 1440, "height": 1000})
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
    args = parser.parse_args()
    if not args.sample and not args.rows:
        args.sample = True
    from playwright.sync_api import sync_playwright

    print(f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f} (1/5/15 min)")
    listed = pages()
    with tempfile.TemporaryDirectory(prefix="modelmix-bench-browser-") as tmp, sync_playwright() as p:
        tmp = Path(tmp)
        floor_app = tmp / "floor.py"
        floor_app.write_text('import streamlit as st\nst.write("ok")\n')
        slider_app = tmp / "slider_floor.py"
        slider_app.write_text(SLIDER_FLOOR)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for rows in ([None] if args.sample else []) + list(args.rows):
            name, db = ledger_for(rows, tmp)
            env = {"MODELMIX_DB": str(db), "MODELMIX_JOBS_FILE": str(tmp / "jobs.yaml")}
            with server(APP, env) as url, server(floor_app, {}) as floor_url:
                new_tab(browser, url)               # the server's first run (imports, opening the ledger)
                new_tab(browser, floor_url)
                floor = statistics.median(new_tab(browser, floor_url) for _ in range(args.repeat + 1))
                print(f"\n{name} — new tab, navigation to settled (median of {args.repeat}); floor "
                      f"(one-line app) {floor:.2f} s ({load()}); target: floor + 0.7 s", flush=True)
                for path, title in listed:
                    t = statistics.median(new_tab(browser, url + path) for _ in range(args.repeat))
                    flag = "ok" if t - floor <= 0.7 else "OVER"
                    print(f"  {title:<24} {t:6.2f} s   floor +{t - floor:5.2f} s   {flag:<4}  {load()}", flush=True)
                print(f"{name} — menu switch (target <= 1 s)", flush=True)
                for title, t in menu_switches(browser, url, listed).items():
                    print(f"  {title:<24} {t:6.2f} s   {'ok' if t <= 1 else 'OVER':<4}  {load()}", flush=True)
                moves = slider_moves(browser, url)
                print(f"{name} — What-if slider move to the new Savings figure (target <= 0.1 s): "
                      + ", ".join(f"{m * 1000:.0f} ms" for m in moves)
                      + f"; median {statistics.median(moves) * 1000:.0f} ms; {load()}", flush=True)
            with server(slider_app, {}) as slider_url:
                new_tab(browser, slider_url)
                moves = slider_moves(browser, slider_url, path="")
                print(f"{name} — slider floor (a one-slider fragment app, same measure): "
                      + ", ".join(f"{m * 1000:.0f} ms" for m in moves)
                      + f"; median {statistics.median(moves) * 1000:.0f} ms; {load()}", flush=True)
        browser.close()
    print(f"\nload after: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}")


if __name__ == "__main__":
    main()
