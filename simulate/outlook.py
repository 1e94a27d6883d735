"""Outlook: a monthly projection over N months (default 18) of baseline vs scenario spend (docs/simulation.md
"Outlook").

    spend_baseline(t) = level × (1 + g)^t × D^(−t/12)
    spend_scenario(t) = spend_baseline(t) × (1 − a(t) × (1 − r))          t = 1 … N months after the history

- level: today's monthly run-rate of the baseline (mean daily baseline spend over the last 28 days of the
  replayed history × 30.4375 days per month).
- g, traffic growth per month: fitted log-linear on the history's monthly totals (each month's spend per
  covered day, so partial first/last months count fairly); its standard error gives the Monte Carlo spread.
  Or given as a (low, high) range. With fewer than 3 months of history and none given: 0. Fitted draws are
  clipped to ±20% a month; a fit with a standard error above 5%/month is flagged unreliable.
- D, catalog price decline per year at constant capability (a price factor: 10 = ten times cheaper a year).
  It applies to both series (the same models and their successors get cheaper whatever the routing).
  Sources (docs/research.md "Price decline at constant capability"): Epoch AI (Mar 12 2025): 9x–900x/yr by benchmark,
  median of its 21
  series 46x; a16z "LLMflation" (Nov 12 2024): ≈10x/yr; Gundlach et al., arXiv 2511.23455 (Nov 2025): 5x–10x/yr
  at frontier capability levels, ≈3x/yr hardware-adjusted algorithmic efficiency for open models, while the
  price of *running the frontier* rises 3x–18x/yr. Default range: low 1x (no decline — a team that keeps
  buying frontier models sees no decline, Gundlach), mode 3x (Gundlach, open models), high 10x (a16z).
- r: the scenario's spend ÷ the baseline's over the replayed period (simulate.run).
- a(t): adoption, a linear ramp from today's mix (0) to the scenario's (1) over M months: min(1, t / M);
  M = 0 is full adoption from the first month.

Monte Carlo: `draws` samples of (g, D, M) from a seeded numpy Generator (never the global RNG): g ~ Normal(fit,
standard error) or Uniform(low, high); D ~ Triangular(low, mode, high); M ~ integer Uniform(low, high). Bands
are the P10/P50/P90 of each month's spend over the draws. Same inputs and seed, same bands.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

if TYPE_CHECKING:
    from simulate.scenario import Scenario
    from warehouse.db import Warehouse

DAYS_PER_MONTH = 365.25 / 12
LEVEL_DAYS = 28
MIN_FIT_MONTHS = 3
GROWTH_CLIP = (-0.2, 0.2)       # fitted growth draws, per month
UNRELIABLE_SE = 0.05            # a fit whose standard error exceeds this (per month) is flagged unreliable

DECLINE_SOURCES = [
    {"figure": "1x/yr (no decline)", "source": "Gundlach et al., arXiv 2511.23455 (Nov 2025): the price of running "
     "frontier models rises 3x–18x/yr, so a frontier-only buyer sees no decline"},
    {"figure": "3x/yr", "source": "Gundlach et al. (Nov 2025): hardware-adjusted algorithmic efficiency, open models"},
    {"figure": "5x–10x/yr", "source": "Gundlach et al. (Nov 2025): price at frontier capability levels"},
    {"figure": "10x/yr", "source": "a16z, 'Welcome to LLMflation' (Nov 12 2024)"},
    {"figure": "46x/yr (9x–900x)", "source": "Epoch AI data insight (Mar 12 2025), median of 21 series"},
]


class Assumptions(BaseModel):
    """The outlook's inputs. Ranges drive the Monte Carlo; `low == high` pins a value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    months: int = Field(18, ge=1, le=120, description="projection horizon in months")
    growth: tuple[float, float] | None = Field(
        None, description="traffic growth per month as (low, high), e.g. (0.02, 0.05); None = fitted from history")
    decline: tuple[float, float, float] = Field(
        (1.0, 3.0, 10.0), description="catalog price decline factor per year (low, mode, high); 1 = none")
    adoption_months: tuple[int, int] = Field((6, 12), description="months to reach the scenario's mix (low, high)")
    draws: int = Field(2000, ge=1, le=100_000)
    seed: int = 0

    @model_validator(mode="after")
    def _ranges(self) -> Assumptions:
        lo, mode, hi = self.decline
        if not (1.0 <= lo <= mode <= hi):
            raise ValueError("decline: need 1 <= low <= mode <= high (a factor per year; 1 = no decline)")
        if self.growth is not None and not (-0.5 < self.growth[0] <= self.growth[1] < 2.0):
            raise ValueError("growth: need -0.5 < low <= high < 2 (per month)")
        if not (0 <= self.adoption_months[0] <= self.adoption_months[1]):
            raise ValueError("adoption_months: need 0 <= low <= high")
        return self


