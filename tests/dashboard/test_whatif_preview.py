"""What-if's preview in the browser (dashboard/services/whatif_preview.py, whatif_charts.preview_chart): the
curve's figure at a value equals the full replay's at that value to the cent, on both slider engines; the chart
binds a range input to a parameter that picks one point and shows the figures as the page prints them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import vega_spec as vega

import simulate
from dashboard.components import whatif_charts as charts
from dashboard.components.formatting import usd
from dashboard.services import whatif as svc
from dashboard.services import whatif_preview as preview_svc
from ledger_factory import build_ledger, write_usage_csv
from simulate import buckets, frontier
from warehouse import Warehouse

RANGE = (dt.date(2025, 6, 20), dt.date(2025, 9, 17))


@pytest.fixture(scope="module")
def ledger(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("whatif_preview")
    return build_ledger(folder / "ledger.duckdb", [write_usage_csv(folder / "usage.csv")])


@pytest.fixture
def engine(monkeypatch, request):
    """The per-row engine, or the bucketed one (a row limit of 10, small buckets and chunks)."""
    if request.param == "bucketed":
        monkeypatch.setattr(buckets, "BUCKETS", 16)
        monkeypatch.setattr(buckets, "CHUNK_ROWS", 200)
        monkeypatch.setenv("MODELMIX_SLIDER_ROW_LIMIT", "10")
    else:
        monkeypatch.delenv("MODELMIX_SLIDER_ROW_LIMIT", raising=False)
    frontier.PREPARED.clear()
    yield request.param
    frontier.PREPARED.clear()


def with_value(scenario, i: int, field: str, value: float):
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["policies"][i][field] = value
    return simulate.parse_scenario(data, scenario.name)


@pytest.mark.parametrize("engine", ["per-row", "bucketed"], indirect=True)
@pytest.mark.parametrize("preset, value", [("armstrong-80-99", 37.3), ("cascade-small-first", 61.2), ("cache", 12.7)])
def test_the_curve_equals_the_replay_at_each_value(ledger, engine, preset, value):
    if preset == "cache":       # a hit rate on every request (the cache preset's first policy matches no workload here)
        sc = simulate.parse_scenario({"name": "c", "period": {"start": RANGE[0], "end": RANGE[1]},
                                      "policies": [{"kind": "cache", "hit_rate": 0.45}]}, "t")
    else:
        sc = svc.with_period(simulate.load_scenario(preset), *RANGE)
    if engine == "bucketed":
        value = float(round(value))                     # 1 % steps there
    with Warehouse(ledger) as wh:
        pv = preview_svc.preview(wh, sc)
        assert pv is not None
        assert pv.step_pct == (0.1 if engine == "per-row" else 1.0)
        assert pv.points.height == (1001 if engine == "per-row" else 101)
        values = pv.points["value_pct"].to_list()
        i = svc.slider_policy(sc)
        if engine == "per-row" or not sc.policies[i].ranked:
            assert values[:3] == ([0.0, 0.1, 0.2] if engine == "per-row" else [0.0, 1.0, 2.0])
        else:       # a ranked share on the bucketed engine: each step at a bucket edge near it (no read)
            table = frontier.prepare(wh, sc).table(i, sc)
            assert all(abs(v - s) < 0.5 for s, v in enumerate(values))
            assert {frontier.claimed_count(v / 100, table.n) for v in values} <= set(table.cum_units.tolist())
        [row] = pv.points.filter((pv.points["value_pct"] - value).abs() < pv.step_pct / 2).to_dicts()
        at = with_value(sc, i, pv.field, round(row["value_pct"] / 100, 9))      # the point's own value
        full = simulate.run(wh, at)
        page, _ = svc.outcome(wh, at)
    assert abs(row["savings_usd"] - full.savings_usd) < 0.005
    assert abs(row["scenario_cost_usd"] - full.scenario_cost_usd) < 0.005
    assert row["savings_usd"] != pv.points["savings_usd"][0]            # the value moves the figure
    # the texts are the page's own: the headline's Savings metric and its quality figure at that value
    assert row["savings_text"] == usd(page.savings_usd) == usd(full.savings_usd)
    assert row["pct_text"] == f"{page.savings_pct:.1f}%"
    if page.quality_ratio is None:
        assert row["quality_pct"] is None and row["quality_text"] == "not scored"
    else:
        assert row["quality_text"] == f"{100 * page.quality_ratio:.1f}%"
        assert row["quality_pct"] == pytest.approx(100 * full.scenario_quality / full.baseline_quality, abs=1e-4)


def test_a_slider_over_no_traffic_is_flat(ledger):
    sc = svc.with_period(simulate.load_scenario("batch-offline"), *RANGE)      # no offline workload in this ledger
    moving = svc.with_period(simulate.load_scenario("armstrong-80-99"), *RANGE)
    with Warehouse(ledger) as wh:
        assert not preview_svc.preview(wh, sc).moves
        assert preview_svc.preview(wh, moving).moves


def test_no_preview_without_a_slid_value(ledger):
    sc = simulate.parse_scenario({"name": "x", "period": {"start": RANGE[0], "end": RANGE[1]}, "policies": []}, "t")
    with Warehouse(ledger) as wh:
        assert preview_svc.preview(wh, sc) is None


def test_the_chart_binds_a_range_input_that_picks_one_point(ledger):
    sc = svc.with_period(simulate.load_scenario("armstrong-80-99"), *RANGE)
    with Warehouse(ledger) as wh:
        pv = preview_svc.preview(wh, sc)
    spec = charts.preview_chart(pv.points, pv.name, 80.0, pv.step_pct)
    [param] = spec["params"]
    assert param["value"] == 80.0
    assert param["bind"] == {"input": "range", "min": 0, "max": 100, "step": 0.1, "name": "Preview: share moved (%) "}
    assert spec["usermeta"] == {"embedOptions": {"renderer": "svg"}}       # its text is in the DOM (tests, readers)
    s = vega.spec(spec)
    rows = s["datasets"]["curve"]
    assert len(rows) == 1001
    # the marker and the figures: layers filtered to the one row at the parameter's value
    picked = [lay for lay in vega.layers(s) if lay.get("transform")]
    assert picked and all(lay["transform"][0] == {"filter": f"abs(datum.value_pct - {charts.PREVIEW_PARAM}) < 0.05"}
                          for lay in picked)
    [at80] = [r for r in rows if r["value_pct"] == 80.0]
    [row] = pv.points.filter(pv.points["value_pct"] == 80.0).to_dicts()
    for k in ("value_text", "savings_text", "pct_text", "quality_text", "cost_text", "moved_text"):
        assert at80[k] == row[k]                                  # the page's own texts, joined in the browser
    texts = [lay for lay in picked if lay["mark"]["type"] == "text"]
    assert {t["encoding"]["text"]["field"] for t in texts} == {"line1", "line2"}
    line1 = texts[0]["transform"][1]["calculate"]
    assert line1.startswith("'Share moved ' + datum.value_text + ': savings ' + datum.savings_text")
    assert "of the replay baseline" in line1
    assert "'Spend under the scenario ' + datum.cost_text" in texts[1]["transform"][2]["calculate"]
    assert charts._js("it's") == "'it\\'s'"
    # every position scale has a fixed domain (the whole curve's): a domain derived from the data would include
    # the marker layers' filtered rows, and each move would recompute it and redraw the 1,001-point lines
    ys = vega.encoding(s, "y") + vega.encoding(s, "x")
    assert ys and all("domain" in e["scale"] for e in ys)
    [dom] = {tuple(e["scale"]["domain"]) for e in vega.encoding(s, "y") if e["field"] == "savings_usd"}
    assert dom == (0.0, max(r["savings_usd"] for r in rows))
    # a preview that starts between two steps starts on the nearest one
    assert charts.preview_chart(pv.points, pv.name, 42.26, 0.1)["params"][0]["value"] == 42.3
