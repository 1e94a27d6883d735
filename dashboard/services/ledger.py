"""What the whole dashboard needs to know about the ledger itself: its date span, and how far every source's
usage reaches (so a period some sources do not cover yet is marked incomplete, never read as a drop)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

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


# --- how complete the latest days are ------------------------------------------------------------------------
LAG_TOLERANCE_DAYS = 2      # a source ending a day or two before the latest day is still current (exports lag)
CURRENT_DAYS = 31           # a source with usage in the 31 days before the latest day is current


@dataclass(frozen=True)
class Completeness:
    """How far the ledger holds every current source, up to a day `end`.

    A source is *current* when it has usage in the CURRENT_DAYS before the latest day; a current source
    whose usage ends more than LAG_TOLERANCE_DAYS before the latest day *lags*: the days after its end miss its
    usage, so they look like a drop. `complete_through` is the last day every current source covers (the
    latest day when none lags). Sources that ended earlier (an old one-off export) do not count."""

    latest: dt.date | None
    complete_through: dt.date | None
    lagging: pl.DataFrame           # source_format, first_day, last_day, row_count of the lagging sources

    @property
    def is_complete(self) -> bool:
        return self.latest is None or self.complete_through == self.latest

    def ends_in(self, start: dt.date, end: dt.date) -> pl.DataFrame:
        """The lagging sources whose usage ends inside [start, end): the period misses their later days."""
        return self.lagging.filter(pl.col("last_day").is_between(start, end - dt.timedelta(days=1)))

    def is_period_complete(self, start: dt.date, end: dt.date) -> bool:
        """Whether [start, end] (both inclusive) holds every current source's usage."""
        return self.complete_through is None or end <= self.complete_through

    def describe(self, start: dt.date | None = None, end: dt.date | None = None) -> str:
        """'`focus` ends 31 Oct 2026, `openai-usage-csv` ends 31 Oct 2026' (those ending inside the period)."""
        frame = self.lagging if start is None else self.ends_in(start, end or self.latest)
        return ", ".join(f"`{r['source_format']}` ends {r['last_day']:%-d %b %Y}" for r in frame.iter_rows(named=True))

    def incomplete_days(self, start: dt.date) -> tuple[dt.date, dt.date] | None:
        """The days from `start` on that some current source does not cover yet (first, last), shaded on the
        spend charts of Overview and Explore; None when every source reaches the latest day."""
        if self.is_complete:
            return None
        return max(start, self.complete_through + dt.timedelta(days=1)), self.latest

    def last_complete_month(self) -> dt.date | None:
        """The first day of the latest calendar month that is over and holds every current source: the month of
        `complete_through` when that is its last day, else the month before."""
        if self.complete_through is None:
            return None
        c = self.complete_through
        if (c + dt.timedelta(days=1)).month != c.month:
            return c.replace(day=1)
        return (c.replace(day=1) - dt.timedelta(days=1)).replace(day=1)


def completeness(coverage: pl.DataFrame) -> Completeness:
    """`Completeness` from the per-source coverage (query `source_coverage`: source_format, first_day, last_day,
    row_count up to a day)."""
    if coverage.is_empty():
        return Completeness(None, None, coverage)
    latest = coverage["last_day"].max()
    since = latest - dt.timedelta(days=CURRENT_DAYS)
    lagging = coverage.filter(pl.col("last_day").is_between(
        since, latest - dt.timedelta(days=LAG_TOLERANCE_DAYS + 1))).sort(["last_day", "source_format"])
    through = lagging["last_day"].min() if lagging.height else latest
    return Completeness(latest, through, lagging)


def source_completeness(run: QueryRunner, end: dt.date) -> Completeness:
    """`Completeness` of the ledger up to `end` (query `source_coverage`)."""
    return completeness(run("source_coverage", end=end))


# --- date presets ----------------------------------------------------------------------------------------------
PRESETS = ("Last 90 days", "Month to date", "Last month", "Quarter to date", "Year to date", "Everything")


def preset_range(name: str, first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """The (start, end) of a named period, counted back from the ledger's last day with usage (not today: an
    older export still reads sensibly), never before its first day."""
    month = last.replace(day=1)
    if name == "Last 90 days":
        return default_range(first, last)
    if name == "Month to date":
        start, end = month, last
    elif name == "Last month":
        end = month - dt.timedelta(days=1)
        start = end.replace(day=1)
    elif name == "Quarter to date":
        start, end = month.replace(month=3 * ((last.month - 1) // 3) + 1), last
    elif name == "Year to date":
        start, end = dt.date(last.year, 1, 1), last
    elif name == "Everything":
        start, end = first, last
    else:
        raise ValueError(f"unknown period {name!r}; choose one of {', '.join(PRESETS)}")
    return max(first, start), max(first, end)


# --- a typed range ---------------------------------------------------------------------------------------------
_MONTHS = {m: i for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov",
                                        "dec"), start=1)}


def _one(text: str, end_of: bool) -> dt.date:
    """'2026-09-01', '1 Sep 2026', '2026-09' / 'Sep 2026' (a month: its first day, or its last with `end_of`)."""
    import calendar
    import re

    t = text.strip().replace(",", " ")
    try:
        return dt.date.fromisoformat(t)
    except ValueError:
        pass
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", t) or None
    if m:
        year, month, day = int(m[1]), int(m[2]), None
    else:
        parts = t.lower().split()
        nums = [p for p in parts if p.isdigit()]
        names = [p[:3] for p in parts if p[:3] in _MONTHS]
        if len(names) != 1 or not nums or len(parts) != len(nums) + 1:
            raise ValueError(f"'{text.strip()}' is not a date: type 2026-09-01, 1 Sep 2026, 2026-09 or Sep 2026")
        month = _MONTHS[names[0]]
        year = int(nums[-1])
        day = int(nums[0]) if len(nums) == 2 else None
    if not 1 <= month <= 12:
        raise ValueError(f"'{text.strip()}' has no month {month}")
    if day is None:
        day = calendar.monthrange(year, month)[1] if end_of else 1
    return dt.date(year, month, day)


def parse_range(text: str, first: dt.date, last: dt.date) -> tuple[dt.date, dt.date]:
    """A typed date range, kept inside the ledger's days [first, last]: 'start – end' (also 'to', '..', '—'),
    one day, or one month ('Sep 2026', '2026-09'). Raises ValueError with a sentence saying what to type."""
    import re

    pieces = [p for p in re.split(r"\s+(?:–|—|-|to)\s+|\s*\.\.\s*|\s*[–—]\s*", text.strip()) if p]
    if not pieces or len(pieces) > 2:
        raise ValueError("type a range such as 2026-09-01 – 2026-09-30, one day, or a month such as Sep 2026")
    start, end = _one(pieces[0], end_of=False), _one(pieces[-1], end_of=True)
    if end < start:
        start, end = end, start
    if end < first or start > last:
        raise ValueError(f"the ledger holds usage from {first:%-d %b %Y} to {last:%-d %b %Y} only")
    return max(start, first), min(end, last)
