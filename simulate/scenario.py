"""The scenario file (v1, docs/design.md "Simulation semantics"): a pydantic model loaded from YAML or JSON, or a
preset shipped in simulate/presets/. Every error names the field: `policies.0.shift.share: …`."""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

import numpy as np
import polars as pl
import yaml
from pydantic import (BeforeValidator, ConfigDict, Field, PlainSerializer, TypeAdapter, ValidationError,
                      field_validator, model_validator)

from simulate.memo import Kept
from simulate.policies import AnyPolicy
from simulate.spec import Match, ScenarioError, Strict
from warehouse.errors import field_path, parse_problem

PRESETS = Path(__file__).parent / "presets"


class Period(Strict):
    start: dt.date | None = Field(None, description="first day, inclusive (UTC)")
    end: dt.date | None = Field(None, description="last day, inclusive (UTC)")

    @model_validator(mode="after")
    def _order(self) -> Period:
        if self.start and self.end and self.end < self.start:
            raise ValueError("`end` is before `start`")
        return self


# the last fingerprints of per-request columns, by the identity of their Series: a slider move rebuilds the
# scenario around the same columns and asks again
_DIGESTS = Kept(8)


def _column(dtype: Any, item: Any, nullable: bool = False) -> Any:
    """A per-request column (grades, router scores) held as a polars Series of `dtype`: a file's reader hands over
    the columns it read (simulate/shadow.py, no Python list of millions of values in between), a scenario file
    or a dict gives lists (each item checked as pydantic checks `list[item]`); dumped as a list."""

    def series(value: Any) -> pl.Series:
        if isinstance(value, pl.Series):
            s = value if value.dtype == dtype else value.cast(dtype)
        else:
            try:
                s = pl.Series(TypeAdapter(list[item]).validate_python(value), dtype=dtype, strict=True)
            except ValidationError as e:
                err = e.errors()[0]
                raise ValueError(f"item {field_path(err['loc']) or '?'}: {err['msg']}") from None
        if not nullable and s.null_count():
            raise ValueError(f"item {s.is_null().arg_true()[0]}: is missing")
        return s

    return Annotated[pl.Series, BeforeValidator(series), PlainSerializer(lambda s: s.to_list())]


_TEXT = _column(pl.String, str)
_MAYBE_TEXT = _column(pl.String, str | None, nullable=True)
_NUMBER = _column(pl.Float64, float)


class _Columns(Strict):
    """Per-request columns of one length as polars Series (`_column`); equal when their values are."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    columns: ClassVar[tuple[str, ...]] = ()      # the per-request fields, each a `_column`

    def _series(self) -> dict[str, pl.Series]:
        return {k: getattr(self, k) for k in self.columns}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        mine, theirs = self._series(), other._series()
        return (all(getattr(self, k) == getattr(other, k) for k in type(self).model_fields if k not in mine)
                and all(s.equals(theirs[k], null_equal=True) for k, s in mine.items()))

    def _digest(self, label: str | None) -> str:
        """A fingerprint of the columns, exact: each text column as which of its values are none and its Arrow
        string views and data (no two different columns give the same input), numbers as doubles, hashed with
        SHA-256. A JSON dump of a million grades took ~2 s a call, and the slider tables' structure key asks on
        every move; this reads the columns' buffers in place (0.08 cpu-s for two million grades), once per set of
        columns (kept by identity: the models are frozen, their Series are not to be mutated)."""
        cols = self._series()
        return _DIGESTS.get(label, lambda: self._fingerprint(cols, label), held=tuple(cols.values()))

    def _fingerprint(self, cols: dict[str, pl.Series], label: str | None) -> str:
        h = hashlib.sha256(f"{type(self).__name__}|{label!r}".encode())
        for s in cols.values():
            if s.dtype == pl.String:
                # which values are none, then the column's Arrow string-view buffers as polars holds them (read in
                # place: no joined or converted copy of 2 M strings). Different values always give different bytes;
                # the same values give the same bytes when built the same way, else only a fresh fingerprint
                h.update(np.packbits(s.is_null().to_numpy()).tobytes())
                for chunk in s.rechunk().to_arrow(compat_level=pl.CompatLevel.newest()).buffers()[1:]:
                    if chunk is not None:
                        h.update(memoryview(chunk))
            else:
                h.update(s.to_numpy().tobytes())
        return h.hexdigest()[:32]

    @model_validator(mode="after")
    def _one_length(self) -> _Columns:
        lengths = {len(s) for s in self._series().values()}
        if len(lengths) != 1 or not lengths.pop():
            raise ValueError(f"{', '.join(self._series())} must be non-empty lists of the same length")
        return self


class RequestGrades(_Columns):
    """Per-request grades of a shadow evaluation (simulate.shadow), column by column (one entry per graded
    (request, model)): the grader's `request_id` as the source logged it, the ledger `provider` (None: matched
    under whichever one provider's key it gives), the lower-case `model` and its `score` in [0, 1]. They win
    over every other score for the request rows they cover; see docs/simulation.md "Shadow evaluation"."""

    columns: ClassVar[tuple[str, ...]] = ("request_id", "provider", "model", "score")
    request_id: _TEXT
    provider: _MAYBE_TEXT
    model: _TEXT
    score: _NUMBER
    source: str | None = Field(None, description="where the grades come from (kept for the record)")

    def digest(self) -> str:
        """A short fingerprint of the grades (for cache keys)."""
        return self._digest(self.source)

    @model_validator(mode="after")
    def _scores(self) -> RequestGrades:
        bad = (~self.score.is_between(0, 1)).arg_true()        # NaN is not between: refused too
        if len(bad):
            raise ValueError(f"score {bad[0]}: {self.score[bad[0]]} is outside [0, 1]")
        return self


class RouterScores(_Columns):
    """One router's score per logged request (simulate.router): `pick: score` moves the eligible requests with the
    lowest scores first. Read the score as the router's estimate that the request needs its own (source) model,
    e.g. RouteLLM's strong-model win rate; any scale, lower = safer to move."""

    columns: ClassVar[tuple[str, ...]] = ("request_id", "provider", "score")
    request_id: _TEXT
    provider: _MAYBE_TEXT
    score: _NUMBER
    router: str | None = Field(None, description="the router's name (kept for the record)")

    def digest(self) -> str:
        return self._digest(self.router)


