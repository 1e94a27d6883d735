"""Calendar helpers shared by the finance modules: month and quarter bounds, `YYYY-MM` parsing, the as-of day."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from warehouse.db import Warehouse
from warehouse.errors import ConfigError

Period = Literal["month", "quarter"]


def month_start(d: dt.date) -> dt.date:
    return d.replace(day=1)


def quarter_start(d: dt.date) -> dt.date:
    return dt.date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def add_months(d: dt.date, n: int) -> dt.date:
    """The first day of the month `n` months after `d`'s month."""
    m = d.year * 12 + d.month - 1 + n
    return dt.date(m // 12, m % 12 + 1, 1)


def period_bounds(d: dt.date, period: Period) -> tuple[dt.date, dt.date]:
    """(first day, last day) of the month or quarter holding `d`, both inclusive."""
    if period == "month":
        start = month_start(d)
        return start, add_months(start, 1) - dt.timedelta(days=1)
    if period == "quarter":
        start = quarter_start(d)
        return start, add_months(start, 3) - dt.timedelta(days=1)
    raise ValueError(f"unknown period {period!r}; known: month, quarter")


def parse_month(text: str) -> tuple[dt.date, dt.date]:
    """'2026-10' -> (2026-10-01, 2026-10-31)."""
    try:
        start = dt.datetime.strptime(text.strip(), "%Y-%m").date()
    except ValueError as e:
        raise ConfigError(f"month {text!r} is not YYYY-MM", title="Invalid month") from e
    return period_bounds(start, "month")


def ledger_range(wh: Warehouse) -> tuple[dt.date | None, dt.date | None]:
    row = wh.query("finance_date_range").row(0)
    return row[0], row[1]


def default_as_of(wh: Warehouse) -> dt.date | None:
    """The last day with usage in the ledger."""
    return ledger_range(wh)[1]
