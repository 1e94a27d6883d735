"""Refresh the README's screenshots (docs/screenshot-*.png): the bundled sample ledger with the example budgets
(docs/examples/budgets.yaml), `streamlit run` on a free port, Debian's headless Chromium; each page's first
screen once it has settled.
Usage: python docs/make_screenshots.py [overview whatif ...] (default: all)"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from browser import APP, CHROMIUM, CHROMIUM_ARGS, OBSERVE, SAMPLE, SETTLED, server  # noqa: E402

SHOTS = {"overview": "/", "explore": "/explore", "budgets": "/budgets", "whatif": "/whatif",
         "upload": "/upload", "prices": "/prices"}


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
        with server(APP, {"MODELMIX_DB": str(db), "MODELMIX_JOBS_FILE": str(Path(tmp) / "jobs.yaml")}) as url:
            for name, path in SHOTS.items():
                if sys.argv[1:] and name not in sys.argv[1:]:
                    continue
                page = browser.new_page(viewport={"width": 1440, "height": 1100})
                page.add_init_script(OBSERVE)
                page.goto(url + path, wait_until="commit")
                page.wait_for_function(SETTLED, timeout=300_000, polling=100)
                out = ROOT / "docs" / f"screenshot-{name}.png"
                page.screenshot(path=str(out))
                print(out)
                page.close()
        browser.close()


if __name__ == "__main__":
    main()
