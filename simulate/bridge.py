"""The bridge from spend to a replay's baseline (docs/finance.md "One spend").

Spend is the ledger's one definition (`usage_daily.spend_usd`: per provider and day the source that bills,
billed where it reports a cost, else list). The replay reads, per provider and day, the most detailed source
(a request-level gateway log before a daily bill), so its baseline can differ from spend; the bridge says by how
much and why, from SQL (sql/queries/bridge_spend_replay.sql, and for a scoped scenario
sql/simulate/replay_out_of_scope.sql):

    replay baseline = spend
                    - spend of the provider-days the replay reads from another source
                    + what that source says those days cost
                    - what the scenario's scope leaves out

Every figure is its own exact sum rounded to the cent, and `rounding_usd` is what the rounded terms miss (a cent
or two, usually 0), so the displayed bridge adds up exactly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sql

if TYPE_CHECKING:
    from simulate.scenario import Scenario
    from warehouse.db import Warehouse

_FIRST = dt.date(1900, 1, 1)
_LAST = dt.date(9999, 12, 31)


@dataclass(frozen=True)
class SpendBridge:
    """Spend over a replay's period and the terms that lead from it to the replay's baseline (USD, cents)."""

    first_day: dt.date | None          # the period's first and last day with usage (None: no usage)
    last_day: dt.date | None
    spend_usd: float
    replaced_usd: float                # spend of provider-days the replay reads from another source
    replay_source_usd: float           # what that other source says those days cost
    outside_scope_usd: float           # the scenario's scope leaves it out (0 without a scope)
    replay_baseline_usd: float
    rounding_usd: float                # the rounded terms' shortfall, so the bridge adds up to the cent
    replaced_provider_days: int
    replay_sources: str | None         # the formats the replay reads instead of the bill, e.g. litellm-spend-logs

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["first_day"] = self.first_day.isoformat() if self.first_day else None
        out["last_day"] = self.last_day.isoformat() if self.last_day else None
        return out

    def lines(self) -> list[str]:
        """The bridge as plain text, one term a line (what `modelmix simulate` and `outlook` print)."""
        def money(x: float) -> str:
            return f"{'-' if x < 0 else ''}${abs(x):,.2f}"

        out = [f"  spend                      {money(self.spend_usd):>14}   the bill where a billing source covers the "
               "provider and day, else the logged or list cost"]
        if self.replaced_provider_days:
            out += [f"  - billed on replayed days  {money(self.replaced_usd):>14}   {self.replaced_provider_days:,} "
                    f"provider-days the replay reads from {self.replay_sources} instead of the bill",
                    f"  + logged on those days     {money(self.replay_source_usd):>14}   what {self.replay_sources} "
                    "recorded for them (only the traffic it sees)"]
        if self.outside_scope_usd:
            out.append(f"  - outside the scope        {money(self.outside_scope_usd):>14}   usage the scenario's scope "
                       "leaves out")
        if self.rounding_usd:
            out.append(f"  + rounding                 {money(self.rounding_usd):>14}")
        out.append(f"  = replay baseline          {money(self.replay_baseline_usd):>14}")
        return out


def _cents(x: Any) -> float:
    return round(float(x or 0), 2)


def spend_bridge(wh: Warehouse, scenario: Scenario) -> SpendBridge:
    """Spend over `scenario`'s period (the whole ledger when open) and its bridge to the replay's baseline."""
    period = scenario.period
    start, end = period.start or _FIRST, period.end or _LAST
    row = wh.query("bridge_spend_replay", start=start, end=end).row(0, named=True)
    outside = Decimal(0)
    scope, params = scenario.scope.sql("scope")
    if scope != "true":
        text = sql.load("simulate/replay_out_of_scope").replace("/*scope*/", f"({scope})")
        end_excl = (dt.datetime.combine(end, dt.time()) + dt.timedelta(days=1) if period.end
                    else dt.datetime.combine(_LAST, dt.time()))
        params.update(start=dt.datetime.combine(start, dt.time()), end_excl=end_excl)
        outside = Decimal(wh.sql(text, **params)["outside_scope_usd"][0] or 0)
    cent = Decimal("0.01")
    baseline = (Decimal(row["replay_baseline_exact_usd"] or 0) - outside).quantize(cent)
    outside = outside.quantize(cent)
    # without a scope this is the query's own rounding_usd; with one, the scope's term is rounded too
    rounding = baseline - (row["spend_usd"] - row["replaced_usd"] + row["replay_source_usd"] - outside)
    return SpendBridge(
        first_day=row["first_day"], last_day=row["last_day"],
        spend_usd=_cents(row["spend_usd"]), replaced_usd=_cents(row["replaced_usd"]),
        replay_source_usd=_cents(row["replay_source_usd"]), outside_scope_usd=_cents(outside),
        replay_baseline_usd=_cents(baseline), rounding_usd=_cents(rounding),
        replaced_provider_days=int(row["replaced_provider_days"] or 0), replay_sources=row["replay_sources"],
    )
