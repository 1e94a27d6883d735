"""Month-end and quarter-end spend forecasts per team, project, provider (or the total) from daily history.

Model (per series, all series of one grouping fitted at once with one least-squares solve):

    spend(day) = (a + b * t) * f[weekday(day)]          (weekday factors average 1)

fitted on the last `weeks` weeks of daily spend (`usage_daily.spend_usd`; days without usage count as $0)
up to the as-of day. With under 3 weeks of history the weekday terms are dropped, under 1 week the trend too
(the mean). Weekday factors come from a classical decomposition (each day over its centred 7-day mean,
the median ratio per weekday, scaled to average 1), then `a`, `b` by least squares on the deseasonalised
series; a slope under 2 standard errors is dropped (the key gets its deseasonalised mean), since noise
extrapolated over a month does more harm than a missed weak trend. Daily predictions are floored at $0. A line has factors 1 and is fitted exactly; a pure weekday
pattern has slope 0 and is reproduced exactly.

Band: a **seeded residual bootstrap**. The fit's relative residuals ((actual - fitted) / fitted) are resampled with replacement for every remaining
day (2,000 paths, numpy Generator with a fixed seed), applied to each day's forecast, floored at $0, summed over the rest of the
period; P10/P50/P90 of the period total are quantiles of (actual to date + path sum). It assumes independent
residuals; each path also draws the level and slope from the least-squares normal approximation
(s^2 (X'X)^-1), so the band widens with the horizon. It cannot foresee a break in the trend (a launch, a
runaway agent); the backtest reports how often the actual month fell inside the band.

Monthly lines: spend on lines of a month's grain (a Google Cloud cost table, a monthly CUR or FOCUS line) sits on
its month's first day. Fitted as days, a whole month on one day would raise the daily level, and the month-end
forecast would count that month a second time. So the fit reads the daily part only, and each month that starts
after the as-of day gets the key's latest month of monthly lines again (flat: the last month seen, if it is the
as-of month or the one before; a source that stopped adds nothing), on its first day, in the point and every path.

Backtest: for every whole month with at least 3 weeks of history before it, forecast the month as of the day
before it starts (the longest horizon) and compare with what happened: absolute % error of the month total,
MAPE of the daily values (days with spend only) and whether the actual total was inside the P10-P90 band.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np
import polars as pl

from finance.periods import add_months, default_as_of, ledger_range, period_bounds
from warehouse.db import Warehouse

By = Literal["team", "project", "provider", "total"]
# the grouping -> its named query (a closed mapping: no identifier ever comes from the caller)
_QUERIES = {"team": "finance_daily_spend_by_team", "project": "finance_daily_spend_by_project",
            "provider": "finance_daily_spend_by_provider", "total": "finance_daily_spend_by_provider"}
DEFAULT_WEEKS = 8
N_SIMS = 2000
SLOPE_T = 2.0  # keep a fitted trend only when |slope| >= SLOPE_T standard errors
SEED = 20260701
_EPOCH = dt.date(1970, 1, 5)  # a Monday: day numbers count from it, so weekday = day_number % 7


@dataclass
class History:
    """Daily spend as a dense matrix: `values[i, j]` = spend of `keys[j]` on `start + i` days."""

    start: dt.date
    keys: list[str]
    values: np.ndarray  # (n_days, n_keys)
    known_from: int = 0  # index of the ledger's first day: days before it are unknown, not $0, and never fitted
    monthly: np.ndarray | None = None  # (n_days, n_keys): the part of `values` on month-grain lines (or none)

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.values.shape[0] - 1)

    def index(self, day: dt.date) -> int:
        return (day - self.start).days


def history(wh: Warehouse, by: By = "team", start: dt.date | None = None,
            end: dt.date | None = None) -> History:
    """Dense daily spend per key from `start` (default: the ledger's first day) to `end` (its last day)."""
    if by not in _QUERIES:
        raise ValueError(f"unknown grouping {by!r}; known: {', '.join(_QUERIES)}")
    first, last = ledger_range(wh)
    start = start or first
    end = end or last
    if start is None or end is None or end < start:
        return History(start or dt.date.today(), [], np.zeros((0, 0)))
    frame = wh.query(_QUERIES[by], start=start, end=end)
    if by == "total":
        frame = (frame.group_by("day").agg(pl.col("spend_usd").sum(), pl.col("monthly_usd").sum())
                 .with_columns(key=pl.lit("total")))
    hist = _dense(frame, start, end)
    hist.known_from = max((first - start).days, 0) if first else 0
    return hist


def _dense(frame: pl.DataFrame, start: dt.date, end: dt.date) -> History:
    n = (end - start).days + 1
    keys = sorted(frame["key"].fill_null("(none)").unique().to_list()) if frame.height else []
    values = np.zeros((n, len(keys)))
    monthly = np.zeros((n, len(keys))) if "monthly_usd" in frame.columns else None
    if keys:
        col = {k: j for j, k in enumerate(keys)}
        rows = np.array([(d - start).days for d in frame["day"].to_list()])
        cols = np.array([col[k] for k in frame["key"].fill_null("(none)").to_list()])
        np.add.at(values, (rows, cols), frame["spend_usd"].fill_null(0).to_numpy())
        if monthly is not None:
            np.add.at(monthly, (rows, cols), frame["monthly_usd"].fill_null(0).to_numpy())
    return History(start, keys, values, monthly=monthly)


def history_from_frame(frame: pl.DataFrame, start: dt.date, end: dt.date) -> History:
    """A History from a frame of `day`, `key`, `spend_usd` (for callers that already hold the spend)."""
    return _dense(frame, start, end)


# --- the model ---------------------------------------------------------------------------------------------
@dataclass
class Fit:
    kind: str              # trend+weekday | trend | mean
    t0: int                # day number of the first fitted day (t = 0)
    beta: np.ndarray       # (2, n_keys): level and slope of the deseasonalised series
    factors: np.ndarray    # (7, n_keys): weekday factors (mean 1), indexed by day_number % 7
    rel_residuals: np.ndarray  # (n_fit, n_keys): (actual - fitted) / fitted, 0 where fitted is 0
    fitted: np.ndarray     # (n_fit, n_keys)
    beta_cov: np.ndarray = None    # (2, 2, n_keys): covariance of (a, b) from the least-squares fit

    def predict_raw(self, day_numbers: np.ndarray) -> np.ndarray:
        t = (day_numbers - self.t0).astype(float)
        trend = self.beta[0][None, :] + t[:, None] * self.beta[1][None, :]
        return trend * self.factors[day_numbers % 7]

    def predict(self, day_numbers: np.ndarray) -> np.ndarray:
        return np.maximum(self.predict_raw(day_numbers), 0.0)


def _weekday_factors(y: np.ndarray, day_numbers: np.ndarray) -> np.ndarray:
    """Classical decomposition: each day / its centred 7-day mean; the median ratio per weekday, scaled to mean 1."""
    n, k = y.shape
    csum = np.vstack([np.zeros((1, k)), np.cumsum(y, axis=0)])
    centre = np.arange(3, n - 3)
    ma = (csum[centre + 4] - csum[centre - 3]) / 7.0
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(ma > 0, y[centre] / ma, np.nan)
    wd = day_numbers[centre] % 7
    factors = np.ones((7, k))
    for w in range(7):
        sel = ratio[wd == w]
        if sel.shape[0]:
            # a key with no spend in the window has an all-NaN column: zeros for the median, then NaN (factor 1);
            # not catch_warnings, which is process-wide and leaks from the dashboard's script threads
            empty = np.isnan(sel).all(axis=0)
            med = np.nanmedian(np.where(empty[None, :], 0.0, sel), axis=0)
            med[empty] = np.nan
            factors[w] = np.where(np.isfinite(med), med, 1.0)
    mean = factors.mean(axis=0)
    return factors / np.where(mean > 0, mean, 1.0)


def fit(values: np.ndarray, first_day_number: int, weeks: int = DEFAULT_WEEKS) -> Fit:
    """Trend x weekday factors on the last `weeks` weeks of `values` (n_days x n_keys), all keys at once."""
    k = values.shape[1]
    n = min(values.shape[0], 7 * weeks)
    y = values[values.shape[0] - n:]
    days = np.arange(values.shape[0] - n, values.shape[0]) + first_day_number
    kind = "trend+weekday" if n >= 21 else "trend" if n >= 7 else "mean"
    if n == 0:
        z = np.zeros((0, k))
        return Fit("mean", first_day_number, np.zeros((2, k)), np.ones((7, k)), z, z)
    factors = _weekday_factors(y, days) if kind == "trend+weekday" else np.ones((7, k))
    deseason = y / np.where(factors[days % 7] > 0, factors[days % 7], 1.0)
    t = (days - days[0]).astype(float)
    x = np.column_stack([np.ones(n), t]) if kind != "mean" else np.ones((n, 1))
    beta, *_ = np.linalg.lstsq(x, deseason, rcond=None)
    # parameter uncertainty: s^2 (X'X)^-1 per key (one X for all keys)
    dof = max(n - x.shape[1], 1)
    s2 = ((deseason - x @ beta) ** 2).sum(axis=0) / dof
    xtx_inv = np.linalg.pinv(x.T @ x)
    if kind == "mean":
        beta = np.vstack([beta, np.zeros((1, k))])
        xtx_inv = np.array([[xtx_inv[0, 0], 0.0], [0.0, 0.0]])
    cov = xtx_inv[:, :, None] * s2[None, None, :]
    if kind != "mean":
        # a slope that is not clearly there (|b| < 2 standard errors) is noise that a month-long horizon would
        # amplify: such keys get the level model (mean of the deseasonalised window) instead
        flat = np.abs(beta[1]) < SLOPE_T * np.sqrt(cov[1, 1])
        if flat.any():
            mean = deseason.mean(axis=0)
            s2_flat = ((deseason - mean) ** 2).sum(axis=0) / max(n - 1, 1)
            beta = np.where(flat[None, :], np.vstack([mean, np.zeros(k)]), beta)
            cov_flat = np.zeros((2, 2, k))
            cov_flat[0, 0] = s2_flat / n
            cov = np.where(flat[None, None, :], cov_flat, cov)
    f = Fit(kind, int(days[0]), beta, factors, np.zeros((n, k)), np.zeros((n, k)), cov)
    f.fitted = f.predict_raw(days)
    with np.errstate(divide="ignore", invalid="ignore"):
        f.rel_residuals = np.where(f.fitted > 0, (y - f.fitted) / f.fitted, 0.0)
    return f


def _day_number(d: dt.date) -> int:
    return (d - _EPOCH).days


@dataclass
class Projection:
    """Point and bootstrap paths for the days after the as-of day up to `until`."""

    days: list[dt.date]
    point: np.ndarray   # (h, n_keys)
    paths: np.ndarray   # (n_sims, h, n_keys): simulated daily spend, floored at 0
    fit: Fit


def project(hist: History, as_of: dt.date, until: dt.date, weeks: int = DEFAULT_WEEKS,
            seed: int = SEED, n_sims: int = N_SIMS) -> Projection:
    """Fit on history up to `as_of` and project every day after it up to `until` (inclusive)."""
    k0 = min(hist.known_from, hist.index(as_of) + 1)
    upto = hist.values[k0: hist.index(as_of) + 1]
    monthly = None if hist.monthly is None else hist.monthly[k0: hist.index(as_of) + 1]
    f = fit(upto if monthly is None else upto - monthly, _day_number(hist.start) + k0, weeks)
    h = max((until - as_of).days, 0)
    days = [as_of + dt.timedelta(days=i + 1) for i in range(h)]
    nums = np.array([_day_number(d) for d in days], dtype=int)
    k = upto.shape[1]
    point = f.predict(nums) if h else np.zeros((0, k))
    ahead = _monthly_ahead(hist, k0, as_of, days)
    point = point + ahead
    rng = np.random.default_rng(seed)
    if h and f.rel_residuals.shape[0]:
        # relative residuals: a weekend's error scales with the weekend's level, not the weekday's
        idx = rng.integers(0, f.rel_residuals.shape[0], size=(n_sims, h))
        # and the fitted level and slope drawn from their normal approximation, so the band widens with the
        # horizon when the trend is uncertain
        z = rng.standard_normal((n_sims, 2, k))
        c = f.beta_cov  # 2x2 Cholesky per key, written out so a zero variance stays exactly zero
        l00 = np.sqrt(np.maximum(c[0, 0], 0.0))
        l10 = np.divide(c[1, 0], l00, out=np.zeros(k), where=l00 > 0)
        l11 = np.sqrt(np.maximum(c[1, 1] - l10 ** 2, 0.0))
        d_beta = np.stack([l00 * z[:, 0], l10 * z[:, 0] + l11 * z[:, 1]], axis=1)  # (n_sims, 2, k)
        t = (nums - f.t0).astype(float)
        d_trend = d_beta[:, 0, None, :] + t[None, :, None] * d_beta[:, 1, None, :]
        mean_path = np.maximum(f.predict_raw(nums)[None] + d_trend * f.factors[nums % 7][None], 0.0)
        paths = np.maximum(mean_path * (1.0 + f.rel_residuals[idx]), 0.0) + ahead[None]
    else:
        paths = np.broadcast_to(point, (1, h, k)).copy()
    return Projection(days, point, paths, f)


def _monthly_ahead(hist: History, k0: int, as_of: dt.date, days: list[dt.date]) -> np.ndarray:
    """(len(days), n_keys): each key's latest month of month-grain lines again on the first day of every month
    that starts after `as_of` (see the module doc); zeros when the history has none."""
    out = np.zeros((len(days), len(hist.keys)))
    if hist.monthly is None or not days:
        return out
    recent = max(hist.index(add_months(period_bounds(as_of, "month")[0], -1)), k0, 0)
    seen = hist.monthly[recent: hist.index(as_of) + 1]
    if not seen.any():
        return out
    month_starts = [hist.start + dt.timedelta(days=recent + i) for i in range(seen.shape[0])]
    months = np.array([d.year * 12 + d.month for d in month_starts])[:, None]
    # per key: the sum of its monthly lines in the latest month where that key has any
    last = np.where(seen != 0, months, -1).max(axis=0)
    level = np.where(months == last[None, :], seen, 0.0).sum(axis=0)
    firsts = np.array([d.day == 1 for d in days])
    out[firsts] = level
    return out


# --- services --------------------------------------------------------------------------------------------
_FORECAST_SCHEMA = {"key": pl.String, "period": pl.String, "period_start": pl.Date, "period_end": pl.Date,
                    "as_of": pl.Date, "actual_to_date_usd": pl.Float64, "forecast_rest_usd": pl.Float64,
                    "forecast_total_usd": pl.Float64, "p10_total_usd": pl.Float64, "p90_total_usd": pl.Float64,
                    "days_elapsed": pl.Int64, "days_in_period": pl.Int64, "method": pl.String,
                    "last_spend_day": pl.Date}


def forecast(wh: Warehouse, by: By = "team", as_of: dt.date | None = None, weeks: int = DEFAULT_WEEKS,
             periods: tuple[str, ...] = ("month", "quarter"), seed: int = SEED) -> pl.DataFrame:
    """Month-end and quarter-end spend per key: actual to date + projected rest, with a P10-P90 band.

    One row per key x period. `as_of` defaults to the ledger's last day with usage."""
    as_of = as_of or default_as_of(wh)
    if as_of is None:
        return pl.DataFrame(schema=_FORECAST_SCHEMA)
    ends = {p: period_bounds(as_of, p) for p in periods}
    hist = history(wh, by, end=as_of)
    if not hist.keys:
        return pl.DataFrame(schema=_FORECAST_SCHEMA)
    return forecast_history(hist, as_of, weeks, periods, seed, ends)


def forecast_history(hist: History, as_of: dt.date, weeks: int = DEFAULT_WEEKS,
                     periods: tuple[str, ...] = ("month", "quarter"), seed: int = SEED,
                     ends: dict | None = None) -> pl.DataFrame:
    ends = ends or {p: period_bounds(as_of, p) for p in periods}
    longest = max(e for _, e in ends.values())
    proj = project(hist, as_of, longest, weeks, seed)
    rows = []
    upto = hist.index(as_of)
    # the last day with spend per key: a key whose sources end before `as_of` reads the days after as $0 (the
    # page marks its forecast as driven by that gap)
    has = hist.values[: upto + 1] != 0
    last_idx = np.where(has.any(axis=0), upto - np.argmax(has[::-1], axis=0), -1)
    last_day = [hist.start + dt.timedelta(days=int(i)) if i >= 0 else None for i in last_idx]
    for p, (start, end) in ends.items():
        i0 = max(hist.index(start), 0)
        actual = hist.values[i0: upto + 1].sum(axis=0)
        h = (end - as_of).days
        rest_point = proj.point[:h].sum(axis=0)
        rest_paths = proj.paths[:, :h, :].sum(axis=1)
        q10, q50, q90 = np.quantile(rest_paths, [0.1, 0.5, 0.9], axis=0) if h else (np.zeros_like(actual),) * 3
        for j, key in enumerate(hist.keys):
            rows.append({
                "key": key, "period": p, "period_start": start, "period_end": end, "as_of": as_of,
                "actual_to_date_usd": float(actual[j]), "forecast_rest_usd": float(rest_point[j]),
                "forecast_total_usd": float(actual[j] + rest_point[j]),
                "p10_total_usd": float(actual[j] + q10[j]), "p90_total_usd": float(actual[j] + q90[j]),
                "days_elapsed": (as_of - start).days + 1, "days_in_period": (end - start).days + 1,
                "method": proj.fit.kind, "last_spend_day": last_day[j],
            })
    return pl.DataFrame(rows, schema=_FORECAST_SCHEMA).sort("period", "key")


def daily(wh: Warehouse, by: By = "team", as_of: dt.date | None = None, until: dt.date | None = None,
          weeks: int = DEFAULT_WEEKS, seed: int = SEED) -> pl.DataFrame:
    """The chart series: per key and day, actual spend up to `as_of`, then the forecast with its daily P10/P90.

    `until` defaults to the end of the quarter holding `as_of`. One row per key x day."""
    as_of = as_of or default_as_of(wh)
    schema = {"key": pl.String, "day": pl.Date, "actual_usd": pl.Float64, "forecast_usd": pl.Float64,
              "p10_usd": pl.Float64, "p90_usd": pl.Float64}
    if as_of is None:
        return pl.DataFrame(schema=schema)
    until = until or period_bounds(as_of, "quarter")[1]
    hist = history(wh, by, end=as_of)
    if not hist.keys:
        return pl.DataFrame(schema=schema)
    proj = project(hist, as_of, until, weeks, seed)
    n_hist = hist.values.shape[0]
    past_days = [hist.start + dt.timedelta(days=i) for i in range(n_hist)]
    q10, q90 = (np.quantile(proj.paths, [0.1, 0.9], axis=0) if proj.days else (np.zeros((0, len(hist.keys))),) * 2)
    frames = []
    for j, key in enumerate(hist.keys):
        frames.append(pl.DataFrame({
            "key": key, "day": past_days + proj.days,
            "actual_usd": list(hist.values[:, j]) + [None] * len(proj.days),
            "forecast_usd": [None] * n_hist + list(proj.point[:, j]),
            "p10_usd": [None] * n_hist + list(q10[:, j]),
            "p90_usd": [None] * n_hist + list(q90[:, j]),
        }, schema=schema))
    return pl.concat(frames)


def backtest_history(hist: History, weeks: int = DEFAULT_WEEKS, min_days: int = 21,
                     seed: int = SEED) -> pl.DataFrame:
    """Per key and whole month: the forecast made the day before the month began vs the actual month."""
    schema = {"key": pl.String, "month": pl.Date, "actual_usd": pl.Float64, "forecast_usd": pl.Float64,
              "p10_usd": pl.Float64, "p90_usd": pl.Float64, "ape_total_pct": pl.Float64,
              "mape_daily_pct": pl.Float64, "inside_band": pl.Boolean}
    rows = []
    month = add_months(hist.start, 1) if hist.start.day != 1 else hist.start
    while True:
        m_start, m_end = period_bounds(month, "month")
        if m_end > hist.end:
            break
        as_of = m_start - dt.timedelta(days=1)
        if hist.index(as_of) + 1 >= min_days:
            proj = project(hist, as_of, m_end, weeks, seed)
            actual_daily = hist.values[hist.index(m_start): hist.index(m_end) + 1]
            actual = actual_daily.sum(axis=0)
            point = proj.point.sum(axis=0)
            q10, q90 = np.quantile(proj.paths.sum(axis=1), [0.1, 0.9], axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                ape_daily = np.where(actual_daily > 0, np.abs(proj.point - actual_daily) / actual_daily, np.nan)
            for j, key in enumerate(hist.keys):
                if actual[j] <= 0:
                    continue
                col = ape_daily[:, j]
                rows.append({
                    "key": key, "month": m_start, "actual_usd": float(actual[j]), "forecast_usd": float(point[j]),
                    "p10_usd": float(q10[j]), "p90_usd": float(q90[j]),
                    "ape_total_pct": float(100 * abs(point[j] - actual[j]) / actual[j]),
                    "mape_daily_pct": float(100 * np.nanmean(col)) if np.isfinite(col).any() else None,
                    "inside_band": bool(q10[j] <= actual[j] <= q90[j]),
                })
        month = add_months(month, 1)
    return pl.DataFrame(rows, schema=schema)


def backtest(wh: Warehouse, by: By = "total", weeks: int = DEFAULT_WEEKS, seed: int = SEED) -> pl.DataFrame:
    """The backtest over the ledger's whole history (see the module doc). One row per key x whole month."""
    hist = history(wh, by)
    if not hist.keys:
        return backtest_history(History(dt.date(2000, 1, 1), [], np.zeros((0, 0))))
    return backtest_history(hist, weeks, seed=seed)
