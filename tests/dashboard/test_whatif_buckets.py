"""The What-if page's services over a range above `slider_row_limit` (the bucketed slider engine,
simulate/buckets.py): the slider figures, the frontier's points and the cheapest share at the quality bar equal the
per-row engine's; the oracle bound and the seed band are not drawn, and the page says why, naming the rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import streamlit as st
import vega_spec as vega
from streamlit.testing.v1 import AppTest

import simulate
from dashboard.services import whatif as svc
from ledger_factory import build_ledger, write_usage_csv
from simulate import buckets, frontier
from warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "dashboard" / "views" / "whatif.py")
RANGE = (dt.date(2025, 6, 20), dt.date(2025, 9, 17))


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("whatif_buckets")
    return build_ledger(folder / "ledger.duckdb", [write_usage_csv(folder / "usage.csv")])


def curve_and_outcome(db: Path, sc, monkeypatch, limit: str | None):
    if limit is None:
        monkeypatch.delenv("MODELMIX_SLIDER_ROW_LIMIT", raising=False)
    else:
        monkeypatch.setenv("MODELMIX_SLIDER_ROW_LIMIT", limit)
    frontier.PREPARED.clear()
    with Warehouse(db) as wh:
        return svc.frontier_curve(wh, sc), svc.outcome(wh, sc), frontier.prepare(wh, sc)


@pytest.mark.parametrize("preset", ["armstrong-80-99", "cascade-small-first"])
def test_services_agree_between_the_engines(ledger, monkeypatch, preset):
    monkeypatch.setattr(buckets, "BUCKETS", 16)
    monkeypatch.setattr(buckets, "CHUNK_ROWS", 200)
    sc = svc.with_period(simulate.load_scenario(preset), *RANGE)
    fa, (oa, how_a), pa = curve_and_outcome(ledger, sc, monkeypatch, None)
    fb, (ob, how_b), pb = curve_and_outcome(ledger, sc, monkeypatch, "10")
    assert pa.per_row and not pb.per_row and how_a == how_b
    assert ob.scenario_cost_usd == pytest.approx(oa.scenario_cost_usd, abs=1e-9)
    assert ob.savings_by_lever == pytest.approx(oa.savings_by_lever, abs=1e-9)
    ta, tb = oa.by_team.sort("team"), ob.by_team.sort("team")
    assert ta["team"].to_list() == tb["team"].to_list()
    assert (ta["scenario_cost_usd"] - tb["scenario_cost_usd"]).abs().max() < 1e-9
    cols = ["scenario_cost_usd", "savings_usd", "moved_requests"]
    # the bucketed frontier's points: a ranked share's 5 % steps moved to the nearest bucket edges (no read), so
    # compared with the per-row engine at those shares
    grid = fb.points[fb.param].to_list()
    assert fa.points[fa.param].to_list() == svc.GRID and len(grid) == len(svc.GRID) and grid[0] == 0 and grid[-1] == 1
    assert (grid != svc.GRID) == bool(sc.policies[0].ranked and pb.table(0, sc).n)
    monkeypatch.delenv("MODELMIX_SLIDER_ROW_LIMIT", raising=False)
    frontier.PREPARED.clear()
    with Warehouse(ledger) as wh:
        at_grid = frontier.sweep(wh, sc, 0, grid)
    assert at_grid.select(cols).to_numpy() == pytest.approx(fb.points.select(cols).to_numpy(), abs=1e-9)
    assert (fa.break_even is None) == (fb.break_even is None)
    if fa.break_even is not None:
        assert fb.break_even == pytest.approx(fa.break_even, abs=1e-12)
    if sc.policies[0].ranked:
        assert fa.at_bar is not None and fb.at_bar is not None
        assert fb.at_bar.scenario_cost_usd == pytest.approx(fa.at_bar.scenario_cost_usd, abs=1e-9)
        assert fa.bounds is not None and fb.bounds is None
        assert "Oracle bound and the random pick's band not drawn" in fb.note and f"{pb.period_rows:,} rows" in fb.note


def test_page_says_why_the_oracle_is_not_drawn(ledger, monkeypatch):
    monkeypatch.setenv("MODELMIX_DB", str(ledger))
    monkeypatch.setenv("MODELMIX_SLIDER_ROW_LIMIT", "10")
    frontier.PREPARED.clear()
    try:
        at = AppTest.from_file(PAGE, default_timeout=120)
        at.session_state["modelmix_date_range"] = RANGE
        at.session_state["whatif_preset"] = "armstrong-80-99"
        at.session_state["whatif_preview_open"] = True
        at.session_state["whatif_results_tab"] = "Cost–quality frontier"
        at.run()
        assert not at.exception
        captions = " ".join(c.value for c in at.caption)
        assert "Oracle bound and the random pick's band not drawn" in captions and "more than the 10 " in captions
        # the preview in the browser steps by about 1 % here (each point a bucket edge near the step), and says so
        [pv] = [c for c in vega.charts(at) if c.get("params")]
        assert len(pv["datasets"]["curve"]) == 101 and pv["params"][0]["bind"]["step"] == 1.0
        assert "exact at each 1% step" in captions and "Steps of about 1% here" in captions
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
        frontier.PREPARED.clear()

