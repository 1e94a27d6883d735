"""What the whole dashboard needs to know about the ledger itself (its date span)."""

from __future__ import annotations

import datetime as dt

from dashboard.services import QueryRunner

DEFAULT_WINDOW_DAYS = 90


def date_bounds(run: QueryRunner) -> tuple[dt.date, dt.date] | None:
    """(first day, last day) with usage in the ledger, or None when it holds no usage. Query: ledger_date_range."""
    row = run("ledger_date_range").row(0, named=True)
    if row["first_day"] is None:
        return None
    return row["first_day"], row["last_day"]


def default_range(first: dt.date, last: dt.date, days: int = DEFAULT_WINDOW_DAYS) -> tuple[dt.date, dt.date]:
    """The last `days` days of data (both ends inclusive), never starting before the first day."""
    return max(first, last - dt.timedelta(days=days - 1)), last


def fit_range(picked: tuple[dt.date, ...] | None, first: dt.date, last: dt.date) -> tuple[dt.date, ...]:
    """A previously picked range kept inside the ledger's days (it may have shrunk); the default range when
    there is none. A half-picked range (start only) is kept as it is, inside the bounds."""
    if not picked:
        return default_range(first, last)
    fitted = tuple(min(max(d, first), last) for d in picked)
    return fitted if len(fitted) == 1 else (min(fitted), max(fitted))
