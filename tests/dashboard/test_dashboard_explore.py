"""The Explore page and its service, against a small real ledger. Expected figures are computed independently
by plain SQL over the raw `usage` view (never through the page's named queries or the `usage_daily` rollup);
the factory's ledger has one source per provider and day, so every row counts toward spend."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

import polars as pl
import pytest
import vega_spec as vega
import streamlit as st
from streamlit.testing.v1 import AppTest

import sql
import summary_tables
from dashboard.components import exports
from dashboard.components.formatting import usd
from dashboard.services import explore as svc
from dashboard.services import sql_text
from ledger_factory import build_ledger, write_usage_csv
from test_dashboard_overview import APP, LAST_DAY, RANGE_START
from warehouse import Warehouse

PAGE = "views/explore.py"


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explore")
    return build_ledger(folder / "ledger.duckdb", [write_usage_csv(folder / "usage.csv")])


@pytest.fixture
def wh(ledger):
    with Warehouse(ledger) as w:
        yield w


def spend_by(wh: Warehouse, column: str, start=RANGE_START, end=LAST_DAY, where: str = "true", **params) -> dict:
    """Spend per value of `column` (a fixed name from this test, never user input) by plain SQL over `usage`."""
    df = wh.sql(f"select coalesce({column}, '(none)') as g, sum(coalesce(cost_usd, list_cost_usd)) as spend, "
                f"sum(requests)::bigint as requests from usage where ts >= $lo and ts < $hi and {where} group by 1",
                lo=start, hi=end + dt.timedelta(days=1), **params)
    return {r["g"]: (float(r["spend"] or 0), r["requests"]) for r in df.iter_rows(named=True)}


# --- the service -------------------------------------------------------------------------------------------
def test_group_by_allow_list_refuses_unknown_dimensions():
    calls = []

    def run(name, **params):
        calls.append(name)
        return pl.DataFrame()

    for bad in ("bogus", "team; drop table usage_raw", "cost_usd", "TEAM", ""):
        with pytest.raises(ValueError, match="unknown dimension"):
            svc.breakdown(run, RANGE_START, LAST_DAY, bad)
        with pytest.raises(ValueError, match="unknown dimension"):
            svc.trend(run, RANGE_START, LAST_DAY, bad)
        with pytest.raises(ValueError, match="unknown dimension"):
            svc.rows(run, RANGE_START, LAST_DAY, bad, "x")
        with pytest.raises(ValueError, match="unknown dimension"):
            svc.filters_param({bad: ["x"]})
    with pytest.raises(ValueError, match="unknown time grain"):
        svc.trend(run, RANGE_START, LAST_DAY, "team", "Quarter")
    assert calls == [], "nothing reached the database"
    # every dimension is bound as a value and matched in SQL against fixed column names: in the macros of
    # migration 018, which usage_grouped (023) applies and each Explore query calls with the bound $dimension
    # and $filters
    macros = sql.load("migrations/018_shared_macros")
    for dim in svc.DIMENSIONS:
        assert f"when '{dim}' then {dim}" in macros, dim
        assert f"filters.{dim}::varchar[], coalesce({dim}, '(none)')" in macros, dim
    grouped = sql.load("migrations/023_shared_macros_2")
    assert "usage_dimension(dimension, " in grouped and "usage_filter_keeps(filters, " in grouped
    for name in ("explore_trend", "explore_breakdown", "explore_rows"):
        text = sql_text(name)
        assert re.search(r"usage_grouped\(\w+, \$filters, \$dimension\)", text), name


def test_filters_param_has_every_dimension():
    f = svc.filters_param({"team": ["b", "a", "a"]})
    assert list(f) == list(svc.DIMENSIONS)
    assert f["team"] == ["a", "b"] and f["model"] == []
    assert svc.active_filters({"team": ["a"], "model": []}) == {"team": ["a"]}


@pytest.mark.parametrize("by", ["provider", "team", "model", "project", "user_id", "api_key"])
def test_breakdown_matches_the_ledger(wh, by):
    df = svc.breakdown(wh.query, RANGE_START, LAST_DAY, by)
    expected = spend_by(wh, by)
    got = {r["group_value"]: r for r in df.iter_rows(named=True)}
    assert set(got) == set(expected)
    for g, (spend, requests) in expected.items():
        assert got[g]["spend_usd"] == pytest.approx(spend, abs=1e-6), g
        assert got[g]["requests"] == requests
        if not spend:         # the unpriced self-hosted model: no rate rather than a misleading $0
            assert got[g]["cost_per_request"] is None and got[g]["unpriced_rows"] > 0
        elif requests:
            assert got[g]["cost_per_request"] == pytest.approx(spend / requests, rel=1e-5, abs=1e-6)
    assert df["spend_usd"].to_list() == sorted(df["spend_usd"].to_list(), reverse=True)
    assert df["spend_share"].sum() == pytest.approx(1.0)


def test_unit_economics_against_tokens(wh):
    df = svc.breakdown(wh.query, RANGE_START, LAST_DAY, "model").filter(pl.col("group_value") == "gpt-4o-mini")
    row = df.row(0, named=True)
    t = wh.sql("select sum(input_tokens + cache_read_tokens + cache_write_tokens)::bigint as p, sum(output_tokens)::bigint as o, "
               "sum(cost_usd) as c from usage where model = 'gpt-4o-mini' and ts >= $lo and ts < $hi",
               lo=RANGE_START, hi=LAST_DAY + dt.timedelta(days=1)).row(0, named=True)
    assert row["prompt_tokens"] == t["p"] and row["output_tokens"] == t["o"]
    assert row["cost_per_1m_tokens"] == pytest.approx(float(t["c"]) * 1e6 / (t["p"] + t["o"]), rel=1e-5)
    assert row["cache_share"] == 0.0           # the factory has no cache reads


def test_filters_restrict_every_view(wh):
    # '(none)' keeps usage without a team; the factory has none (attribution says 'unassigned'), so it adds nothing
    filters = {"provider": ["anthropic"], "team": ["legal", "(none)"]}
    df = svc.breakdown(wh.query, RANGE_START, LAST_DAY, "model", filters)
    expected = spend_by(wh, "model", where="provider = 'anthropic' and team = 'legal'")
    assert {r["group_value"]: r["spend_usd"] for r in df.iter_rows(named=True)} == \
        {g: pytest.approx(v[0]) for g, v in expected.items()}
    trend = svc.trend(wh.query, RANGE_START, LAST_DAY, "model", "Month", filters)
    assert trend["spend_usd"].sum() == pytest.approx(df["spend_usd"].sum())
    assert svc.breakdown(wh.query, RANGE_START, LAST_DAY, "model", {"provider": ["no-such-provider"]}).is_empty()


@pytest.mark.parametrize("grain", ["Day", "Week", "Month"])
def test_trend_totals_and_top_n(wh, grain):
    df = svc.trend(wh.query, RANGE_START, LAST_DAY, "model", grain, top_n=3)
    total = sum(v[0] for v in spend_by(wh, "model").values())
    assert df["spend_usd"].sum() == pytest.approx(total)
    labels = set(df["group_value"])
    assert "other" in labels and len(labels) == 4
    periods = df["period"].unique().sort().to_list()
    if grain == "Week":
        assert all(p.weekday() == 0 for p in periods)
    if grain == "Month":
        assert all(p.day == 1 for p in periods) and len(periods) == 4     # Jun-Sep 2025


def test_drill_down_rows(wh):
    df = svc.rows(wh.query, RANGE_START, LAST_DAY, "team", "legal", limit=25)
    assert df.height == 25
    assert set(df["team"]) == {"legal"}
    assert df["ts"].to_list() == sorted(df["ts"].to_list(), reverse=True)
    assert df["ts"].max().date() == LAST_DAY
    everything = svc.rows(wh.query, RANGE_START, LAST_DAY, "team", "legal")
    assert everything.height == (LAST_DAY - RANGE_START).days + 1      # one daily bucket per day


# --- exports -------------------------------------------------------------------------------------------------
NASTY = pl.DataFrame({
    "team": ["=HYPERLINK(\"http://evil.example\",\"x\")", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tTAB",
             "\rCR", "plain", None],
    "spend": [-1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
})
NEUTRALISED = ["'=HYPERLINK(\"http://evil.example\",\"x\")", "'+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1)", "'\tTAB",
               "'\rCR", "plain", None]


def test_the_neutraliser_is_the_shared_one():
    from finance import chargeback
    from warehouse import spreadsheet

    assert exports.neutralise is chargeback.neutralise is spreadsheet.neutralise
    assert exports.neutralise_frame is chargeback.neutralise_frame is spreadsheet.neutralise_frame
    assert exports.neutralise_frame(NASTY)["team"].to_list() == NEUTRALISED


def test_csv_export_neutralises_formula_cells():
    text = exports.to_csv(NASTY).decode("utf-8")
    back = pl.read_csv(io.StringIO(text))
    assert back["team"].to_list() == NEUTRALISED
    assert back["spend"].to_list()[0] == -1.5          # numbers stay numbers: a negative is never quoted
    assert '"team","spend"' in text.splitlines()[0]


def test_xlsx_export_neutralises_formula_cells():
    data = exports.to_xlsx(NASTY, sheet="'Spend: by/team [x]'", money_columns=("spend",))
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
        strings = z.read("xl/sharedStrings.xml").decode()
        workbook = z.read("xl/workbook.xml").decode()
    assert "<f>" not in sheet, "no cell is a formula"
    texts = [t.replace("&amp;", "&").replace("&quot;", '"').replace("&lt;", "<").replace("&gt;", ">")
             for t in re.findall(r"<t[^>]*>(.*?)</t>", strings, re.S)]
    for value in NEUTRALISED[:4] + ["plain"]:
        assert value in texts, value
    assert any(t.startswith("'\t") for t in texts) and any(t.startswith("'\r") or t.startswith("'_x000D_")
                                                          for t in texts)
    assert not any(t[:1] in "=+-@" for t in texts), texts
    assert "<v>-1.5</v>" in sheet                        # the negative amount is a number cell
    assert 'name="Spend  by team  x"' in workbook     # a valid sheet name, whatever the label


# --- the page ------------------------------------------------------------------------------------------------
@pytest.fixture
def explore_app(monkeypatch):
    def open_page(db, **state) -> AppTest:
        monkeypatch.setenv("MODELMIX_DB", str(db))
        at = AppTest.from_file(APP, default_timeout=90)
        at.session_state["show_sql"] = True     # the sidebar's Show SQL toggle
        for k, v in state.items():
            at.session_state[k] = v
        at.run()
        assert not at.exception
        at.switch_page(PAGE).run()
        assert not at.exception
        return at

    yield open_page
    st.cache_data.clear()
    st.cache_resource.clear()


def table(at: AppTest) -> dict:
    """The breakdown's exact figures: from the data grid, which "Sort in a table" draws instead of the light table."""
    if not at.dataframe:
        at.toggle(key="explore_grid").set_value(True).run()
        assert not at.exception
    df = at.dataframe[0].value
    return dict(zip(df["group_value"], df["spend_usd"]))


