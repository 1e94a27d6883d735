"""Dashboard services, figure builders and formatting with small frames and tiny real ledgers (no streamlit)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import vega_spec as vega
from dashboard.components import charts, colors
from dashboard.components.formatting import day_span, signed_pct, usd
from dashboard.services import ledger, overview
from ingest import ingest_paths

D = dt.date


def load(wh, tmp_path, rows: list[str]) -> None:
    """Billed rows only, so every figure is exact: ts,provider,model,team,requests,cost_usd."""
    path = tmp_path / "usage.csv"
    path.write_text("ts,provider,model,team,requests,input_tokens,output_tokens,cost_usd\n"
                    + "\n".join(rows) + "\n")
    [result] = ingest_paths(wh, [path])
    assert result.status == "loaded" and not result.rows_rejected, result


class FakeRunner:
    """Records the query name and bound parameters, and answers with a fixed frame."""

    def __init__(self, frame: pl.DataFrame):
        self.frame, self.calls = frame, []

    def __call__(self, name, /, **params):
        self.calls.append((name, params))
        return self.frame


# --- services ------------------------------------------------------------------------------------------------

def test_month_to_date_run_rate_and_comparisons(wh, tmp_path):
    load(wh, tmp_path, [
        "2025-01-20T10:00:00,openai,gpt-4o-mini,a,1,10,10,4.00",
        "2025-02-10T10:00:00,openai,gpt-4o-mini,a,1,10,10,10.00",
        "2025-02-20T10:00:00,openai,gpt-4o-mini,a,1,10,10,6.00",
        "2025-03-01T10:00:00,openai,gpt-4o-mini,a,1,10,10,5.00",
        "2025-03-15T23:00:00,openai,gpt-4o-mini,a,1,10,10,10.00",
        "2025-04-02T10:00:00,openai,gpt-4o-mini,a,1,10,10,99.00",
    ])
    m = overview.month_to_date(wh.query, D(2025, 3, 31)).row(0, named=True)
    assert m["as_of_day"] == D(2025, 3, 15)          # latest day with usage on or before the end
    assert (m["month_start"], m["last_month_start"]) == (D(2025, 3, 1), D(2025, 2, 1))
    assert (m["days_elapsed"], m["days_in_month"]) == (15, 31)
    assert m["this_month_usd"] == 15.0
    assert m["last_month_usd"] == 16.0
    assert m["last_month_same_days_usd"] == 10.0      # 1-15 Feb
    assert m["prior_month_usd"] == 4.0
    assert m["run_rate_usd"] == pytest.approx(15 / 15 * 31)


def test_month_to_date_caps_same_days_at_a_short_month(wh, tmp_path):
    load(wh, tmp_path, ["2025-02-28T10:00:00,openai,gpt-4o-mini,a,1,10,10,2.00",
                        "2025-03-31T10:00:00,openai,gpt-4o-mini,a,1,10,10,3.00"])
    m = overview.month_to_date(wh.query, D(2025, 3, 31)).row(0, named=True)
    assert m["last_month_same_days"] == 28
    assert m["last_month_same_days_usd"] == 2.0
    assert m["run_rate_usd"] == 3.0                   # last day of the month: the projection is the actual


def test_month_to_date_on_an_empty_ledger(wh):
    assert overview.month_to_date(wh.query, D(2025, 3, 31)).row(0, named=True)["as_of_day"] is None
    assert ledger.date_bounds(wh.query) is None


def test_top_teams_and_models(wh, tmp_path):
    load(wh, tmp_path, [
        "2025-03-01T10:00:00,openai,gpt-4o,alpha,1000,10,10,30.00",
        "2025-03-02T10:00:00,openai,gpt-4o-mini,alpha,3000,10,10,3.00",
        "2025-03-02T10:00:00,anthropic,claude-sonnet-4-5,beta,500,10,10,50.00",
        "2025-03-03T10:00:00,openai,gpt-4o,,200,10,10,7.00",
    ])
    teams = overview.top_teams(wh.query, D(2025, 3, 1), D(2025, 3, 31))
    assert teams["team"].to_list() == ["beta", "alpha", "unassigned"]
    assert teams["spend_usd"].to_list() == [50.0, 33.0, 7.0]
    assert teams["requests"].to_list() == [500, 4000, 200]
    assert teams["cost_per_1k_requests"].to_list() == [100.0, 8.25, 35.0]
    assert teams["spend_share"].sum() == pytest.approx(1.0)
    assert teams.schema["spend_usd"] == pl.Float64
    models = overview.top_models(wh.query, D(2025, 3, 1), D(2025, 3, 31), limit=2)
    assert models.select("provider", "model", "spend_usd").rows() == [
        ("anthropic", "claude-sonnet-4-5", 50.0), ("openai", "gpt-4o", 37.0)]
    # the range is inclusive at both ends and bound, not spliced
    assert overview.top_teams(wh.query, D(2025, 3, 3), D(2025, 3, 3))["team"].to_list() == ["unassigned"]


def test_spend_by_model_keeps_top_n_and_sums_the_rest_as_other(wh, tmp_path):
    load(wh, tmp_path, [
        "2025-03-03T10:00:00,openai,gpt-4o,a,1,10,10,30.00",
        "2025-03-04T10:00:00,openai,gpt-4o-mini,a,1,10,10,3.00",
        "2025-03-11T10:00:00,anthropic,claude-sonnet-4-5,a,1,10,10,50.00",
        "2025-03-12T10:00:00,openai,o3-mini,a,1,10,10,2.00",
    ])
    df = overview.spend_by_model(wh.query, D(2025, 3, 1), D(2025, 3, 31), "Week", top_n=2)
    assert_frame_equal(
        df.select("period", "model", "spend_usd"),
        pl.DataFrame({"period": [D(2025, 3, 3), D(2025, 3, 3), D(2025, 3, 10), D(2025, 3, 10)],
                      "model": ["gpt-4o", "other", "claude-sonnet-4-5", "other"],
                      "spend_usd": [30.0, 3.0, 50.0, 2.0]}),
    )
    monthly = overview.spend_by_provider(wh.query, D(2025, 3, 1), D(2025, 3, 31), "Month")
    assert monthly.select("period", "provider", "spend_usd").rows() == [
        (D(2025, 3, 1), "anthropic", 50.0), (D(2025, 3, 1), "openai", 35.0)]


def test_time_bucket_comes_from_a_closed_mapping():
    run = FakeRunner(pl.DataFrame({"period": [], "provider": [], "spend_usd": []}))
    overview.spend_by_provider(run, D(2025, 1, 1), D(2025, 1, 31), "Month")
    assert run.calls == [("spend_by_provider_over_time", {"start": D(2025, 1, 1), "end": D(2025, 1, 31),
                                                          "bucket": "month"})]
    with pytest.raises(ValueError, match="unknown time bucket"):
        overview.spend_by_provider(run, D(2025, 1, 1), D(2025, 1, 31), "day'); drop table usage_raw; --")


def test_billed_vs_list_gap_and_money_as_float():
    run = FakeRunner(pl.DataFrame(
        {"provider": ["openai", "anthropic"], "billed_usd": [Decimal("90"), Decimal("0")],
         "list_usd": [Decimal("100"), Decimal("0")], "list_only_usd": [Decimal("0"), Decimal("12.5")],
         "spend_usd": [Decimal("90"), Decimal("12.5")]}))
    df = overview.billed_vs_list_by_provider(run, D(2025, 1, 1), D(2025, 1, 31))
    assert df.schema["billed_usd"] == pl.Float64
    assert df["gap_pct"].to_list() == [-10.0, None]


def test_lagging_sources():
    coverage = pl.DataFrame({"source_format": ["litellm", "openai-csv", "old-export"],
                             "last_day": [D(2025, 3, 20), D(2025, 3, 10), D(2024, 6, 1)]})
    lagging = overview.lagging_sources(coverage, since=D(2025, 2, 1))
    assert lagging["source_format"].to_list() == ["openai-csv"]
    assert overview.lagging_sources(coverage.head(1), since=D(2025, 2, 1)).is_empty()


def test_default_and_fitted_date_ranges():
    assert ledger.default_range(D(2025, 1, 1), D(2025, 9, 17)) == (D(2025, 6, 20), D(2025, 9, 17))
    assert ledger.default_range(D(2025, 9, 1), D(2025, 9, 17)) == (D(2025, 9, 1), D(2025, 9, 17))
    assert ledger.fit_range(None, D(2025, 1, 1), D(2025, 9, 17)) == (D(2025, 6, 20), D(2025, 9, 17))
    assert ledger.fit_range((D(2024, 1, 1), D(2025, 3, 1)), D(2025, 1, 1), D(2025, 9, 17)) == (
        D(2025, 1, 1), D(2025, 3, 1))
    assert ledger.fit_range((D(2025, 3, 1),), D(2025, 1, 1), D(2025, 9, 17)) == (D(2025, 3, 1),)


def test_pct_change():
    assert overview.pct_change(110.0, 100.0) == pytest.approx(10.0)
    assert overview.pct_change(5.0, 0.0) is None
    assert overview.pct_change(None, 3.0) is None


# --- figure builders -----------------------------------------------------------------------------------------

def _bars(chart) -> list[dict]:
    [bars] = [u for u in vega.layers(vega.spec(chart)) if vega.mark(u) == "rect" and "series" in str(u["encoding"])]
    return bars


def test_spend_by_provider_figure():
    df = pl.DataFrame({"period": [D(2025, 3, 3), D(2025, 3, 3), D(2025, 3, 10), D(2025, 3, 10)],
                       "provider": ["openai", "anthropic", "openai", "self-hosted"],
                       "spend_usd": [5.0, 40.0, 7.0, 0.0]})
    bars = _bars(charts.spend_by_provider(df, "week"))
    stack = sorted({(r["stack"], r["series"]) for r in bars["rows"]})
    assert [name for _, name in stack] == ["anthropic", "openai"]       # biggest at the bottom; $0 series left out
    spans = {(r["when"], r["series"]): (r["y0"], r["y1"]) for r in bars["rows"]}
    assert spans[("3 Mar 2025", "anthropic")] == (0, 40) and spans[("3 Mar 2025", "openai")] == (40, 45)
    scale = bars["encoding"]["color"]["scale"]
    assert dict(zip(scale["domain"], scale["range"]))["anthropic"] == charts.PROVIDER_COLORS["anthropic"]
    assert scale["domain"] == ["openai", "anthropic"]                    # legend top-down as stacked
    assert bars["encoding"]["y"]["axis"]["format"] == "$,.0f"
    assert {"field": "spend_usd", "format": "$,.2f", "title": "Spend", "type": "quantitative"} in \
        bars["encoding"]["tooltip"]
    assert bars["encoding"]["x"]["axis"]["title"] == "Week starting"


def test_spend_by_model_figure_puts_other_last_in_grey():
    df = pl.DataFrame({"period": [D(2025, 3, 3)] * 3, "model": ["other", "gpt-4o", "claude-sonnet-4-5"],
                       "spend_rank": [3, 2, 1], "spend_usd": [1.0, 2.0, 3.0]})
    bars = _bars(charts.spend_by_model(df, "day"))
    assert [r["series"] for r in sorted(bars["rows"], key=lambda r: r["stack"])] == \
        ["claude-sonnet-4-5", "gpt-4o", "other"]
    scale = bars["encoding"]["color"]["scale"]
    assert scale["domain"][0] == "other" and scale["range"][0] == charts.OTHER_COLOR      # on top, grey
    assert bars["encoding"]["y"]["axis"]["format"] == "$,.2f"                 # small amounts keep their cents


def test_a_credit_line_is_its_own_series_below_zero():
    """Issue 15: a credit line is drawn as its own series (not summed into 'other'), below zero."""
    df = pl.DataFrame({"period": [D(2025, 3, 3)] * 3, "model": ["gpt-4o", "other", "credit"],
                       "spend_rank": [1, 2, 3], "spend_usd": [9.0, 2.0, -4.0]})
    bars = _bars(charts.spend_by_model(df, "week"))
    credit = [r for r in bars["rows"] if r["full_name"] == "credit"]
    assert [(r["series"], r["spend_usd"], r["y0"], r["y1"]) for r in credit] == \
        [("Credits & adjustments", -4.0, -4.0, 0.0)]                     # below zero, the models above it
    assert max(r["y1"] for r in bars["rows"]) == 11.0
    assert dict(zip(*bars["encoding"]["color"]["scale"].values()))["Credits & adjustments"] == \
        colors.CREDITS_COLOR


def test_a_model_has_one_colour_on_every_chart_and_a_short_legend_name():
    week = pl.DataFrame({"period": [D(2025, 3, 3)] * 3, "model": ["gpt-4o", "claude-sonnet-4-5", "other"],
                         "spend_rank": [1, 2, 3], "spend_usd": [9.0, 2.0, 1.0]})
    other_range = pl.DataFrame({"period": [D(2025, 6, 2)] * 3,
                                "model": ["claude-sonnet-4-5", "regional.anthropic.claude-sonnet-4-5-20250929-v1:0",
                                          "gpt-4o"], "spend_rank": [1, 2, 3], "spend_usd": [9.0, 5.0, 1.0]})
    a, b = _bars(charts.spend_by_model(week, "week")), _bars(charts.spend_by_model(other_range, "week"))
    color = {}
    for bars in (a, b):      # ranked differently in each chart, the same colour in both
        legend = dict(zip(bars["encoding"]["color"]["scale"]["domain"], bars["encoding"]["color"]["scale"]["range"]))
        for r in bars["rows"]:
            assert color.setdefault(r["full_name"], legend[r["series"]]) == legend[r["series"]]
    assert color["gpt-4o"] != color["claude-sonnet-4-5"]
    names = [r["series"] for r in sorted(b["rows"], key=lambda r: r["stack"])]
    assert names == ["claude-sonnet-4-5", "claude-sonnet-4-5 (regional)", "gpt-4o"]      # short, distinct
    full = {r["series"]: r["full_name"] for r in b["rows"]}
    assert full["claude-sonnet-4-5 (regional)"] == "regional.anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert b["encoding"]["tooltip"][0] == {"field": "full_name", "title": "Model", "type": "nominal"}  # full id
    assert colors.short_model("meta-llama/llama-3.3-70b-instruct") == "llama-3.3-70b-instruct"
    # a provider is its colour on Overview's and Explore's charts alike
    from dashboard.components import explore_charts
    prov = pl.DataFrame({"period": [D(2025, 3, 3)], "group_value": ["anthropic"], "spend_rank": [1],
                         "spend_usd": [1.0]})
    assert _bars(explore_charts.trend(prov, "provider"))["encoding"]["color"]["scale"]["range"] == \
        [colors.PROVIDER_COLORS["anthropic"]]


def test_incomplete_days_are_shaded_by_whole_periods():
    df = pl.DataFrame({"period": [D(2025, 3, 3), D(2025, 3, 10)], "provider": ["openai"] * 2,
                       "spend_usd": [5.0, 7.0]})
    units = vega.layers(vega.spec(charts.spend_by_provider(df, "week", incomplete=(D(2025, 3, 11), D(2025, 3, 12)))))
    [band] = [u for u in units if vega.mark(u) == "rect" and "band_start" in str(u["encoding"])]
    assert band["rows"][0]["band_start"].startswith("2025-03-10") and band["rows"][0]["band_end"].startswith("2025-03-17")
    assert any(vega.mark(u) == "text" and u["rows"][0]["text"] == "incomplete" for u in units)
    assert not [u for u in vega.layers(vega.spec(charts.spend_by_provider(df, "week"))) if "band_start" in str(u)]


def test_billed_vs_list_figure():
    df = pl.DataFrame({"provider": ["openai", "anthropic"], "billed_usd": [90.0, 0.0], "list_usd": [100.0, 0.0],
                       "gap_pct": [-10.0, None]})
    units = vega.layers(vega.spec(charts.billed_vs_list(df)))
    [bars] = [u for u in units if vega.mark(u) == "bar"]
    assert bars["encoding"]["color"]["scale"]["domain"] == ["List price (catalog)", "Billed (reported)"]
    assert {r["provider"] for r in bars["rows"]} == {"openai"}             # nothing to compare for anthropic
    [text] = [u for u in units if vega.mark(u) == "text"]
    assert [r["gap"] for r in text["rows"] if r["gap"]] == ["−10.0%"]          # above the billed bar only


def test_figures_accept_empty_frames():
    empty = pl.DataFrame(schema={"period": pl.Date, "provider": pl.String, "model": pl.String,
                                 "spend_rank": pl.Int64, "spend_usd": pl.Float64})
    assert not _bars(charts.spend_by_provider(empty))["rows"]
    assert not _bars(charts.spend_by_model(empty))["rows"]


# --- formatting ----------------------------------------------------------------------------------------------

def test_formatting():
    assert usd(1234567.891) == "$1,234,567.89"
    assert usd(-653.5) == "-$653.50"
    assert usd(None) == "—"
    assert signed_pct(12.345) == "+12.3%" and signed_pct(None) is None
    assert day_span(D(2025, 9, 1), D(2025, 9, 17)) == "1–17 Sep 2025"
    assert day_span(D(2025, 6, 20), D(2025, 9, 17)) == "20 Jun – 17 Sep 2025"
    assert day_span(D(2024, 12, 20), D(2025, 1, 3)) == "20 Dec 2024 – 3 Jan 2025"


def test_overlapping_sources_are_not_counted_twice(sample_wh):
    """The bundled samples overlap (gateway logs and provider exports of the same days): billed cost, requests
    and spend all come from the one source per provider and day that counts toward spend."""
    start, end = D(2000, 1, 1), D(2100, 1, 1)
    t = overview.billed_vs_list_totals(sample_wh.query, start, end).row(0, named=True)
    in_spend = sample_wh.sql("select sum(spend_usd) as s, sum(cost_usd) as c, sum(requests) as r "
                             "from usage_daily where in_spend").row(0, named=True)
    assert t["spend_usd"] == pytest.approx(float(in_spend["s"]))
    assert t["billed_usd"] == pytest.approx(float(in_spend["c"]))
    assert t["requests"] == in_spend["r"]
    assert t["billed_compared_usd"] <= t["spend_usd"]
    teams = overview.top_teams(sample_wh.query, start, end, limit=1000)
    assert teams["spend_usd"].sum() == pytest.approx(t["spend_usd"])
    assert teams["requests"].sum() == t["requests"]


def test_movers_compare_month_to_date_with_the_same_days_last_month(wh, csv_file):
    import datetime as dt

    from dashboard.services import overview

    header = "ts,provider,model,team,input_tokens,output_tokens,cost_usd"
    ingest_paths(wh, [csv_file(header,
                               "2026-09-02T00:00:00Z,openai,gpt-4o,alpha,1,1,10",
                               "2026-09-20T00:00:00Z,openai,gpt-4o,alpha,1,1,99",   # after the same days: not compared
                               "2026-10-02T00:00:00Z,openai,gpt-4o,alpha,1,1,25",
                               "2026-10-03T00:00:00Z,openai,gpt-4o-mini,beta,1,1,4")])
    got = overview.movers(lambda name, **p: wh.query(name, **p), dt.date(2026, 10, 1), dt.date(2026, 10, 5),
                          dt.date(2026, 9, 1), dt.date(2026, 9, 5))
    teams = {r["value"]: (r["now_usd"], r["before_usd"], r["change_usd"], r["change_pct"])
             for r in got.filter(got["dimension"] == "team").to_dicts()}
    assert teams == {"alpha": (25.0, 10.0, 15.0, 1.5), "beta": (4.0, 0.0, 4.0, None)}
    assert got.filter(got["dimension"] == "model")["value"].to_list() == ["gpt-4o", "gpt-4o-mini"]
