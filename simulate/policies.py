"""Policy kinds: a small interface and a registry. Adding a kind means adding one class here with `@register`.

A policy claims a fraction `f` of each eligible row part that earlier policies left (see docs/simulation.md,
"Composition") and says what the claimed part costs. Everything about a kind lives on its class: its SQL
fragments (fixed text naming its own bound parameters `$p{i}_…` and allow-listed columns), its claim in numpy
for the slider tables (`claim_rows`, the same rule as its SQL), its slider fields and labels (`knobs`,
`describe`). The plan (simulate/plan.py) reads them once for both the SQL replay (simulate/replay.py) and the
numpy slider engine (simulate/frontier.py); neither asks which kind a policy is.

Columns a fragment may use: the canonical token/cost columns of `scoped` (sql/simulate/replay.sql), `base_cost`
(billed, else list), `list_cost`, `rem_{i}` (fraction still unclaimed before this policy), `tp{i}_in|_out|_cr|_cw`
(this policy's target prices at the row's ts, when `priced_target()` is not None), and `r_in`, `r_cr` (the row's
own catalog input and cache-read prices, when `needs_row_rates`); a ranked policy's `took_{i}` (this request row is
among the first floor(share × N) of its eligible ones; see simulate/replay.py); with sessions read (`unit:
session`, or cache loss on a switch) `session_id` and `unit_key` (the conversation: hash(session_id), else the
row's own hash: a row without a session id is its own unit), and a session-unit policy's `u{i}_tokens`,
`u{i}_ts`, `u{i}_score` (its unit's total tokens, first time and highest router score over the unit's eligible
request rows).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Union

import numpy as np
from pydantic import Field

from simulate.spec import Match, Strict, Target

REGISTRY: dict[str, type[Policy]] = {}


def register(cls: type[Policy]) -> type[Policy]:
    REGISTRY[cls.model_fields["kind"].default] = cls
    return cls


@dataclass(frozen=True)
class Knob:
    """One value of a policy a person can slide: its field, a label that names the value, bounds and step."""

    field: str
    label: str
    value: float
    lo: float = 0.0
    hi: float = 1.0
    step: float = 0.01
    percent: bool = True      # shown as a percentage (0–100 %)


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%" if abs(100 * x - round(100 * x)) < 1e-9 else f"{100 * x:.1f}%"


class Policy(Strict):
    kind: str
    name: str | None = Field(None, description="label in results (default: the kind and its position)")
    match: Match = Field(default_factory=Match, description="which rows are eligible")

    needs_router_scores: ClassVar[bool] = False   # its order reads `r_score` (pick: score)
    lever: ClassVar[str]                 # savings are split by lever
    ranked: ClassVar[bool] = False       # claims floor(share × N) ranked request rows (see `order_sql`)
    needs_row_rates: ClassVar[bool] = False
    rate_field: ClassVar[str | None] = None   # its own rate the cost is linear in (a slider), if any
    escalates: ClassVar[bool] = False    # quality: (1 − rate) × target + rate × source (a cascade)
    sweep_rank: ClassVar[int] = 99       # which unranked policy the frontier is drawn for: the lowest first

    # --- the interface ----------------------------------------------------------------------------------------
    def eligible_sql(self) -> str:
        """Extra eligibility beyond `match` (a fixed fragment)."""
        return "true"

    def params(self, p: str, ctx: dict[str, Any]) -> dict[str, Any]:
        """Bound values, each named `{p}_…`."""
        return {}

    def claim_sql(self, p: str, i: int) -> str:
        """Fraction of the row claimed, given `e_{i}` (eligible and unclaimed) and `rem_{i}`."""
        return f"case when e_{i} then rem_{i} else 0.0 end"

    def cost_sql(self, p: str, i: int) -> str:
        """Cost of the whole row under this policy (the replay multiplies it by the claimed fraction)."""
        raise NotImplementedError

    def target(self) -> Target | None:
        """Where its claimed parts go (None: they stay on their own model)."""
        return None

    def priced_target(self) -> Target | None:
        """The target whose token prices the replay must join as `tp{i}` (None: no join needed)."""
        target = self.target()
        return None if target is None or target.price_ratio is not None else target

    def target_label(self) -> str | None:
        """Result label of the target model; None = the row's own model (batch, cache)."""
        return None

    def escalation_sql(self, p: str) -> str:
        return "0.0"

    def quality_ratio(self) -> float | None:
        return None

    by_session: ClassVar[bool] = False   # a ranked kind with `unit: session` moves whole conversations

    def unit_sql(self, i: int, eligible: str) -> list[str]:
        """Per-row columns its session-unit order keys read (none unless `unit: session`)."""
        return []

    def switch_sql(self, p: str, i: int) -> tuple[str, str] | None:
        """Cache lost on a switch (docs/simulation.md "Cache lost on a switch"): per row, what its cache-read tokens
        cost more at the target than at the target's cache-read price when they are (input price, the cache is
        lost) and when they are written (cache-write price: the first moved request of a conversation). None: its
        claimed parts stay on their model (batch, cache) or are not priced by tokens (a price ratio)."""
        target = self.target()
        if target is None or target.price_ratio is not None:
            return None
        inm = f"${p}_inmult" if target.input_multiplier is not None else "$input_multiplier"
        return (f"cache_read_tokens * (tp{i}_in - tp{i}_cr) * {inm} / 1000000.0",
                f"cache_read_tokens * (tp{i}_cw - tp{i}_cr) * {inm} / 1000000.0")

    # --- rate, slider tables and labels -------------------------------------------------------------------------
    def rate(self, ctx: dict[str, Any]) -> float:
        """The value of `rate_field` (0 when the kind has none)."""
        return 0.0

    def rate_param(self, p: str) -> str | None:
        """The bound parameter of its rate in `cost_sql` (the prepare splits the cost into coefficients on it)."""
        return None

    @property
    def sweep_field(self) -> str | None:
        """The value the frontier sweeps for this policy: its share when ranked, else its rate."""
        return "share" if self.ranked else self.rate_field

    def claim_rows(self, elig: np.ndarray, rem: np.ndarray, is_req: np.ndarray, order: np.ndarray | None,
                   share: float | None) -> np.ndarray:
        """The numpy twin of `claim_sql`: the fraction of each row claimed, given the rows still eligible and
        unclaimed (`elig`), their remainders, which rows are requests, the static pick order of the eligible
        request rows (ranked kinds) and the share."""
        f = np.zeros(rem.shape[0])
        f[elig] = rem[elig]
        return f

    def knobs(self, ctx: dict[str, Any]) -> list[Knob]:
        """The values a person can slide, each labelled in words that carry its current value (a label must
        follow its slider: "the simplest 25% …", never a fixed "80%")."""
        return []

    def describe(self, ctx: dict[str, Any]) -> str:
        """What the policy does, in plain words, with its current values (labels follow the sliders)."""
        return self.kind

    def default_name(self) -> str:
        """The label in results when the file gives no `name`: plain words, no values (those move)."""
        return self.kind


