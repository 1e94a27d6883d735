"""One real-browser test of the whole app: `streamlit run` on a free port against a test ledger, Debian's
headless Chromium driven by Playwright. Never downloads a browser; fails (not skips) when Chromium is missing."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from dashboard.components.formatting import usd
from ledger_factory import build_ledger, write_usage_csv
from warehouse import Warehouse

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(proc: subprocess.Popen, port: int, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    pytest.fail(f"streamlit did not answer on port {port} within {timeout}s:\n{log.read_text()}")


@pytest.mark.browser
def test_overview_renders_in_chromium(tmp_path):
    assert CHROMIUM.is_file(), (
        f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium); this test never downloads "
        "a browser")
    from playwright.sync_api import sync_playwright

    db = build_ledger(tmp_path / "ledger.duckdb", [write_usage_csv(tmp_path / "usage.csv")])
    with Warehouse(db) as wh:     # the figure the page must show: September's spend so far
        mtd = float(wh.scalar("select sum(coalesce(cost_usd, list_cost_usd)) from usage "
                              "where ts >= date '2025-09-01'"))
    port = _free_port()
    log = tmp_path / "streamlit.log"
    env = dict(os.environ, MODELMIX_DB=str(db))
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_healthy(proc, port, log)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1440, "height": 1000})
                page.goto(f"http://127.0.0.1:{port}/")
                page.get_by_role("heading", name="Overview").wait_for(timeout=60_000)
                page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=60_000)
                kpi = page.locator('[data-testid="stMetric"]', has_text="Spend so far")
                kpi.wait_for(timeout=30_000)
                assert usd(mtd) in kpi.inner_text()
                assert page.locator('[data-testid="stException"]').count() == 0
                page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
            finally:
                browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert (tmp_path / "overview.png").stat().st_size > 10_000
