"""Regressions with a cause and their dollars: lasting shifts in how efficiently the same traffic is served, each
named, dated and priced since it started.

Three detectors, all on the daily measures of `sql/queries/finance_regression_daily.sql` (counted sources only):

- `cache`: the cache-read share of prompt tokens (cache reads / (input + cache reads + cache writes)) per team x
  provider x model x api key fell against its own recent baseline. "cache hit rate fell from 88% to 31% on
  14 Nov for team X on model Y: +$412 since". Dollars per day = (baseline - share) x prompt tokens x (input price
  - cache-read price), the saving the lost hits would have made, at the list price in force.
- `prompt_tokens` / `output_tokens`: tokens per request of request rows per team x workload x provider x model
  jumped (a prompt grew, a model version that thinks longer: reasoning per request is shown beside output).
  Dollars per day = (tokens per request - baseline) x requests x that day's list price per token of the class.
- `price`: the billed price against the price in force (billed / expected list cost, on rows that carry both)
  per provider x model moved (a new contract, a price cut not applied, a tier change). Mix-neutral: the ratio
  does not move when the same model is used with more output or more cache. Dollars per day =
  (ratio - baseline) x expected cost. Both directions are reported; a fall is a saving (negative dollars).

The rule, the same for all, on each series' daily value x(d) (days below a volume floor are not judged):
- baseline(d) = median of x over the valid days among the WINDOW days before d (at least MIN_BASE_DAYS of them);
  scale(d) = 1.4826 x MAD of those days (a robust sigma);
- d deviates when x(d) moved against the baseline, in the detector's direction, by more than
  max(K x scale, an absolute floor, a relative floor x baseline);
- a regression starts on a day that deviates and whose next valid day deviates too (one odd day is noise);
- from its start the baseline is frozen (a rolling one would learn the new level within weeks) and the regression
  lasts until two consecutive valid days are back within half the threshold of that frozen baseline (hysteresis:
  a shift just over the threshold stays one regression), or to the end of the range (ongoing). A series can have
  several regressions, one after another.
Dollars since it started sum every day of the regression with traffic (days under the floor too).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl
from numpy.lib.stride_tricks import sliding_window_view

from finance.periods import ledger_range
from warehouse.db import Warehouse

WINDOW = 28
MIN_BASE_DAYS = 7
K = 4.0
LOOKBACK = 180      # a regression active in the range is found if it started at most this many days before it
Kind = Literal["cache", "prompt_tokens", "output_tokens", "price"]
KINDS: tuple[Kind, ...] = ("cache", "prompt_tokens", "output_tokens", "price")
SERIES_COLUMNS = ("team", "workload", "provider", "model", "api_key")


@dataclass(frozen=True)
class Rule:
    """How one detector judges its daily value."""

    keys: tuple[str, ...]     # the series
    direction: int            # -1: a fall is the regression; +1: a rise; 0: either
    abs_floor: float          # the smallest move flagged, in the value's unit
    rel_floor: float          # ... and as a share of the baseline
    min_weight: float         # a day with less volume than this is not judged
    min_baseline: float = 0.0  # a series whose baseline is below this is not judged (cache: it barely caches)


RULES: dict[str, Rule] = {
    # 10 points and a quarter of the usual share, on days with >= 20k prompt tokens, for series that cache >= 15%
    "cache": Rule(("team", "provider", "model", "api_key"), -1, 0.10, 0.25, 20_000, 0.15),
    # +25% tokens per request, on days with >= 20 requests
    "prompt_tokens": Rule(("team", "workload", "provider", "model"), +1, 0.0, 0.25, 20),
    "output_tokens": Rule(("team", "workload", "provider", "model"), +1, 0.0, 0.25, 20),
    # 5% of the price in force, on days with >= $1 of expected cost
    "price": Rule(("provider", "model"), 0, 0.0, 0.05, 1.0),
}
UNITS = {"cache": "cache-read share of prompt tokens", "prompt_tokens": "prompt tokens per request",
         "output_tokens": "output tokens per request", "price": "billed / list price"}


def daily(wh: Warehouse, start: dt.date, end: dt.date) -> pl.DataFrame:
    """The detectors' input: `finance_regression_daily` over [start, end]."""
    return wh.query("finance_regression_daily", start=start, end=end)