class Assumptions(Strict):
    output_multiplier: float = Field(
        1.0, gt=0, description="output tokens of moved parts × this (verbosity of the target model)")
    input_multiplier: float = Field(
        1.0, gt=0, description="input tokens of moved parts × this (tokenizer of the target model); a target's "
        "own `input_multiplier` wins")
    escalation_rate: float | None = Field(None, ge=0, le=1, description="default for cascades that give none")
    cache_on_switch: Literal["lost", "kept"] = Field(
        "lost", description="a request moved to another model loses its conversation's warm prompt cache: its "
        "cache-read tokens are priced at the target's input price (the first moved request of a conversation at its "
        "cache-write price) unless its whole conversation moved ('lost'); 'kept' prices them at the target's "
        "cache-read price as if the cache came along")
    quality: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="workload (or '*') → model → score in [0, 1]; wins over the defaults")
    measured: dict[str, dict[str, float]] = Field(
        default_factory=dict, description="shadow evaluation: workload (or '*') → model → score measured on your "
        "own traffic (simulate.shadow); wins over every other score, and parts scored from it count as measured")
    request_grades: RequestGrades | None = Field(
        None, description="shadow evaluation per request id (simulate.shadow): replaces every other score for the "
        "request rows it covers")
    router_scores: RouterScores | None = Field(
        None, description="a router's score per request (simulate.router), read by `pick: score`")

    @field_validator("quality", "measured")
    @classmethod
    def _scores(cls, v: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for workload, models in v.items():
            for model, score in models.items():
                if not 0 <= score <= 1:
                    raise ValueError(f"quality.{workload}.{model}: score {score} is outside [0, 1]")
        return {w.lower(): {m.lower(): s for m, s in ms.items()} for w, ms in v.items()}


class Scenario(Strict):
    name: str
    title: str | None = Field(None, description="a plain-words title for menus (presets); the source goes in "
                              "`description`")
    description: str | None = None
    period: Period = Field(default_factory=Period)
    scope: Match = Field(default_factory=Match, description="rows the whole scenario looks at")
    policies: list[AnyPolicy] = Field(default_factory=list, description="applied in order to unclaimed parts")
    assumptions: Assumptions = Field(default_factory=Assumptions)

    @model_validator(mode="after")
    def _cascade_rates(self) -> Scenario:
        ctx = {"escalation_rate": self.assumptions.escalation_rate}
        for i, policy in enumerate(self.policies):
            if policy.needs_router_scores and self.assumptions.router_scores is None:
                raise ValueError(f"policies.{i}: `pick: score` needs a router's scores (a file of request_id,score"
                                 "[,router,provider]: `--scores FILE`, or the What-if upload)")
            try:
                policy.params(f"p{i}", ctx)
            except ValueError as e:
                raise ValueError(f"policies.{i}: {e}") from None
        return self

    def with_conversations(self, unit: str | None = None, cache_on_switch: str | None = None) -> Scenario:
        """The same scenario with every ranked policy (shift, batch) picking by `unit` (request | session) and/or
        `assumptions.cache_on_switch` (lost | kept) set; None leaves a value as the scenario has it."""
        # validated again from its parts, not from a dump: the per-request columns (millions of grades or router
        # scores) stay the same objects, so their fingerprint, keys and prepared tables are found again (a dump and
        # a validation copied and checked every item; the What-if page does this on every rerun)
        def fields(model: Strict) -> dict[str, Any]:
            return {k: getattr(model, k) for k in type(model).model_fields}

        data = fields(self)
        if unit is not None:
            data["policies"] = [type(p).model_validate({**p.model_dump(exclude_none=True), "unit": unit})
                                if "share" in p.model_dump(exclude_none=True) else p for p in self.policies]
        if cache_on_switch is not None:
            data["assumptions"] = Assumptions.model_validate({**fields(self.assumptions),
                                                              "cache_on_switch": cache_on_switch})
        return Scenario.model_validate(data)

    def policy_label(self, i: int) -> str:
        """Its `name`, else plain words for its kind (`move to gpt-4o-mini`, `batch tier`); a label two policies
        would share gets its position: `batch tier (2)`."""
        p = self.policies[i]
        label = p.name or p.default_name()
        same = [j for j, q in enumerate(self.policies) if (q.name or q.default_name()) == label]
        return label if len(same) == 1 else f"{label} ({same.index(i) + 1})"


def _format(e: ValidationError) -> str:
    lines = []
    for err in e.errors():
        loc = field_path(err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        lines.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(lines)


def parse_scenario(data: Any, source: str = "scenario") -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: expected a mapping with `name` and `policies`, got {type(data).__name__}")
    if data and not set(Scenario.model_fields) & {str(k) for k in data}:
        # not a scenario at all: its keys are the text of an unrecognised file, never shown (warehouse.errors)
        raise ScenarioError(f"{source}: is not a scenario: none of its {len(data)} top-level key(s) is a scenario "
                            f"field ({', '.join(sorted(Scenario.model_fields))})")
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        raise ScenarioError(f"{source}: {_format(e)}") from e


def presets() -> list[str]:
    return sorted(p.stem for p in PRESETS.glob("*.yaml"))


@functools.lru_cache(maxsize=64)
def _parsed(path: str, mtime_ns: int, size: int) -> Any:
    """A file's parsed data, kept per (path, modification time, size): an edited file is read again. The
    dashboard names every preset on each rerun (What-if's preset picker, Outlook's choices), and PyYAML took
    ~5% of a served session's CPU parsing the same six files again (bench/load.py protocol clients)."""
    text = Path(path).read_text(encoding="utf-8")
    return json.loads(text) if path.lower().endswith(".json") else yaml.safe_load(text)


def load_data(path_or_name: str | Path) -> tuple[Any, str]:
    """The raw data of a .yaml/.yml/.json file or a preset, and its path (for error messages)."""
    path = Path(path_or_name)
    if not path.is_file():
        preset = PRESETS / f"{path_or_name}.yaml"
        if not preset.is_file():
            raise ScenarioError(f"{path_or_name}: no such file and no preset of that name; "
                                f"presets: {', '.join(presets())}")
        path = preset
    try:
        stat = path.stat()
        return copy.deepcopy(_parsed(str(path), stat.st_mtime_ns, stat.st_size)), str(path)
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read: {e.strerror or type(e).__name__}") from e
    except UnicodeDecodeError as e:
        raise ScenarioError(f"{path}: cannot read: not UTF-8 text (byte {e.start})") from e
    except (json.JSONDecodeError, yaml.YAMLError) as e:
        raise ScenarioError(f"{path}: cannot read: {parse_problem(e)}") from e


def load_scenario(path_or_name: str | Path, assumptions: dict[str, Any] | None = None) -> Scenario:
    """A scenario from a .yaml/.yml/.json file, or a preset's name (`armstrong-80-99`). `assumptions`: entries
    added to the file's (a router's scores, which a `pick: score` policy needs to validate)."""
    data, source = load_data(path_or_name)
    if assumptions and isinstance(data, dict):
        data = {**data, "assumptions": {**(data.get("assumptions") or {}), **assumptions}}
    return parse_scenario(data, source)
