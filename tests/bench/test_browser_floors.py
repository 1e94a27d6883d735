"""bench/browser.py judges each page's new tab against its own floor (issue 15 §8, the lead's decision of the
eleventh session): a page that draws a Vega-Lite chart on its new tab against the chart floor (the one-line app
with one small chart, opened the same way in the same run), any other page against the one-line floor. No
browser here: the tab opener is replaced by one that reports fixed times and chart counts."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_browser_floors", ROOT / "bench" / "browser.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_a_page_with_a_chart_is_judged_on_the_chart_floor_any_other_on_the_one_line_floor():
    bench = _bench()
    # one-line floor 0.50 s, chart floor 0.70 s (the tenth session's estimate: Vega's start ~0.1-0.2 s over it)
    assert bench.judged(1.35, 0.50, 0.70, charts=3) == ("chart", pytest.approx(0.65), True)
    assert bench.judged(1.35, 0.50, 0.70, charts=0) == ("one-line", pytest.approx(0.85), False)
    assert bench.judged(1.45, 0.50, 0.70, charts=1)[1:] == (pytest.approx(0.75), False)
    assert bench.judged(1.20, 0.50, 0.70, charts=0)[2] is True       # exactly 0.7 over: within


def test_the_table_names_each_pages_floor_and_counts_the_pages_within_it(monkeypatch, capsys):
    bench = _bench()
    # (warm, cold) seconds and charts drawn per page; floors: one-line 0.50 / 0.90, sidebar 0.66 / 1.2, chart 0.70 / 1.1
    drawn = {"/": (1.30, 1.80, 3), "/whatif": (1.65, 2.30, 4), "/prices": (1.10, 1.60, 0), "/users": (1.30, 1.70, 0)}

    def new_tab(browser, url, expect=None, warm=None):
        path = url.removeprefix("http://bench")
        bench.CHARTS[url] = drawn[path][2]
        return drawn[path][0 if warm is not None else 1]

    monkeypatch.setattr(bench, "new_tab", new_tab)
    floors = {"warm": (0.50, 0.66, 0.70), "cold": (0.90, 1.20, 1.10)}
    listed = [("/", "Overview"), ("/whatif", "What-if"), ("/prices", "Prices"), ("/users", "Users & audit")]
    bench.pages_and_menu(None, object(), "http://bench", floors, listed, "sample ledger", 1, switches=False)
    rows = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()
            if line.startswith("  ") and line.split()[0] in ("Overview", "What-if", "Prices", "Users")}
    # Overview: 1.30 - chart floor 0.70 = +0.60, ok; What-if +0.95 over it; Prices +0.60 and Users +0.80 over the
    # one-line floor (no chart drawn)
    assert rows["Overview"][1:6] == ["3", "1.30", "chart", "+0.60", "ok"]
    assert rows["What-if"][1:6] == ["4", "1.65", "chart", "+0.95", "OVER"]
    assert rows["Prices"][1:6] == ["0", "1.10", "one-line", "+0.60", "ok"]
    assert rows["Users"][4:9] == ["1.30", "one-line", "+0.80", "OVER", "+0.80"]
    # cold: Overview over the cold chart floor (1.80 - 1.10), Prices over the cold one-line floor (1.60 - 0.90)
    assert rows["Overview"][-4:-2] == ["1.80", "+0.70"] and rows["Prices"][-4:-2] == ["1.60", "+0.70"]


def test_the_summary_line_lists_the_pages_within_their_floor(monkeypatch, capsys):
    bench = _bench()
    monkeypatch.setattr(bench, "new_tab", lambda browser, url, expect=None, warm=None: (
        bench.CHARTS.__setitem__(url, 1 if url.endswith("/") else 0), 1.0)[1])
    bench.pages_and_menu(None, object(), "http://bench", {"warm": (0.2, 0.5, 0.4), "cold": (0.5, 0.8, 0.7)},
                         [("/", "Overview"), ("/users", "Users & audit")], "x", 1, switches=False)
    assert "within 0.7 s of its own floor (warm): 1 of 2 (Overview)" in capsys.readouterr().out
