"""The light summary table (dashboard/components/summary.py): what a reader sees in each cell, escaped."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import summary_tables
from dashboard.components.summary import MAX_ROWS, format_number, summary_html

MONEY = st.column_config.NumberColumn


def test_cells_read_as_the_grid_formats_them():
    df = pl.DataFrame({
        "model": ["anthropic/claude-3-5-sonnet-20241022-with-a-very-long-deployment-name", "gpt-4o",
                  "a long sentence that wraps rather than being cut, so nothing needs a hover"],
        "spend_usd": [1751.649, -4.0, None], "share": [0.625, 0.0417, None], "tokens": [664_000_000, 1_200, 7],
        "pct": [12.345, -4.0, 0.0], "month": [dt.date(2026, 11, 1), dt.date(2026, 12, 1), None],
        "ongoing": [True, False, None], "hidden": [1, 2, 3]})
    markup = summary_html(df, column_order=["model", "spend_usd", "share", "tokens", "pct", "month", "ongoing"],
                          column_config={"model": st.column_config.TextColumn("Model"),
                                         "spend_usd": MONEY("Spend", format="dollar", help="Billed & list"),
                                         "share": MONEY("Share", format="percent"),
                                         "tokens": MONEY("Tokens", format="compact"),
                                         "pct": MONEY("Change", format="%+.1f%%"),
                                         "month": st.column_config.DateColumn("Month", format="MMM YYYY"),
                                         "ongoing": st.column_config.CheckboxColumn("Ongoing"), "hidden": None})
    shown = summary_tables.frame(markup)
    assert shown.columns == ["model", "spend_usd", "share", "tokens", "pct", "month", "ongoing"]
    assert shown.rows() == [
        ("anthropic/claude-3-5-sonnet-20241022-with-a-very-long-deployment-name", "$1,751.65", "62.50%", "664.0M",
         "+12.3%", "Nov 2026", "Yes"),
        ("gpt-4o", "-$4.00", "4.17%", "1.2K", "-4.0%", "Dec 2026", "No"),
        ("a long sentence that wraps rather than being cut, so nothing needs a hover", None, None, "7", "+0.0%",
         None, None)]
    parsed = summary_tables.parse(markup)
    assert parsed.labels == ["Model", "Spend", "Share", "Tokens", "Change", "Month", "Ongoing"]
    assert parsed.titles[0][0] == df["model"][0]            # the whole id on hover where the cell is cut
    assert parsed.titles[1][0] is None and parsed.titles[2][0] is None
    assert '<td class="w">a long sentence' in markup
    assert 'title="Billed &amp; list"' in markup            # a column's help on its header
    assert markup.count('<td class="n">') == 3 * 4           # numbers right-aligned (booleans are not numbers)
    assert "position: sticky" in markup


def test_values_are_escaped_never_html():
    markup = summary_html(pl.DataFrame({"team": ['<img src=x onerror="alert(1)">'], "x": [1]}))
    assert "<img" not in markup and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in markup


@pytest.mark.parametrize(("value", "fmt", "text"), [
    (1234.5, "localized", "1,234.50"), (1234, "localized", "1,234"), (0.1234, "$%.4f", "$0.1234"),
    (1234.5, "%,.2f", "1,234.50"), (3.6, "%d", "4"), (0.125, "dollar", "$0.13"), (12.0, "%.0f%%", "12%"),
    (2.5, None, "2.5"), (12345, None, "12,345"), (2026, "plain", "2026")])
def test_number_formats(value, fmt, text):
    assert format_number(value, fmt) == text


def test_a_long_table_belongs_in_the_grid():
    with pytest.raises(ValueError, match="widgets.table"):
        summary_html(pl.DataFrame({"x": list(range(MAX_ROWS + 1))}))


def test_drawn_in_a_page_as_html():
    def page():
        import polars as pl
        import streamlit as st

        from dashboard.components.widgets import summary_table

        summary_table(pl.DataFrame({"team": ["a", "b"], "spend_usd": [1.5, None]}), hide_index=True,
                      width="stretch", column_config={"spend_usd": st.column_config.NumberColumn(
                          "Spend", format="dollar")}, height=300)

    at = AppTest.from_function(page).run()
    assert not at.exception and not at.dataframe
    [shown] = summary_tables.tables(at)
    assert shown.rows() == [("a", "$1.50"), ("b", None)]
    assert "max-height: 300px" in at.html[0].value


def test_a_summary_that_grows_long_is_drawn_in_the_grid():
    def page():
        import polars as pl

        from dashboard.components.summary import MAX_ROWS
        from dashboard.components.widgets import summary_table

        summary_table(pl.DataFrame({"team": [f"t{i}" for i in range(MAX_ROWS + 1)]}))

    at = AppTest.from_function(page).run()
    assert not at.exception and not at.html and len(at.dataframe[0].value) == MAX_ROWS + 1


def test_a_decimal_money_column_reads_as_dollars():
    """DuckDB's DECIMAL money (the ingest history's file and loaded costs) is formatted like a float column, never
    shown as its raw digits ("0.048626000000")."""
    from decimal import Decimal

    import polars as pl
    import streamlit as st

    from dashboard.components.summary import summary_html

    df = pl.DataFrame({"cost": [Decimal("0.048626000000"), Decimal("35.530000000000"), None]},
                      schema={"cost": pl.Decimal(38, 12)})
    markup = summary_html(df, column_config={"cost": st.column_config.NumberColumn("Cost", format="dollar")})
    assert "$0.05" in markup and "$35.53" in markup and "0.048626" not in markup