@dataclass
class Fit:
    monthly_growth: float
    std_error: float
    months_used: int
    fitted: bool

    @property
    def reliable(self) -> bool:
        return self.fitted and self.std_error <= UNRELIABLE_SE


@dataclass
class Outlook:
    frame: pl.DataFrame                 # month, series (baseline | scenario), p10, p50, p90
    history: pl.DataFrame               # month, days, baseline_usd, scenario_usd (actuals, per covered day × month)
    level_usd: float                    # today's monthly baseline run-rate
    ratio: float                        # scenario ÷ baseline over the replayed period
    fit: Fit
    totals: dict[str, dict[str, float]] = field(default_factory=dict)   # series -> P10/P50/P90 over the horizon
    assumptions: Assumptions | None = None

    def savings_total(self) -> dict[str, float]:
        return self.totals.get("savings", {})


def monthly_history(daily: pl.DataFrame) -> pl.DataFrame:
    """Per calendar month of the history: covered days, spend, and spend per covered day × days per month.
    `daily`: day, baseline_usd, scenario_usd (one row per day with usage)."""
    if daily.is_empty():
        return pl.DataFrame(schema={"month": pl.Date, "days": pl.Int64, "baseline_usd": pl.Float64,
                                    "scenario_usd": pl.Float64, "baseline_monthly_usd": pl.Float64})
    first, last = daily["day"].min(), daily["day"].max()
    out = (daily.with_columns(pl.col("day").dt.truncate("1mo").alias("month"))
           .group_by("month").agg(pl.col("baseline_usd").sum(), pl.col("scenario_usd").sum()).sort("month"))
    days = []
    for m in out["month"].to_list():
        end = m.replace(day=calendar.monthrange(m.year, m.month)[1])
        days.append((min(end, last) - max(m, first)).days + 1)
    return out.with_columns(pl.Series("days", days, dtype=pl.Int64)).with_columns(
        (pl.col("baseline_usd") / pl.col("days") * DAYS_PER_MONTH).alias("baseline_monthly_usd"))


def fit_growth(history: pl.DataFrame) -> Fit:
    """Log-linear least squares of the monthly run-rate on the month index; growth = e^slope − 1."""
    h = history.filter(pl.col("baseline_monthly_usd") > 0)
    n = h.height
    if n < MIN_FIT_MONTHS:
        return Fit(0.0, 0.0, n, False)
    months = h["month"].to_list()
    x = np.array([(m.year - months[0].year) * 12 + m.month - months[0].month for m in months], dtype=float)
    y = np.log(h["baseline_monthly_usd"].to_numpy())
    slope, intercept = np.polyfit(x, y, 1)
    resid = y - (slope * x + intercept)
    se = math.sqrt(float(resid @ resid) / (n - 2) / float(((x - x.mean()) ** 2).sum())) if n > 2 else 0.0
    return Fit(math.expm1(slope), se * math.exp(slope), n, True)


def _add_months(d: dt.date, k: int) -> dt.date:
    y, m = divmod(d.month - 1 + k, 12)
    return dt.date(d.year + y, m + 1, 1)


