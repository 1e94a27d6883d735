"""Cells that erode trust (issue 15 item 5), on the sample ledger over its whole span: no "None"/"nan" in any
table on any page (a missing value reads "—"), cost-only rows never read "0 requests", money columns wide enough
for their values, credit lines never a model with a share, and one consistent statement on Reconciliation about
the bill no model price explains. (The same cells in a real browser: tests/dashboard/test_browser.py.)"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
import summary_tables
import vega_spec as vega
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.components import widgets
from dashboard.components.finance_charts import reconcile_waterfall
from dashboard.components.formatting import requests_counted, usd
from dashboard.services import spend as spend_svc
from test_dashboard_pages import APP, PAGES
from warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
MISSING_WORDS = {"None", "none", "nan", "NaN", "null", "NULL", "<NA>"}


@pytest.fixture(scope="module")
def span(sample_db) -> tuple:
    with Warehouse(sample_db) as wh:
        row = wh.query("ledger_date_range").row(0, named=True)
        return row["first_day"], row["last_day"]


@pytest.fixture
def open_page(tmp_path, monkeypatch, sample_db, span):
    db = tmp_path / "ledger.duckdb"
    shutil.copy(sample_db, db)
    monkeypatch.setenv("MODELMIX_DB", str(db))
    monkeypatch.setenv("MODELMIX_JOBS_FILE", str(tmp_path / "jobs.yaml"))

    def open_(page: str, **state) -> AppTest:
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.session_state["date_range"] = span          # the sidebar range: the ledger's whole span
        for k, v in state.items():
            at.session_state[k] = v
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        if page != PAGES[0]:
            at.switch_page(page).run()
            assert not at.exception, [e.value for e in at.exception]
        return at

    yield open_
    st.cache_data.clear()
    st.cache_resource.clear()


def page_text(at: AppTest) -> str:
    kinds = ("markdown", "caption", "info", "warning", "success", "error", "subheader", "metric")
    out = []
    for kind in kinds:
        for e in at.get(kind):
            out.append(str(getattr(e, "value", "")) + " " + str(getattr(e.proto, "body", "")))
            if kind == "metric":
                out.append(f"{e.proto.label} {e.proto.body} {e.proto.delta}")
    return "\n".join(out)


def test_pages_draw_tables_through_the_shared_wrapper():
    """Every page table and editor goes through widgets.table / widgets.editor (which set the "—")."""
    for path in (ROOT / "dashboard" / "views").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\.dataframe\(|\.data_editor\(", text), f"{path.name} draws a table directly"


@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_no_none_or_nan_in_any_table(page, open_page):
    at = open_page(page)
    for i, df in enumerate(at.dataframe):
        assert df.proto.placeholder == widgets.MISSING, f"{page}: table {i} shows missing values as 'None'"
        value = df.value
        for column in value.columns:
            if value[column].dtype == object:
                words = {str(v) for v in value[column].dropna()} & MISSING_WORDS
                assert not words, f"{page}: table {i} column {column!r} holds {words}"
    for i, shown in enumerate(summary_tables.tables(at)):    # the light tables: what a reader sees, as text
        words = {v for c in shown.columns for v in shown[c].drop_nulls()} & MISSING_WORDS
        assert not words, f"{page}: summary table {i} shows {words}"
    text = page_text(at)
    assert not re.search(r"\b0 requests\b", text), f"{page} says '0 requests'"
    assert not re.search(r"(?<![\w`])(None|nan|NaN)(?![\w`])", text.replace("None (showback)", "")), \
        f"{page}: a literal None/nan in the text"


def test_cost_only_rows_say_there_are_no_request_counts(open_page, sample_db, span):
    at = open_page(PAGES[0])
    models = next(t for t in summary_tables.tables(at) if "model" in t.columns and "requests" in t.columns)
    with Warehouse(sample_db) as wh:        # models whose usage in the range comes only from cost exports
        cost_only = set(wh.sql(
            "select model from usage_daily where day between $start and $end and in_spend group by model "
            "having coalesce(sum(requests), 0) = 0 and sum(spend_usd) > 0", start=span[0], end=span[1])["model"])
    listed = set(models["model"]) & cost_only
    assert listed, "the sample's top models should include a cost-export-only model (gemini-2.5-pro)"
    for m in listed:
        assert models.filter(pl.col("model") == m)["requests"].is_null().all(), f"{m} shows 0 requests"
    assert any("no request counts" in c.value for c in at.caption)


def test_requests_counted_keeps_real_counts():
    df = pl.DataFrame({"requests": [0, 12, None]})
    assert requests_counted(df)["requests"].to_list() == [None, 12, None]


def test_money_columns_fit_their_widest_value():
    df = pl.DataFrame({"actual_usd": [0.41, 1751.65], "status": ["On track", "Over budget"]})
    cfg = widgets._fit_widths(df, {"actual_usd": st.column_config.NumberColumn("Actual", format="dollar"),
                                   "status": st.column_config.TextColumn("Status")})
    assert cfg["actual_usd"]["width"] >= len("$1,751.65") * 6.8 + 16
    assert cfg["status"]["width"] is None          # text: the grid's own sizing
    set_by_page = {"actual_usd": st.column_config.NumberColumn("Actual", format="dollar", width=200)}
    assert widgets._fit_widths(df, set_by_page)["actual_usd"]["width"] == 200


def test_a_credit_line_is_not_a_model(open_page):
    at = open_page("views/explore.py", explore_by="model", explore_grid=True)     # the grid: exact shares
    [df] = [d.value for d in at.dataframe if "group_value" in d.value.columns]
    assert "credit" not in set(df["group_value"])
    assert df["spend_share"].min() >= 0 and df["spend_share"].sum() == pytest.approx(1.0)
    note = [c.value for c in at.caption if c.value.startswith("Credits & adjustments")]
    assert note and usd(-40) in note[0], [c.value for c in at.caption]
    # the chart: no series is named after the credit line as if it were a model
    names = vega.series(vega.charts(at)[0])
    assert "credit" not in names and "Credits & adjustments" in names     # its own series, not in "other"


def test_split_credits_recomputes_shares():
    df = pl.DataFrame({"model": ["a", "b", "credit"], "spend_usd": [60.0, 40.0, -4.0],
                       "spend_share": [0.625, 0.4167, -0.0417]})
    models, credits = spend_svc.split_credits(df)
    assert models["spend_share"].to_list() == [0.6, 0.4] and credits["model"].to_list() == ["credit"]


def test_reconciliation_says_one_thing_about_unpriced_bills(open_page):
    at = open_page("views/reconciliation.py")
    text = page_text(at)
    everything_priced = "Every model in this range has a catalog price" in text
    assert not (everything_priced and "models the catalog cannot price" in text), text
    if everything_priced:
        assert "money-only lines" in text     # what the unpriced bill is, when no model lacks a price



@pytest.mark.slow
@pytest.mark.parametrize("page", PAGES)
def test_the_show_sql_toggle_governs_every_sql_expander(page, open_page):
    """Off (the default): no page shows a query, What-if's own replay SQL included; on: they are there."""
    off = open_page(page, show_sql=False)
    assert not [c for c in off.code if c.language == "sql"], f"{page} shows SQL with the toggle off"
    # no st.code at all with the toggle off: its syntax highlighter is a 1.5 MB script a new tab loads and runs
    # before it settles, even for a file example inside a collapsed expander (widgets.preformatted instead)
    assert not off.code, f"{page} draws st.code with the toggle off: {[c.value[:40] for c in off.code]}"
    assert not [e for e in off.expander if "SQL" in e.label], f"{page} has an SQL expander with the toggle off"
    if page in ("views/whatif.py", "views/overview.py"):
        on = open_page(page, show_sql=True)
        assert [c for c in on.code if c.language == "sql"], f"{page} shows no SQL with the toggle on"


