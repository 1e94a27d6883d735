"""Building blocks of a scenario file shared by every policy: row filters (`match`, `scope`), targets, prices.

Each filter field maps to one fixed SQL fragment (`_FILTERS`); values are always bound, never spliced.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, model_validator

from warehouse.errors import ConfigError
from warehouse.prices import resolve


class ScenarioError(ConfigError):
    title = "Invalid scenario"


class Strict(BaseModel):
    """Unknown keys are errors: a typo in a scenario file must not silently change the result."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def glob_to_regex(pattern: str) -> str:
    """`claude-opus-*` -> an RE2 full-match pattern, lower-case (model names match case-insensitively)."""
    out = []
    for ch in pattern.lower():
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return "".join(out)


# filter field -> (SQL fragment with {p} for the bound parameter's name, how to turn the value into a bind)
_FILTERS: dict[str, tuple[str, Any]] = {
    # one bound alternation: a constant pattern is compiled once (a list of patterns per row was 400x slower);
    # case-insensitive by the pattern's own flag, not lower() of every row's model (~7% of a replay at 1 M rows)
    "models": ("regexp_full_match(model, ${p})", lambda v: "(?i)" + "|".join(f"(?:{glob_to_regex(m)})" for m in v)),
    "providers": ("list_contains(${p}, provider)", list),
    "teams": ("list_contains(${p}, team)", list),
    "projects": ("list_contains(${p}, project)", list),
    "workloads": ("list_contains(${p}, workload)", list),
    "min_tokens": ("total_tokens >= ${p} * greatest(requests, 1)", int),
    "max_tokens": ("total_tokens <= ${p} * greatest(requests, 1)", int),
}


class Match(Strict):
    """Filters on canonical columns; all given ones must hold. Lists match any of their items."""

    models: list[str] | None = Field(None, description="model ids; `*` and `?` globs, case-insensitive")
    providers: list[str] | None = None
    teams: list[str] | None = None
    projects: list[str] | None = None
    workloads: list[str] | None = None
    min_tokens: int | None = Field(None, ge=0, description="total tokens per request at least this")
    max_tokens: int | None = Field(None, ge=0, description="total tokens per request at most this")

    def sql(self, prefix: str, models_in: list[str] | None = None) -> tuple[str, dict[str, Any]]:
        """(boolean SQL expression, bound values); `true` when no filter is given. `models_in`: the model names
        `models` matches among every model the rows can hold (simulate/plan.py `matched_models`), tested as a list
        instead of the globs' pattern on every row."""
        terms, params = [], {}
        for field, (fragment, convert) in _FILTERS.items():
            value = getattr(self, field)
            if value is None:
                continue
            name = f"{prefix}_{field}"
            if field == "models" and models_in is not None:
                fragment, convert, value = "list_contains(${p}, model)", list, models_in
            terms.append(fragment.format(p=name))
            params[name] = convert(value)
        return (" and ".join(f"({t})" for t in terms) or "true"), params


class TokenPrices(Strict):
    """USD per million tokens. Cache prices default to the input price (never to 0)."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)
    cache_read: float | None = Field(None, ge=0)
    cache_write: float | None = Field(None, ge=0)


SELF_HOSTED_PREFIX = "self-hosted:"


class Target(Strict):
    """Where moved requests go: a catalog `model`, a `model` with explicit `prices`, a `price_ratio`, or one of
    the ledger's self-hosted models by name (`to: self-hosted:<model>`, or `{model: ..., self_hosted: true}`)."""

    model: str | None = None
    provider: str | None = Field(None, description="catalog provider to price `model` from (default: best match)")
    prices: TokenPrices | None = None
    price_ratio: float | None = Field(None, gt=0, description="the row's own baseline cost times this")
    name: str | None = Field(None, description="label in results (default: model, or 'price_ratio:R')")
    quality_ratio: float | None = Field(
        None, ge=0, description="target quality = this × the source model's score (overrides the score table)")
    input_multiplier: float | None = Field(
        None, gt=0, description="input tokens (incl. cache read/write) of moved parts × this on this target (its "
        "tokenizer: the same text is more or fewer tokens); default assumptions.input_multiplier")
    self_hosted: bool = Field(
        False, description="price `model` as the ledger prices this self-hosted model (its cost file's effective "
        "rate, or a user price override where one wins) on each moved request's day; `provider` picks among "
        "self-hosted providers with a model of that name")
    _catalog: tuple[str, str] | None = PrivateAttr(None)

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, data: Any) -> Any:
        """`self-hosted:<model>` as a whole target: the ledger's self-hosted model of that name."""
        if not isinstance(data, str):
            return data
        text = data.strip()
        if text[:len(SELF_HOSTED_PREFIX)].lower() != SELF_HOSTED_PREFIX:
            raise ValueError(f"{text[:60]!r} is not a target: give a mapping ({{model: ...}} or {{price_ratio: ...}}) "
                             "or self-hosted:<model>")
        model = text[len(SELF_HOSTED_PREFIX):].strip()
        if not model:
            raise ValueError("`self-hosted:` needs a model name, e.g. self-hosted:llama-70b-selfhosted")
        return {"model": model, "self_hosted": True}

    @model_validator(mode="after")
    def _check(self) -> Target:
        if (self.model is None) == (self.price_ratio is None):
            raise ValueError("give exactly one of `model` (with optional `prices`) or `price_ratio`")
        if self.price_ratio is not None and self.prices is not None:
            raise ValueError("`prices` goes with `model`, not with `price_ratio`")
        if self.self_hosted and self.prices is not None:
            raise ValueError("a self-hosted target is priced as the ledger prices it: drop `prices`, or drop "
                             "`self_hosted` to give prices of your own")
        if self.model is not None and self.prices is None and not self.self_hosted:
            found = resolve(self.provider or "", self.model)
            if found[0] is None:
                raise ValueError(f"unknown model {self.model!r}: not in the price catalog (genai-prices); "
                                 "use a catalog id or give `prices` explicitly")
            self._catalog = (found[0], found[1])
        return self

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        if self.self_hosted:
            return f"{self.model} (self-hosted)"
        return self.model if self.model is not None else f"price_ratio:{self.price_ratio:g}"

    @property
    def catalog(self) -> tuple[str, str] | None:
        return self._catalog