# ------------------------------------------------------------------------------------------------ the rule
def _baseline(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Median, robust scale and count of the valid (non-NaN) values among the WINDOW days before each day:
    arrays (T, S), NaN before day WINDOW."""
    t, s = x.shape
    base = np.full((t, s), np.nan)
    scale = np.full((t, s), np.nan)
    count = np.zeros((t, s), dtype=int)
    if t <= WINDOW:
        return base, scale, count
    win = sliding_window_view(x, WINDOW, axis=0)[:-1]            # (t - WINDOW, s, WINDOW): days d-28 .. d-1
    # an all-NaN window has no baseline (NaN). It is given zeros for the medians and set to NaN after: numpy warns
    # on all-NaN slices, and catch_warnings is process-wide, not thread-safe (the dashboard runs this in a script
    # thread), so a suppressed warning still leaked into other threads' output
    empty = np.isnan(win).all(axis=2)
    filled = np.where(empty[:, :, None], 0.0, win)
    med = np.nanmedian(filled, axis=2)
    mad = np.nanmedian(np.abs(filled - med[:, :, None]), axis=2)
    med[empty] = np.nan
    mad[empty] = np.nan
    base[WINDOW:] = med
    scale[WINDOW:] = 1.4826 * mad
    count[WINDOW:] = np.sum(~np.isnan(win), axis=2)
    return base, scale, count


def _threshold(rule: Rule, base: np.ndarray, scale: np.ndarray) -> np.ndarray:
    return np.maximum(np.maximum(K * scale, rule.abs_floor), rule.rel_floor * np.abs(base))


def _moved(rule: Rule, direction: int, x: np.ndarray, base: np.ndarray, thr: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return direction * (x - base) > thr


def find(rule: Rule, x: np.ndarray, directions: tuple[int, ...] | None = None) -> list[tuple[int, int, int | None,
                                                                                              float, float, int]]:
    """Regressions in a (days x series) matrix of daily values, NaN where a day is not judged.

    Returns (series, start day, last day or None when ongoing, frozen baseline, frozen threshold, direction)."""
    base, scale, count = _baseline(x)
    thr = _threshold(rule, base, scale)
    ok = ~np.isnan(x) & (count >= MIN_BASE_DAYS) & (np.abs(np.nan_to_num(base)) >= rule.min_baseline)
    out = []
    for direction in directions or ((rule.direction,) if rule.direction else (-1, +1)):
        flagged = ok & _moved(rule, direction, x, base, thr)
        for s in np.flatnonzero(flagged.any(axis=0)):          # only series with a deviating day
            valid = np.flatnonzero(~np.isnan(x[:, s]))
            i = 0
            while i < len(valid) - 1:
                d = valid[i]
                if not (flagged[d, s] and flagged[valid[i + 1], s]):
                    i += 1
                    continue
                b, th = float(base[d, s]), float(thr[d, s])
                later = valid[i:]
                # hysteresis: it lasts while the value stays past half the threshold, so a shift just over the
                # threshold is one regression, not several
                bad = direction * (x[later, s] - b) > th / 2
                # recovered at the first two consecutive days back within half the frozen threshold
                good_pair = np.flatnonzero(~bad[:-1] & ~bad[1:])
                if good_pair.size:
                    last = int(later[good_pair[0] - 1]) if good_pair[0] > 0 else int(d)
                    out.append((int(s), int(d), last, b, th, direction))
                    i += int(good_pair[0]) + 2
                else:
                    out.append((int(s), int(d), None, b, th, direction))
                    break
    return out


# ------------------------------------------------------------------------------------------------ measures
def _dense(frame: pl.DataFrame, keys: tuple[str, ...], values: list[str], start: dt.date, n: int):
    """Sum `values` per series and day into (n, S) matrices; the series table in matrix column order."""
    g = frame.group_by(["day", *keys]).agg([pl.col(v).sum() for v in values])
    series = g.select(keys).unique().sort(keys)
    idx = series.with_row_index("_series")
    j = g.join(idx, on=list(keys), how="left", nulls_equal=True)
    rows = j["day"].cast(pl.Int64).to_numpy() - (start - dt.date(1970, 1, 1)).days   # Date = days since 1970
    out = {}
    for v in values:
        m = np.zeros((n, series.height))
        np.add.at(m, (rows.astype(int), j["_series"].to_numpy()), j[v].fill_null(0).to_numpy().astype(float))
        out[v] = m
    return series, out


def _measure(kind: str, m: dict[str, np.ndarray], rule: Rule) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(value, weight, dollars per unit of excess) per day and series; value NaN where the day is not judged."""
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "cache":
            w = m["prompt_tokens"]
            x = m["cache_read_tokens"] / w
            usd_per_unit = m["cache_gap_usd"]                   # $ per unit of share lost: prompt tokens x gap
        elif kind in ("prompt_tokens", "output_tokens"):
            cls = "prompt" if kind == "prompt_tokens" else "output"
            w = m["requests"]
            x = m[f"req_{cls}_tokens"] / w
            price = m[f"req_{cls}_list_usd"] / m[f"req_{cls}_tokens"]
            usd_per_unit = w * np.where(np.isfinite(price), price, np.nan)
        else:
            w = m["expected_usd"]
            x = m["billed_usd"] / w
            usd_per_unit = w
    x = np.where(w >= rule.min_weight, x, np.nan)
    x = np.where(np.isfinite(x), x, np.nan)
    return x, w, usd_per_unit


_VALUES = {
    "cache": ["prompt_tokens", "cache_read_tokens", "cache_gap_usd"],
    "prompt_tokens": ["requests", "req_prompt_tokens", "req_prompt_list_usd"],
    "output_tokens": ["requests", "req_output_tokens", "req_reasoning_tokens", "req_output_list_usd"],
    "price": ["billed_usd", "expected_usd", "billed_tokens"],
}


def _empty() -> pl.DataFrame:
    return pl.DataFrame(schema={
        "kind": pl.String, **{c: pl.String for c in SERIES_COLUMNS}, "start": pl.Date, "end": pl.Date,
        "ongoing": pl.Boolean, "days": pl.Int64, "before": pl.Float64, "after": pl.Float64, "change_pct": pl.Float64,
        "excess_usd": pl.Float64, "detail": pl.String, "message": pl.String})


def detect_frame(frame: pl.DataFrame, first: dt.date, last: dt.date, kinds: tuple[str, ...] = KINDS,
                 report_from: dt.date | None = None) -> pl.DataFrame:
    """The detectors on a `finance_regression_daily` frame covering [first, last]; regressions active on or after
    `report_from` (default: all), largest dollars first."""
    n = (last - first).days + 1
    if frame.is_empty() or n <= WINDOW:
        return _empty()
    frame = frame.with_columns(pl.col(c).fill_null(0) for c in frame.columns if frame[c].dtype.is_numeric())
    rows = []
    for kind in kinds:
        rule = RULES[kind]
        series, m = _dense(frame, rule.keys, _VALUES[kind], first, n)
        x, w, usd_per_unit = _measure(kind, m, rule)
        for s, d, end, b, _th, direction in find(rule, x):
            stop = (n - 1) if end is None else end
            if report_from is not None and first + dt.timedelta(days=stop) < report_from:
                continue
            span = slice(d, stop + 1)
            # every day of the regression with volume counts toward its dollars, judged or not
            with np.errstate(divide="ignore", invalid="ignore"):
                raw = np.where(w[span, s] > 0, _raw_value(kind, m, span, s), np.nan)
            has = ~np.isnan(raw)
            # cache: a fall costs money; the others: a rise does
            per_day = (raw - b) * usd_per_unit[span, s] * (-1 if kind == "cache" else 1)
            excess = float(np.nansum(per_day[has])) if np.isfinite(per_day[has]).any() else None
            weights = w[span, s][has]
            after = float(np.average(raw[has], weights=weights)) if weights.sum() > 0 else float("nan")
            detail = _detail(kind, m, span, s, d, WINDOW, b)
            key = series.row(s, named=True)
            rows.append({
                "kind": kind, **{c: key.get(c) for c in SERIES_COLUMNS},
                "start": first + dt.timedelta(days=d), "end": None if end is None else first + dt.timedelta(days=end),
                "ongoing": end is None, "days": stop - d + 1, "before": b, "after": after,
                "change_pct": 100 * (after - b) / b if b else None, "excess_usd": excess, "detail": detail,
            })
    if not rows:
        return _empty()
    out = pl.DataFrame(rows, schema={k: v for k, v in _empty().schema.items() if k != "message"})
    out = out.with_columns(message=pl.Series([_message(r) for r in out.iter_rows(named=True)], dtype=pl.String))
    return out.sort(pl.col("excess_usd").abs(), descending=True, nulls_last=True)


def _raw_value(kind: str, m: dict[str, np.ndarray], span: slice, s: int) -> np.ndarray:
    if kind == "cache":
        return m["cache_read_tokens"][span, s] / m["prompt_tokens"][span, s]
    if kind == "prompt_tokens":
        return m["req_prompt_tokens"][span, s] / m["requests"][span, s]
    if kind == "output_tokens":
        return m["req_output_tokens"][span, s] / m["requests"][span, s]
    return m["billed_usd"][span, s] / m["expected_usd"][span, s]


def _detail(kind: str, m: dict[str, np.ndarray], span: slice, s: int, d: int, window: int, b: float) -> str | None:
    """The cause's second figure: reasoning per request (output), billed $ per 1M tokens (price)."""
    before = slice(max(0, d - window), d)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "output_tokens":
            r0 = m["req_reasoning_tokens"][before, s].sum() / m["requests"][before, s].sum()
            r1 = m["req_reasoning_tokens"][span, s].sum() / m["requests"][span, s].sum()
            if np.isfinite(r0) and np.isfinite(r1) and (r0 or r1):
                return f"reasoning tokens per request {r0:,.0f} → {r1:,.0f}"
        if kind == "price":
            p0 = 1e6 * m["billed_usd"][before, s].sum() / m["billed_tokens"][before, s].sum()
            p1 = 1e6 * m["billed_usd"][span, s].sum() / m["billed_tokens"][span, s].sum()
            if np.isfinite(p0) and np.isfinite(p1):
                return f"billed ${p0:,.2f} → ${p1:,.2f} per 1M tokens (mix included)"
    return None


def _fmt(kind: str, v: float) -> str:
    if kind == "cache":
        return f"{100 * v:.0f}%"
    if kind == "price":
        return f"{v:.2f}× list"
    return f"{v:,.0f}"


def _who(r: dict) -> str:
    parts = []
    if r["kind"] != "price":
        parts.append(f"team {r['team']}")
    if r["kind"] in ("prompt_tokens", "output_tokens"):
        parts.append(f"workload {r['workload']}")
    who = ", ".join(parts)
    where = f"model {r['model']} ({r['provider']})"
    key = f", key {r['api_key']}" if r["kind"] == "cache" and r["api_key"] not in (None, "(none)") else ""
    return f"{who + ' on ' if who else ''}{where}{key}"


def _message(r: dict) -> str:
    kind = r["kind"]
    what = {"cache": "cache hit rate", "prompt_tokens": "prompt tokens per request",
            "output_tokens": "output tokens per request", "price": "billed price against the price in force"}[kind]
    verb = "fell" if r["after"] < r["before"] else "rose"
    when = f"{r['start']:%d %b %Y}".lstrip("0")
    usd = r["excess_usd"]
    money = ("dollars unknown (unpriced model)" if usd is None else
             f"{'+' if usd >= 0 else '−'}${abs(usd):,.2f} {'since' if r['ongoing'] else 'until ' + format(r['end'], '%d %b').lstrip('0')}")
    detail = f" ({r['detail']})" if r["detail"] else ""
    return (f"{what} {verb} from {_fmt(kind, r['before'])} to {_fmt(kind, r['after'])} on {when} for "
            f"{_who(r)}{detail}: {money}")


# ------------------------------------------------------------------------------------------------ service
def detect(wh: Warehouse, start: dt.date | None = None, end: dt.date | None = None,
           kinds: tuple[str, ...] = KINDS) -> pl.DataFrame:
    """Regressions active between `start` and `end` (default: the whole ledger), largest dollars first: kind,
    the series (team, workload, provider, model, api_key as the kind uses them), start, end (null while
    ongoing), days, before (the frozen baseline), after (volume-weighted since the start), change %, dollars
    since the start (`excess_usd`), a detail and a sentence. A regression active in the range may have started
    up to LOOKBACK days before `start` (the baseline reads WINDOW days more)."""
    unknown = [k for k in kinds if k not in RULES]
    if unknown:
        raise ValueError(f"unknown regression kind(s) {', '.join(unknown)}; known: {', '.join(RULES)}")
    first, last = ledger_range(wh)
    if first is None:
        return _empty()
    end = min(end or last, last)
    start = max(start or first, first)
    # regressions can run for months: read back far enough to see one start and hold its frozen baseline
    read_from = max(first, start - dt.timedelta(days=LOOKBACK + WINDOW))
    return detect_frame(daily(wh, read_from, end), read_from, end, kinds, report_from=start)


def daily_values(wh: Warehouse, kind: str, series: dict[str, str | None], start: dt.date | None = None,
                 end: dt.date | None = None) -> pl.DataFrame:
    """The chart behind one regression: per day, the series' value, its rolling baseline and the flag line."""
    rule = RULES[kind]
    first, last = ledger_range(wh)
    schema = {"day": pl.Date, "value": pl.Float64, "baseline": pl.Float64, "threshold": pl.Float64}
    if first is None:
        return pl.DataFrame(schema=schema)
    end = min(end or last, last)
    read_from = max(first, (start or first) - dt.timedelta(days=WINDOW))
    frame = daily(wh, read_from, end)
    for c in rule.keys:
        frame = frame.filter(pl.col(c) == series[c]) if series.get(c) is not None else frame.filter(
            pl.col(c).is_null())
    n = (end - read_from).days + 1
    _, m = _dense(frame.with_columns(_one=pl.lit("x")), ("_one",), _VALUES[kind], read_from, n)
    x, _, _ = _measure(kind, m, rule)
    base, scale, count = _baseline(x)
    thr = _threshold(rule, base, scale)
    sign = rule.direction or 1
    return pl.DataFrame({
        "day": [read_from + dt.timedelta(days=i) for i in range(n)], "value": x[:, 0],
        "baseline": np.where(count[:, 0] >= MIN_BASE_DAYS, base[:, 0], np.nan),
        "threshold": np.where(count[:, 0] >= MIN_BASE_DAYS, base[:, 0] + sign * thr[:, 0], np.nan),
    }, schema=schema).with_columns(pl.col(c).fill_nan(None) for c in ("value", "baseline", "threshold")).filter(
        pl.col("day") >= (start or first))


__all__ = ["KINDS", "RULES", "UNITS", "WINDOW", "daily", "daily_values", "detect", "detect_frame", "find"]
