"""Number formatting for finance readers: USD with thousands separators, signed percentages. Pure."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal


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