def test_breakdown_opens_as_a_light_table_and_sorts_in_the_grid(ledger, explore_app, wh):
    """A new tab or a menu switch draws no data grid: the breakdown is a light table (spend to the cent) with its
    CSV and Excel downloads; "Sort in a table" shows the same groups in the grid."""
    expected = spend_by(wh, "provider")
    wh.close()
    at = explore_app(ledger)
    assert not at.dataframe
    [light] = [t for t in summary_tables.tables(at) if "group_value" in t.columns]
    assert dict(zip(light["group_value"], light["spend_usd"])) == {g: usd(v[0]) for g, v in expected.items()}
    assert [b.label for b in at.get("download_button")] == ["Download CSV", "Download Excel"]
    assert set(table(at)) == set(light["group_value"])


def test_page_shows_spend_by_provider(ledger, explore_app, wh):
    expected = spend_by(wh, "provider")
    wh.close()
    at = explore_app(ledger)
    assert at.title[0].value == "Explore"
    [chart] = vega.charts(at)
    got = table(at)
    # a series per provider with spend (self-hosted's tokens are unpriced here: $0, no series)
    assert set(vega.series(chart)) == {g for g, (spend, _) in expected.items() if spend} == {"openai", "anthropic"}
    assert set(got) == set(expected)
    for g, (spend, _) in expected.items():
        assert got[g] == pytest.approx(spend, abs=1e-6)
    total = sum(v[0] for v in expected.values())
    assert any(f"{usd(total)} in total" in c.value for c in at.caption)
    assert [b.label for b in at.get("download_button")] == ["Download CSV", "Download Excel"]
    shown = "\n".join(c.value for c in at.code)
    for name in ("explore_trend", "explore_breakdown"):
        assert f"-- {name}:" in shown


