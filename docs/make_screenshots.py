"""Refresh the README's screenshots (docs/screenshot-*.png): the bundled sample ledger with the example budgets
(docs/examples/budgets.yaml), served by `modelmix serve` on a free port (as a user starts it: its upload cap,
error details and theme), Debian's headless Chromium; each page's first screen once it has settled.
Usage: python docs/make_screenshots.py [overview whatif ...] (default: all)"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from browser import CHROMIUM, CHROMIUM_ARGS, OBSERVE, SAMPLE, SETTLED, free_port  # noqa: E402

SHOTS = {"overview": "/", "explore": "/explore", "budgets": "/budgets", "whatif": "/whatif",
         "upload": "/upload", "prices": "/prices"}
# the heading a shot scrolls to the top (else the page's first screen): What-if's README caption promises the
# sliders, savings by lever and the frontier, which sit below the scenario pickers
ANCHORS = {"whatif": "Sliders"}


@contextlib.contextmanager
def modelmix_serve(db: Path, env: dict[str, str]):
    """`modelmix serve --db DB --port N` (this checkout's CLI), until the block ends; yields its URL."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--db", str(db), "--port", str(port)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
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


def main() -> None:
    from playwright.sync_api import sync_playwright

    from finance import budgets
    from ingest import ingest_paths
    from warehouse import Warehouse

    with tempfile.TemporaryDirectory(prefix="modelmix-shots-") as tmp, sync_playwright() as p:
        db = Path(tmp) / "sample.duckdb"
        with Warehouse(db) as wh:
            ingest_paths(wh, [SAMPLE])
            budgets.load_budgets(wh, ROOT / "docs" / "examples" / "budgets.yaml")
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        with modelmix_serve(db, {"MODELMIX_JOBS_FILE": str(Path(tmp) / "jobs.yaml")}) as url:
            for name, path in SHOTS.items():
                if sys.argv[1:] and name not in sys.argv[1:]:
                    continue
                page = browser.new_page(viewport={"width": 1440, "height": int(os.environ.get("SHOTS_HEIGHT", 1100))})
                page.add_init_script(OBSERVE)
                page.goto(url + path, wait_until="commit")
                page.wait_for_function(SETTLED, timeout=300_000, polling=100)
                if name in ANCHORS:
                    page.get_by_role("heading", name=ANCHORS[name], exact=True).first.evaluate(
                        "e => e.scrollIntoView({block: 'start'})")
                    page.wait_for_timeout(1500)
                out = Path(os.environ.get("SHOTS_DIR", ROOT / "docs")) / f"screenshot-{name}.png"
                page.screenshot(path=str(out))
                print(out)
                page.close()
        browser.close()


if __name__ == "__main__":
    main()