def project(daily: pl.DataFrame, a: Assumptions) -> Outlook:
    """The projection from a replayed daily history (day, baseline_usd, scenario_usd). Pure and seeded."""
    history = monthly_history(daily)
    fit = fit_growth(history)
    months = np.arange(1, a.months + 1, dtype=float)
    if daily.is_empty():
        level, ratio, start = 0.0, 1.0, dt.date.today().replace(day=1)
    else:
        last = daily["day"].max()
        recent = daily.filter(pl.col("day") > last - dt.timedelta(days=LEVEL_DAYS))
        level = float(recent["baseline_usd"].sum()) / LEVEL_DAYS * DAYS_PER_MONTH
        base_total = float(daily["baseline_usd"].sum())
        ratio = float(daily["scenario_usd"].sum()) / base_total if base_total else 1.0
        start = last.replace(day=1)
    rng = np.random.default_rng(a.seed)
    n = a.draws
    if a.growth is not None:
        g = rng.uniform(a.growth[0], a.growth[1], n) if a.growth[1] > a.growth[0] else np.full(n, a.growth[0])
    elif fit.fitted and fit.std_error > 0:
        # a noisy fit must not project +40%/month: draws stay within GROWTH_CLIP (the page warns when unreliable)
        g = np.clip(rng.normal(fit.monthly_growth, fit.std_error, n), *GROWTH_CLIP)
    else:
        g = np.full(n, fit.monthly_growth)
    lo, mode, hi = a.decline
    decline = rng.triangular(lo, mode, hi, n) if hi > lo else np.full(n, lo)
    m_lo, m_hi = a.adoption_months
    ramp = rng.integers(m_lo, m_hi + 1, n).astype(float)
    t = months[None, :]
    baseline = level * (1 + g[:, None]) ** t * decline[:, None] ** (-t / 12)
    with np.errstate(divide="ignore", invalid="ignore"):
        adoption = np.where(ramp[:, None] > 0, np.minimum(1.0, t / ramp[:, None]), 1.0)
    scenario = baseline * (1 - adoption * (1 - ratio))
    rows = []
    month_dates = [_add_months(start, int(k)) for k in months]
    for name, arr in (("baseline", baseline), ("scenario", scenario)):
        p10, p50, p90 = np.percentile(arr, [10, 50, 90], axis=0)
        rows.append(pl.DataFrame({"month": month_dates, "series": name, "p10": p10, "p50": p50, "p90": p90}))
    totals = {}
    for name, arr in (("baseline", baseline.sum(axis=1)), ("scenario", scenario.sum(axis=1)),
                      ("savings", (baseline - scenario).sum(axis=1))):
        p10, p50, p90 = np.percentile(arr, [10, 50, 90])
        totals[name] = {"p10": float(p10), "p50": float(p50), "p90": float(p90)}
    return Outlook(frame=pl.concat(rows), history=history, level_usd=level, ratio=ratio, fit=fit, totals=totals,
                   assumptions=a)


def daily_from_result(result: Any) -> pl.DataFrame:
    """day, baseline_usd, scenario_usd from a `simulate.Result`."""
    return (result.by("day").select("day", pl.col("baseline_cost_usd").alias("baseline_usd"),
                                    pl.col("scenario_cost_usd").alias("scenario_usd")).sort("day"))


def outlook(wh: Warehouse, scenario: Scenario, assumptions: Assumptions | None = None) -> Outlook:
    """Replay `scenario` once (its whole period) and project it (see the module docstring)."""
    from simulate.replay import run

    return project(daily_from_result(run(wh, scenario)), assumptions or Assumptions())


def assumption_table(o: Outlook) -> list[dict[str, Any]]:
    """What the projection assumed, for pages and reports."""
    a = o.assumptions or Assumptions()
    growth = (f"{a.growth[0]:+.1%} to {a.growth[1]:+.1%} per month (given)" if a.growth is not None else
              f"{o.fit.monthly_growth:+.1%} per month ± {o.fit.std_error:.1%} (fitted on {o.fit.months_used} months)"
              if o.fit.fitted else f"0% per month (only {o.fit.months_used} months of history; give a range)")
    return [
        {"assumption": "Monthly run-rate today", "value": f"${o.level_usd:,.2f} (last {LEVEL_DAYS} days)"},
        {"assumption": "Traffic growth", "value": growth},
        {"assumption": "Price decline per year", "value": f"{a.decline[0]:g}x / {a.decline[1]:g}x / {a.decline[2]:g}x "
                                                          "(low / mode / high)"},
        {"assumption": "Scenario ÷ baseline", "value": f"{o.ratio:.3f} (replayed period)"},
        {"assumption": "Adoption ramp", "value": f"{a.adoption_months[0]}–{a.adoption_months[1]} months"},
        {"assumption": "Monte Carlo", "value": f"{a.draws:,} draws, seed {a.seed}"},
    ]