def test_group_by_filter_and_drill_down(ledger, explore_app, wh):
    expected = spend_by(wh, "team", where="provider = 'openai'")
    wh.close()
    at = explore_app(ledger, explore_by="team", explore_filter_provider=["openai"], explore_grain="Month")
    got = table(at)
    assert set(got) == set(expected) == {"product", "support", "finance-ops", "data-science"}
    for g, (spend, _) in expected.items():
        assert got[g] == pytest.approx(spend, abs=1e-6)
    assert at.expander[0].label == "Filters (1 active)"
    assert any("Provider in openai" in c.value for c in at.caption)
    # drill into one team: its newest raw rows, and the count of all of them
    at.selectbox(key="explore_drill").set_value("finance-ops").run()
    assert not at.exception
    rows = at.dataframe[1].value
    assert set(rows["team"]) == {"finance-ops"} and set(rows["provider"]) == {"openai"}
    n = (LAST_DAY - RANGE_START).days + 1
    assert any(c.value.startswith(f"{n:,} of {n:,} ledger rows") for c in at.caption)
    assert "Download these rows (CSV)" in [b.label for b in at.get("download_button")]
    # changing the grouping forgets the drilled group
    at.selectbox(key="explore_by").set_value("model").run()
    assert not at.exception
    assert at.selectbox(key="explore_drill").value is None
    assert "gpt-4o" in table(at)