def _models(match: Match) -> str:
    """The requests a match names, in words: `requests on gpt-4o, o1 in workloads batch, eval`."""

    def few(items: list[str]) -> str:
        return ", ".join(items[:3]) + (f" and {len(items) - 3} more" if len(items) > 3 else "")

    out = "requests"
    if match.models:
        out += f" on {few(match.models)}"
    if match.workloads:
        out += f" in workloads {few(match.workloads)}"
    return out


def seed_mix(seed: int) -> int:
    """A 64-bit value of the seed with every bit depending on it (BLAKE2b), for `pick: random`."""
    return int.from_bytes(hashlib.blake2b(f"modelmix-pick|{seed}".encode(), digest_size=8).digest(), "little")


def _target_cost(target: Target, p: str, i: int) -> str:
    if target.price_ratio is not None:
        return f"base_cost * ${p}_ratio"
    inm = f"${p}_inmult" if target.input_multiplier is not None else "$input_multiplier"
    return (f"((input_tokens * tp{i}_in + cache_read_tokens * tp{i}_cr + cache_write_tokens * tp{i}_cw) * {inm}"
            f" + output_tokens * $output_multiplier * tp{i}_out) / 1000000.0")


def _target_params(target: Target, p: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if target.price_ratio is not None:
        out[f"{p}_ratio"] = target.price_ratio
    if target.input_multiplier is not None:
        out[f"{p}_inmult"] = target.input_multiplier
    return out


class _Ranked(Policy):
    """Moves floor(share × N) of the N eligible request rows, ranked by `pick`; aggregated rows split by share."""

    share: float = Field(ge=0, le=1, description="share of eligible requests moved, 0–1")
    pick: Literal["simplest", "random", "score"] = "simplest"
    seed: int = Field(0, description="seed of `pick: random`")
    unit: Literal["request", "session"] = Field(
        "request", description="what moves together: a request, or a whole conversation (`session`: the source's "
        "session, trace or conversation id; a row without one is its own unit)")
    ranked: ClassVar[bool] = True

    @property
    def by_session(self) -> bool:
        return self.unit == "session"

    def order_keys(self, p: str) -> list[str]:
        """The picking order, most significant first (ties are broken further by the replay's row id).
        `random`: a hash of (row identity, seed) — the row's hash XOR a 64-bit mix of the seed, through DuckDB's
        murmur finaliser — so each seed is an independent permutation (`hash(row_hash, seed)` combined the two
        hashes by XOR alone: every seed's order was row_hash's with bits flipped, and seeds' halves shared
        ~95% of their rows)."""
        if self.by_session:
            # whole conversations (`unit_key`): ranked by their eligible request rows' total tokens, first time;
            # a router's highest score over them (a conversation moves when every request of it looks safe);
            # random by a hash of (unit, seed); every key ends with the unit, so a unit's rows are contiguous
            i = p[1:]
            if self.pick == "simplest":
                return [f"u{i}_tokens", f"u{i}_ts", "unit_key"]
            if self.pick == "score":
                return [f"coalesce(u{i}_score, cast('infinity' as double))", "unit_key"]
            return [f"hash(xor(unit_key, cast(${p}_seedmix as ubigint)))", "unit_key"]
        if self.pick == "simplest":
            return ["total_tokens", "ts", "row_hash"]
        if self.pick == "score":
            # a router's score per request (assumptions.router_scores): the lowest first; requests it did not
            # score after every scored one
            return ["coalesce(r_score, cast('infinity' as double))", "row_hash"]
        return [f"hash(xor(row_hash, cast(${p}_seedmix as ubigint)))", "row_hash"]

    def unit_sql(self, i: int, eligible: str) -> list[str]:
        """A session-unit policy's per-row unit columns (window sums over the row's conversation of its eligible,
        priced request rows; static: they do not depend on earlier policies' claims)."""
        if not self.by_session:
            return []
        e = f"({eligible}) and granularity = 'request' and not unpriced"
        w = "over (partition by unit_key)"
        if self.pick == "simplest":
            return [f"sum(case when {e} then total_tokens end) {w} as u{i}_tokens",
                    f"min(case when {e} then ts end) {w} as u{i}_ts"]
        if self.pick == "score":
            return [f"max(case when {e} then coalesce(r_score, cast('infinity' as double)) end) {w} as u{i}_score"]
        return []

    @property
    def needs_router_scores(self) -> bool:
        return self.pick == "score"

    def order_sql(self, p: str) -> str:
        return ", ".join(self.order_keys(p))

    def params(self, p: str, ctx: dict[str, Any]) -> dict[str, Any]:
        return {f"{p}_share": self.share, f"{p}_seed": self.seed, f"{p}_seedmix": seed_mix(self.seed)}

    def claim_sql(self, p: str, i: int) -> str:
        return (f"case when not e_{i} then 0.0 "
                f"when granularity = 'request' then "
                f"(case when took_{i} then rem_{i} else 0.0 end) "
                f"else ${p}_share * rem_{i} end")

    def claim_rows(self, elig: np.ndarray, rem: np.ndarray, is_req: np.ndarray, order: np.ndarray | None,
                   share: float | None, units: np.ndarray | None = None) -> np.ndarray:
        """floor(decimal(share) × N) of the N still-eligible request rows in `order`; `share` of each bucket.
        With `units` (a session-unit policy: each row's unit code; a unit's rows are contiguous in `order`), N
        counts units with a still-eligible request row and every still-eligible row of the first k moves."""
        from simulate.plan import claimed_count

        f = np.zeros(rem.shape[0])
        live = elig[order]                       # static order, only the still-eligible rows count
        if units is None:
            k = claimed_count(float(share), int(live.sum()))
            rank = np.cumsum(live)
        else:
            u = units[order][live]
            new = np.ones(u.shape[0], dtype=bool)
            new[1:] = u[1:] != u[:-1]
            k = claimed_count(float(share), int(new.sum()))
            rank = np.zeros(order.shape[0], dtype=np.int64)
            rank[live] = np.cumsum(new)          # the unit's position among the live units
        if k:
            took = order[live & (rank <= k)]
            f[took] = rem[took]
        buckets = elig & ~is_req
        f[buckets] = float(share) * rem[buckets]
        return f

    _noun: ClassVar[str] = "moved"

    def _pick_words(self, share: float) -> str:
        return {"simplest": f"the simplest {_pct(share)}", "random": f"a random {_pct(share)}",
                "score": f"the router's lowest-scored {_pct(share)}"}[self.pick]

    def knobs(self, ctx: dict[str, Any]) -> list[Knob]:
        what = "eligible conversations" if self.by_session else "eligible requests"
        return [Knob("share", f"{self._pick_words(self.share)} of {what} {self._noun}", self.share)]


@register
class Shift(_Ranked):
    """Move a share of eligible requests to another model (or to a price ratio of their own cost)."""

    kind: Literal["shift"] = "shift"
    to: Target
    lever: ClassVar[str] = "model_shift"

    def params(self, p: str, ctx: dict[str, Any]) -> dict[str, Any]:
        return {**super().params(p, ctx), **_target_params(self.to, p)}

    def cost_sql(self, p: str, i: int) -> str:
        return _target_cost(self.to, p, i)

    def target(self) -> Target | None:
        return self.to

    def target_label(self) -> str | None:
        return self.to.label

    def quality_ratio(self) -> float | None:
        return self.to.quality_ratio

    def describe(self, ctx: dict[str, Any]) -> str:
        return f"{self._pick_words(self.share)} of {_models(self.match)} to {self.to.label}"

    def default_name(self) -> str:
        return f"move to {self.to.label}"


@register
class Cascade(Policy):
    """Every eligible part goes to `first`; `escalation_rate` of it is re-sent to the original model (paid twice)."""

    kind: Literal["cascade"] = "cascade"
    first: Target
    escalation_rate: float | None = Field(
        None, ge=0, le=1, description="share re-sent to the original model; default assumptions.escalation_rate")
    lever: ClassVar[str] = "cascade"
    rate_field: ClassVar[str | None] = "escalation_rate"
    escalates: ClassVar[bool] = True
    sweep_rank: ClassVar[int] = 0

    def rate(self, ctx: dict[str, Any]) -> float:
        rate = self.escalation_rate if self.escalation_rate is not None else ctx.get("escalation_rate")
        if rate is None:
            raise ValueError("cascade needs `escalation_rate` (or `assumptions.escalation_rate`)")
        return rate

    def params(self, p: str, ctx: dict[str, Any]) -> dict[str, Any]:
        return {f"{p}_esc": self.rate(ctx), **_target_params(self.first, p)}

    def cost_sql(self, p: str, i: int) -> str:
        return f"({_target_cost(self.first, p, i)} + ${p}_esc * base_cost)"

    def target(self) -> Target | None:
        return self.first

    def target_label(self) -> str | None:
        return self.first.label

    def escalation_sql(self, p: str) -> str:
        return f"${p}_esc"

    def quality_ratio(self) -> float | None:
        return self.first.quality_ratio

    def rate_param(self, p: str) -> str | None:
        return f"${p}_esc"

    def knobs(self, ctx: dict[str, Any]) -> list[Knob]:
        return [Knob("escalation_rate", f"{_pct(self.rate(ctx))} escalated to the original model", self.rate(ctx))]

    def describe(self, ctx: dict[str, Any]) -> str:
        return (f"{_models(self.match)} tried on {self.first.label} first, {_pct(self.rate(ctx))} re-sent to their "
                "own model")

    def default_name(self) -> str:
        return f"cascade via {self.first.label}"


@register
class Batch(_Ranked):
    """Move a share of eligible requests to the batch tier: their cost × (1 − discount). Rows already on the
    batch tier are not eligible. Default pick is random: batching does not depend on request size."""

    kind: Literal["batch"] = "batch"
    share: float = Field(1.0, ge=0, le=1)
    pick: Literal["simplest", "random", "score"] = "random"
    discount: float = Field(0.5, ge=0, le=1, description="batch discount; 0.5 at OpenAI, Anthropic, Google")
    lever: ClassVar[str] = "batch"

    def eligible_sql(self) -> str:
        return "service_tier <> 'batch'"

    def params(self, p: str, ctx: dict[str, Any]) -> dict[str, Any]:
        return {**super().params(p, ctx), f"{p}_discount": self.discount}

    def cost_sql(self, p: str, i: int) -> str:
        return f"base_cost * (1 - ${p}_discount)"

    _noun: ClassVar[str] = "batched"

    def describe(self, ctx: dict[str, Any]) -> str:
        return f"{self._pick_words(self.share)} of {_models(self.match)} to the batch tier (−{_pct(self.discount)})"

    def default_name(self) -> str:
        return "batch tier"


@register
class Cache(Policy):
    """A `hit_rate` share of eligible input tokens is billed at the model's cache-read price instead of its input
    price. The saving is computed at catalog prices and scaled by the row's billed/list ratio (negotiated
    discounts carry over)."""

    kind: Literal["cache"] = "cache"
    hit_rate: float = Field(ge=0, le=1, description="share of input tokens served from cache, 0–1")
    lever: ClassVar[str] = "caching"
    needs_row_rates: ClassVar[bool] = True
    rate_field: ClassVar[str | None] = "hit_rate"
    sweep_rank: ClassVar[int] = 1

    def rate(self, ctx: dict[str, Any]) -> float:
        return self.hit_rate

    def rate_param(self, p: str) -> str | None:
        return f"${p}_hit"

    def knobs(self, ctx: dict[str, Any]) -> list[Knob]:
        return [Knob("hit_rate", f"{_pct(self.hit_rate)} of input tokens read from cache", self.hit_rate)]

    def describe(self, ctx: dict[str, Any]) -> str:
        return f"prompt caching: {_pct(self.hit_rate)} of the input tokens of {_models(self.match)} read from cache"

    def default_name(self) -> str:
        return "prompt caching"

    def params(self, p: str, ctx: dict[str, Any]) -> dict[str, Any]:
        return {f"{p}_hit": self.hit_rate}

    def cost_sql(self, p: str, i: int) -> str:
        return (f"(base_cost - ${p}_hit * input_tokens * greatest(coalesce(r_in - r_cr, 0), 0) / 1000000.0"
                f" * coalesce(base_cost / nullif(list_cost, 0), 1))")


AnyPolicy = Annotated[Union[tuple(REGISTRY.values())], Field(discriminator="kind")]  # noqa: UP007