# --- a typed date range (issue 15 item 7) ---------------------------------------------------------------------
def test_parse_range_reads_what_people_type():
    from dashboard.services.ledger import parse_range

    first, last = dt.date(2026, 3, 2), dt.date(2026, 11, 27)
    sep = (dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    for typed in ("2026-09-01 – 2026-09-30", "2026-09-01 to 2026-09-30", "2026-09-01..2026-09-30", "Sep 2026",
                  "2026-09", "1 Sep 2026 - 30 Sep 2026", "September 2026"):
        assert parse_range(typed, first, last) == sep, typed
    assert parse_range("2026-01-01 – 2026-03-10", first, last) == (first, dt.date(2026, 3, 10))   # clamped
    for bad in ("Smarch 2026", "2027-01", "1 2 3"):
        with pytest.raises(ValueError):
            parse_range(bad, first, last)


def test_a_typed_range_applies_on_enter(open_page):
    at = open_page("views/explore.py")
    at.text_input(key="date_typed").set_value("Sep 2026").run()        # AppTest's Enter: the value is submitted
    assert not at.exception
    assert at.session_state["date_range"] == (dt.date(2026, 9, 1), dt.date(2026, 9, 30))
    assert any("Spend from 1–30 Sep 2026" in c.value for c in at.caption)
    at.text_input(key="date_typed").set_value("Smarch").run()
    assert any("is not a date" in c.value for c in at.sidebar.caption)
    assert at.session_state["date_range"][0].month == 9                  # a bad entry changes nothing


def test_one_month_format_everywhere():
    """Months read 'Nov 2026' in headings, tables and axes: no page or figure builder spells them another way."""
    from dashboard.components.formatting import month

    assert month(dt.date(2026, 11, 27)) == "Nov 2026" == month("2026-11")
    for folder in ("views", "components", "services"):
        for path in (ROOT / "dashboard" / folder).glob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "%B" not in text and '"MMMM YYYY"' not in text, f"{path.name} spells months another way"


def test_waterfall_labels_do_not_sit_on_the_bar_before():
    """Reconciliation's waterfall: a decrease's label hangs under its bar (at its low end); above it, it would print
    over the previous bar's label at the same height (seen: "$4,312.06-$786.58")."""
    spec = vega.spec(reconcile_waterfall([("Naive list price", 4312.06, "absolute"), ("Cache pricing", -786.58, "relative"),
                                         ("Unexplained residual", 7.69, "relative"), ("Billed", 0.0, "total")]))
    above, below = ([u for u in spec["layer"] if u["data"]["name"] == name][0] for name in ("above", "below"))
    assert (above["encoding"]["y"]["field"], above["mark"]["baseline"]) == ("high", "bottom")
    assert (below["encoding"]["y"]["field"], below["mark"]["baseline"]) == ("low", "top")
    assert [r["text"] for r in spec["datasets"]["below"]] == ["−$786.58"]
    # the billed total stands at the residual's height: a line further up (below)
    assert [r["text"] for r in spec["datasets"]["above"]] == ["$4,312.06", "+$7.69"]
    assert [r["text"] for r in spec["datasets"]["above_far"]] == ["$3,533.17"]


def test_waterfall_labels_at_one_height_are_staggered():
    """The last three steps of a bill close to list (expected $3,369.23, residual +$7.69, billed $3,376.92) stand
    at one height in bands ~50 px wide at 1400 px: printed on one line they ran into each other. The middle one
    goes one line up, so no two neighbours share a line at one height."""
    spec = vega.spec(reconcile_waterfall([
        ("Naive list price", 4312.06, "absolute"), ("Cache pricing", -786.58, "relative"),
        ("Negotiated discount", 0.0, "relative"), ("Batch tier", -156.25, "relative"),
        ("Long-context tier", 0.0, "relative"), ("Expected (list)", 3369.23, "total"),
        ("Unexplained residual", 7.69, "relative"), ("Billed, all sources", 3376.92, "total")]))
    lines = {name: [r["text"] for r in spec["datasets"][name]] for name in ("above", "above_far", "below", "below_far")}
    assert lines == {"above": ["$4,312.06", "$3,369.23", "$3,376.92"], "above_far": ["+$7.69"],
                     "below": ["−$786.58", "−$156.25"], "below_far": []}, lines
    far = [u for u in spec["layer"] if u["data"]["name"] == "above_far"][0]
    near = [u for u in spec["layer"] if u["data"]["name"] == "above"][0]
    assert far["mark"]["dy"] <= near["mark"]["dy"] - 12        # a whole line (11 px text) further up


def test_anomalies_page_says_what_monthly_lines_it_leaves_out(open_page):
    """The sample's September cost table (one line per SKU, dated 1 Sep) is not judged by day, and the page says so
    with its dollars, beside the flagged days of the daily sources."""
    at = open_page("views/anomalies.py")
    assert ("Not judged by day: 8 monthly lines, $1,715.78 (from gcp-cost-table)"
            in "\n".join(c.value for c in at.caption))


# --- a new tab's weight (issue 15 item 8) ----------------------------------------------------------------------
def test_file_examples_are_plain_preformatted_text(open_page):
    """Prices' "File format" example is escaped preformatted text, not st.code (whose 1.5 MB highlighter made
    the pages with a file example the slowest to open from a new tab); no st.code with Show SQL off."""
    at = open_page("views/prices.py", show_sql=False)
    assert not at.code, [c.value[:40] for c in at.code]
    [example] = [h.value for h in at.html if "overrides:" in h.value]
    assert example.startswith("<pre") and "discount_pct: 15" in example


def test_uploads_overlaps_table_is_built_when_opened(open_page):
    """Upload & data's coverage overlaps (27 provider-days on the sample) wait in an expander built only when
    opened: a new tab draws its label, not its table of every overlapping row; opened, the table and its CSV."""
    at = open_page("views/upload.py")
    [box] = [e for e in at.expander if e.label.startswith("Overlaps: ")]
    assert "provider-days with more than one source" in box.label
    assert not [t for t in summary_tables.tables(at) if "in_spend" in t.columns]
    opened = open_page("views/upload.py", upload_overlaps_open=True)
    [table] = [t for t in summary_tables.tables(opened) if "in_spend" in t.columns]
    assert table.height > 1
    assert len(opened.get("download_button")) == len(at.get("download_button")) + 1


def test_preformatted_escapes_what_it_shows():
    def app():
        from dashboard.components.widgets import preformatted

        preformatted('note: "<b>bold</b> & <script>x</script>"', max_height=240)

    at = AppTest.from_function(app).run()
    [shown] = [h.value for h in at.html]
    assert "<b>" not in shown and "<script>" not in shown and "&lt;script&gt;" in shown and "max-height: 240px" in shown


@pytest.mark.parametrize(("page", "grain_key"), [("views/overview.py", "overview_bucket"),
                                                 ("views/explore.py", "explore_grain")])
def test_daily_and_weekly_charts_say_where_monthly_lines_sit(open_page, page, grain_key):
    """The sample's September cost table is month-grain, dated 1 Sep: a day or week chart shows the whole month
    there, and says so; a monthly chart puts it in its month and says nothing."""
    note = "8 monthly lines, $1,715.78 (from gcp-cost-table) sit on their month's first day"
    at = open_page(page)
    assert note in "\n".join(c.value for c in at.caption)
    monthly = open_page(page, **{grain_key: "Month"})
    assert monthly.get("vega_lite_chart") and "Month" in [e.value for e in monthly.get("button_group")]
    assert not [c.value for c in monthly.caption if "monthly line" in c.value]


def test_reconciliation_per_day_says_where_monthly_lines_sit(open_page):
    """Reconciliation's billed-per-day chart shows the September cost table as a spike on 1 Sep: its caption says
    what sits there, as the spend charts' captions do."""
    at = open_page("views/reconciliation.py")
    assert ("8 monthly lines, $1,715.78 (from gcp-cost-table) sit on their month's first day"
            in "\n".join(c.value for c in at.caption))
