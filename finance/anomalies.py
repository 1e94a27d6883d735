"""Anomalies: days whose spend per team x model (or team x model x api key) jumps above a robust baseline.

Rule, for each series and day d with 28 days of history before it (days before the ledger starts don't count):
- the window is the 28 days before d (4 of each weekday);
- expected(d) = median of the 4 window days with d's weekday (the weekday effect, robust to one spike);
- scale = 1.4826 x MAD of the window's residuals from their own weekday medians (a robust sigma);
- d is flagged when excess = spend(d) - expected(d) exceeds `k` x max(scale, `rel_floor` x expected) and
  both `min_usd` and `min_pct` of expected (so tiny or noise-level bumps are never alerts);
- a series' first day of spend after WINDOW days of none is new spend (expected 0, flagged once); its next days
  are judged on the days since that start alone (see `_young`).
Drivers of a flagged day: the api key and the project whose spend rose most above their own same-weekday
medians, and the token class whose tokens rose most, weighted by a typical price ratio (output 4, cache write
1.25, input 1, cache read 0.1 per token: an approximation, since the ledger has no per-class billed cost).
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Literal

import numpy as np
import polars as pl
from numpy.lib.stride_tricks import sliding_window_view

from finance.periods import ledger_range
from warehouse.db import Warehouse

WINDOW = 28
K = 4.0             # flag when the excess is over K robust sigmas ...
# days read before a range: a day's window, and that window's first day's own quiet window (is it a series' start?),
# so a day is judged the same whichever range it is read in
LOOKBACK = 2 * WINDOW
REL_FLOOR = 0.15    # ... and over K x 15% of the expected value (noise floor: the minimum flagged rise is +60%)
By = Literal["team_model", "team_model_key"]
_DIMS = {"team_model": ("team", "model"), "team_model_key": ("team", "model", "api_key")}
TOKEN_CLASSES = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")
_TOKEN_WEIGHT = {"input_tokens": 1.0, "cache_read_tokens": 0.1, "cache_write_tokens": 1.25, "output_tokens": 4.0}


def detail(wh: Warehouse, start: dt.date | None = None, end: dt.date | None = None) -> pl.DataFrame:
    """Counted spend and tokens per day x team x model x api key x project (the anomaly input)."""
    first, last = ledger_range(wh)
    return wh.query("finance_daily_spend_detail", start=start or first or dt.date(1970, 1, 1),
                    end=end or last or dt.date(1970, 1, 1))


def month_lines(wh: Warehouse, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Counted spend on month-grain lines in [start, end] per source format (source_format, lines, spend_usd):
    what detection leaves out, since a month's line sits on its first day and would read as that day's spike."""
    return wh.query("finance_month_lines", start=start, end=end)


def _dense(frame: pl.DataFrame, dims: tuple[str, ...], value: str, start: dt.date, n: int):
    keys = frame.select(dims).unique().sort(dims)
    idx = keys.with_row_index("_series")
    j = frame.join(idx, on=list(dims), how="left")
    mat = np.zeros((n, keys.height))
    rows = np.array([(d - start).days for d in j["day"].to_list()], dtype=int)
    np.add.at(mat, (rows, j["_series"].to_numpy()), j[value].fill_null(0).to_numpy().astype(float))
    return keys, mat