def test_group_by_user_within_a_team_reads_the_month_rollup(ledger, explore_app, wh, monkeypatch):
    """Grouped by user and filtered by team only, the breakdown reads people_monthly (whole months) and the days
    of the month the range cuts; the figures are the ledger's."""
    expected = spend_by(wh, "user_id", where="team = 'support'")
    wh.close()
    asked = []
    real = svc.people
    monkeypatch.setattr(svc, "people", lambda by, filters: asked.append(real(by, filters)) or asked[-1])
    at = explore_app(ledger, explore_by="user_id", explore_filter_team=["support"])
    assert asked == [True]
    got = table(at)
    assert set(got) == set(expected) == {"(none)"}
    assert got["(none)"] == pytest.approx(expected["(none)"][0], abs=1e-6) and expected["(none)"][0] > 0


def test_empty_ledger_says_what_to_do(tmp_path, explore_app):
    Warehouse(tmp_path / "empty.duckdb").close()
    at = explore_app(tmp_path / "empty.duckdb")
    assert "No usage loaded yet" in at.info[0].value and "Upload & data" in at.info[0].value
    assert not at.get("vega_lite_chart") and not at.dataframe


def test_filters_that_match_nothing(ledger, explore_app):
    at = explore_app(ledger, explore_filter_provider=["openai"], explore_filter_team=["legal"])
    assert any("No spend matches these filters" in i.value for i in at.info)
    assert any("no usage matches these filters" in i.value for i in at.info)
    assert not at.get("vega_lite_chart") and not at.dataframe
