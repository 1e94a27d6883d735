"""Number formatting for finance readers: USD with thousands separators, signed percentages. Pure."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from dashboard.services import plural  # noqa: F401  (pages take their wording helpers from here)


def usd(value: float | Decimal | None, decimals: int = 2) -> str:
    """$1,234.57 (negative: -$1,234.57); an em dash for no value. Rounded half away from zero on the decimal
    value (as SQL's round() does), not on the float's binary expansion: 0.125 shows as $0.13 on every page."""
    if value is None:
        return "—"
    amount = Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.{decimals}f}"


def signed_pct(value: float | None, decimals: int = 1) -> str | None:
    """+12.3% / -4.0%; None for no value (st.metric then shows no delta)."""
    if value is None:
        return None
    return f"{value:+.{decimals}f}%"


def pct(value: float | None, decimals: int = 1) -> str:
    return "—" if value is None else f"{value:.{decimals}f}%"


def day_span(start: dt.date, end: dt.date) -> str:
    """'1–17 Sep 2025', '20 Jun – 17 Sep 2025', '20 Dec 2024 – 3 Jan 2025'."""
    if start == end:
        return f"{start.day} {start:%b %Y}"
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day}–{end.day} {end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b} – {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} – {end.day} {end:%b %Y}"


def shaded_note(days: tuple[dt.date, dt.date], why: str) -> str:
    """The caption under a spend chart with an incomplete band: which days, and which sources end early."""
    return f"The shaded days ({day_span(*days)}) are incomplete: {why}."


def month_lines_text(lines) -> str:
    """'8 monthly lines, $1,715.78 (from gcp-cost-table)' for the frame of spend.month_lines."""
    sources = lines["source_format"].to_list() if lines.height == 1 else [
        f"{f} {usd(s)}" for f, s in zip(lines["source_format"], lines["spend_usd"], strict=True)]
    return (f"{plural(int(lines['lines'].sum()), 'monthly line')}, {usd(lines['spend_usd'].sum())} "
            f"(from {', '.join(sources)})")


def month_lines_note(lines) -> str:
    """The caption under a daily or weekly spend chart whose range holds month-grain lines ('' when none)."""
    if lines.is_empty():
        return ""
    return (f"{month_lines_text(lines)} sit on their month's first day: the day or week holding a 1st shows the "
            "whole month of those sources.")


NO_REQUEST_COUNTS = ("— means no request counts: this usage comes from billing or cost exports, which report cost "
                     "and tokens but not how many requests were made.")


def requests_counted(df, column: str = "requests"):
    """The table with `column`'s zeros made missing (shown "—"): a row with money or tokens and 0 requests comes
    from sources with no request counts (cost and billing exports), never from zero requests."""
    import polars as pl

    if column not in df.columns:
        return df
    return df.with_columns(pl.when(pl.col(column) == 0).then(None).otherwise(pl.col(column)).alias(column))



def credits_note(credits, column: str, spend: str = "spend_usd") -> str:
    """The caption line for credit/refund/adjustment rows kept out of a by-model view ('' when none)."""
    if credits is None or credits.is_empty():
        return ""
    kinds = ", ".join(sorted({str(v) for v in credits[column].to_list()}))
    return (f"Credits & adjustments: {usd(float(credits[spend].sum()))} ({kinds}), billing lines that name no "
            "model: shown on their own, outside the models and their shares.")


# one month format everywhere: "Nov 2026" in headings, tables (MONTH_COLUMN) and chart axes (MONTH_AXIS)
MONTH_COLUMN = "MMM YYYY"       # st.column_config.DateColumn format
MONTH_AXIS = "%b %Y"            # chart axis format (d3 time format, as Vega-Lite reads it)


def month(value: dt.date | str) -> str:
    """'Nov 2026' for a date in the month or a 'YYYY-MM' month key."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:7] + "-01")
    return f"{value:%b %Y}"