def baseline(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected value and robust scale for every day from WINDOW on: arrays (n - WINDOW, n_series).

    Row i describes day WINDOW + i; the window is the WINDOW days before it. A series that (re)starts — spend on a
    day after WINDOW days of none — is judged in its first WINDOW days on the days since it started, not on the
    zeros before: otherwise every day of its first weeks reads as new spend (expected $0) and one new team x model
    fills the list with a dozen flags. Its start day itself keeps expected 0 (new spend, flagged once)."""
    n, s = values.shape
    if n <= WINDOW:
        return np.zeros((0, s)), np.zeros((0, s))
    win = sliding_window_view(values, WINDOW, axis=0)[:-1]           # (T, S, 28): days d-28 .. d-1
    weeks = win.reshape(win.shape[0], s, WINDOW // 7, 7)             # position 7w + r; r = 0 is d's weekday
    med_w = np.median(weeks, axis=2)                                  # (T, S, 7)
    resid = weeks - med_w[:, :, None, :]
    flat = resid.reshape(win.shape[0], s, WINDOW)
    mad = np.median(np.abs(flat - np.median(flat, axis=2, keepdims=True)), axis=2)
    expected, scale = med_w[:, :, 0], 1.4826 * mad
    _young(values, win, expected, scale)
    return expected, scale


def _young(values: np.ndarray, win: np.ndarray, expected: np.ndarray, scale: np.ndarray) -> None:
    """Re-judge, in place, the days whose window reaches back before their series' last (re)start: the same rule
    on the window's days since the start only (days before it masked), the same weekday's median where the window
    holds that weekday since the start, else the median of its days since the start."""
    n, s = values.shape
    idx = np.arange(n)[:, None]
    before = np.concatenate([np.zeros((1, s)), np.cumsum(values, axis=0)])     # before[i] = sum of days < i
    quiet = before[idx[:, 0]] - before[np.maximum(idx[:, 0] - WINDOW, 0)] == 0  # no spend in the WINDOW days before
    starts = np.where((values > 0) & quiet, idx, -1)
    last_start = np.maximum.accumulate(starts, axis=0)[WINDOW:]                # (T, S): latest start <= the day
    day = idx[WINDOW:]
    t, k = np.nonzero((last_start > day - WINDOW) & (last_start < day))        # started inside the window, not today
    if not t.size:
        return
    w = win[t, k].astype(float)                                                # (m, 28): days d-28 .. d-1
    w[np.arange(WINDOW)[None, :] < (last_start[t, k] - (day[t, 0] - WINDOW))[:, None]] = np.nan
    weeks = w.reshape(-1, WINDOW // 7, 7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)                        # all-nan weekdays: nan, handled below
        med_w = np.nanmedian(weeks, axis=1)                                    # (m, 7)
        flat = (weeks - med_w[:, None, :]).reshape(-1, WINDOW)
        mad = np.nanmedian(np.abs(flat - np.nanmedian(flat, axis=1, keepdims=True)), axis=1)
        expected[t, k] = np.where(np.isnan(med_w[:, 0]), np.nanmedian(w, axis=1), med_w[:, 0])
    scale[t, k] = 1.4826 * np.nan_to_num(mad)


def detect(wh: Warehouse, by: By = "team_model", start: dt.date | None = None, end: dt.date | None = None,
           k: float = K, rel_floor: float = REL_FLOOR, min_usd: float = 1.0, min_pct: float = 30.0,
           drivers: bool = True) -> pl.DataFrame:
    """Flagged days, largest excess first: spend, expected, excess in $ and %, robust z, and the drivers.

    `start`/`end` bound the days reported; the baseline also reads the LOOKBACK days before `start`."""
    if by not in _DIMS:
        raise ValueError(f"unknown grouping {by!r}; known: {', '.join(_DIMS)}")
    dims = _DIMS[by]
    first, last = ledger_range(wh)
    if first is None:
        return _empty(dims)
    end = min(end or last, last)
    start = max(start or first, first)
    read_from = max(first, start - dt.timedelta(days=LOOKBACK))
    frame = detail(wh, read_from, end)
    flags = detect_frame(frame, dims, read_from, end, k, rel_floor, min_usd, min_pct)
    flags = flags.filter(pl.col("day") >= start)
    if drivers and flags.height:
        flags = add_drivers(flags, frame, dims)
    return flags


def _empty(dims) -> pl.DataFrame:
    schema = {"day": pl.Date, **{d: pl.String for d in dims}, "spend_usd": pl.Float64, "expected_usd": pl.Float64,
              "excess_usd": pl.Float64, "excess_pct": pl.Float64, "z": pl.Float64}
    return pl.DataFrame(schema=schema)


def detect_frame(frame: pl.DataFrame, dims: tuple[str, ...], start: dt.date, end: dt.date, k: float = K,
                 rel_floor: float = REL_FLOOR, min_usd: float = 1.0, min_pct: float = 30.0) -> pl.DataFrame:
    """The rule on a frame of `day`, the dims and `spend_usd` covering [start, end] (start = first known day)."""
    n = (end - start).days + 1
    if frame.is_empty() or n <= WINDOW:
        return _empty(dims)
    keys, mat = _dense(frame, dims, "spend_usd", start, n)
    expected, scale = baseline(mat)
    actual = mat[WINDOW:]
    excess = actual - expected
    threshold = k * np.maximum(scale, rel_floor * expected)
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(expected > 0, 100 * excess / expected, np.inf)
        z = np.where(scale > 0, excess / scale, np.inf)
    hit = (excess > threshold) & (excess >= min_usd) & (pct >= min_pct)
    t, s = np.nonzero(hit)
    if not t.size:
        return _empty(dims)
    out = keys[s.tolist()].with_columns(
        day=pl.Series([start + dt.timedelta(days=int(WINDOW + i)) for i in t], dtype=pl.Date),
        spend_usd=pl.Series(actual[t, s]), expected_usd=pl.Series(expected[t, s]),
        excess_usd=pl.Series(excess[t, s]),
        # a series with no usual spend (expected or scale 0) has no % or z: null, not infinity
        excess_pct=pl.Series(np.where(np.isfinite(pct[t, s]), pct[t, s], np.nan)).fill_nan(None),
        z=pl.Series(np.where(np.isfinite(z[t, s]), z[t, s], np.nan)).fill_nan(None),
    )
    return out.select("day", *dims, "spend_usd", "expected_usd", "excess_usd", "excess_pct", "z").sort(
        "excess_usd", descending=True)


def _same_weekday_median(frame: pl.DataFrame, group: list[str], value: str, day: dt.date) -> pl.DataFrame:
    """Per group: value on `day` and the median of the 4 same-weekday days before it (0 where absent)."""
    prior = [day - dt.timedelta(days=7 * w) for w in range(1, WINDOW // 7 + 1)]
    sub = frame.filter(pl.col("day").is_in([day, *prior])).group_by([*group, "day"]).agg(pl.col(value).sum())
    wide = sub.pivot(on="day", index=group, values=value)
    cols = {str(d): d for d in [day, *prior]}
    for c in cols:
        if c not in wide.columns:
            wide = wide.with_columns(pl.lit(0.0).alias(c))
    wide = wide.fill_null(0)
    return wide.select(*group, pl.col(str(day)).alias("on_day"),
                       pl.concat_list([pl.col(str(d)) for d in prior]).list.median().alias("usual"))


def add_drivers(flags: pl.DataFrame, frame: pl.DataFrame, dims: tuple[str, ...]) -> pl.DataFrame:
    """For every flagged day: the api key, project and token class that rose most above their usual level."""
    extra = []
    for row in flags.iter_rows(named=True):
        day = row["day"]
        mask = pl.lit(True)
        for d in dims:
            mask = mask & (pl.col(d) == row[d])
        sub = frame.filter(mask)
        found = {}
        for col in ("api_key", "project"):
            g = _same_weekday_median(sub, [col], "spend_usd", day).with_columns(
                rise=pl.col("on_day") - pl.col("usual")).sort("rise", descending=True)
            found[f"driver_{col}"] = g[col][0] if g.height else None
            found[f"driver_{col}_excess_usd"] = float(g["rise"][0]) if g.height else None
        best, best_w = None, 0.0
        rises = {}
        for cls in TOKEN_CLASSES:
            g = _same_weekday_median(sub.with_columns(_all=pl.lit("all")), ["_all"], cls, day)
            rise = float(g["on_day"][0] - g["usual"][0]) if g.height else 0.0
            rises[cls] = rise
            if rise * _TOKEN_WEIGHT[cls] > best_w:
                best, best_w = cls, rise * _TOKEN_WEIGHT[cls]
        found["driver_token_class"] = best
        found["driver_token_class_excess_tokens"] = rises.get(best) if best else None
        extra.append(found)
    schema = {"driver_api_key": pl.String, "driver_api_key_excess_usd": pl.Float64, "driver_project": pl.String,
              "driver_project_excess_usd": pl.Float64, "driver_token_class": pl.String,
              "driver_token_class_excess_tokens": pl.Float64}
    return pl.concat([flags, pl.DataFrame(extra, schema=schema)], how="horizontal")


def daily_series(wh: Warehouse, team: str, model: str, start: dt.date | None = None,
                 end: dt.date | None = None) -> pl.DataFrame:
    """The chart behind one anomaly: per day, spend of one team x model with its expected value and the
    flag threshold. One row per day from the first day with a full baseline."""
    first, last = ledger_range(wh)
    if first is None:
        return pl.DataFrame(schema={"day": pl.Date, "spend_usd": pl.Float64, "expected_usd": pl.Float64,
                                    "threshold_usd": pl.Float64})
    end = min(end or last, last)
    read_from = max(first, (start or first) - dt.timedelta(days=LOOKBACK))
    frame = detail(wh, read_from, end).filter((pl.col("team") == team) & (pl.col("model") == model))
    n = (end - read_from).days + 1
    mat = np.zeros((n, 1))
    if frame.height:
        _, mat = _dense(frame.with_columns(_s=pl.lit("x")), ("_s",), "spend_usd", read_from, n)
    expected, scale = baseline(mat)
    days = [read_from + dt.timedelta(days=WINDOW + i) for i in range(expected.shape[0])]
    return pl.DataFrame({"day": days, "spend_usd": mat[WINDOW:, 0], "expected_usd": expected[:, 0],
                         "threshold_usd": expected[:, 0] + K * np.maximum(scale[:, 0], REL_FLOOR * expected[:, 0])},
                        schema={"day": pl.Date, "spend_usd": pl.Float64, "expected_usd": pl.Float64,
                                "threshold_usd": pl.Float64}).filter(pl.col("day") >= (start or first))
