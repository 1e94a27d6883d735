"""A router's scores per logged request, for `pick: score`: what a candidate router (RouteLLM, Not Diamond, a
company's own classifier) would save and cost in quality on your own traffic, before deploying it.

    request_id,score[,router,provider]
    chatcmpl-9xK2,0.12,routellm-mf,openai
    chatcmpl-9xK3,0.87,routellm-mf,openai

`score` is the router's estimate that the request needs its own (source) model — RouteLLM's strong-model win
rate, say; any scale, lower = safer to move; a finite number (NaN or infinity is refused: it would sort above
or below every score and set the pick order silently). A ranked policy with `pick: score` moves the eligible requests with
the lowest scores first (floor(share × N) of them, as every pick), requests the router did not score after every
scored one. `request_id` and `provider` are matched to the ledger's request rows exactly as a shadow evaluation's
(simulate/shadow.py: `request_row_key(provider, id)`; without a provider an id is used when exactly one
provider's key for it is a replayed request row). A file may hold several routers (`router` column): pick one.

A file is read in bulk, as a shadow evaluation's (simulate/shadow.py): polars reads the columns, every check of
`RouterScore` is one column expression, and the first bad row is validated alone so that the message names the
file, the row and the column; a file the expressions cannot vouch for is read row by row.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
from pydantic import Field, ValidationError, field_validator

from simulate.scenario import Scenario, parse_scenario
from simulate.shadow import _bulk_columns, _csv_frame, _first_faults, _records, _records_frame
from simulate.spec import ScenarioError, Strict
from warehouse.errors import field_path

_TITLE = "Invalid router scores"
_EXPECTED = "request_id, score[, router, provider]"


class RouterScore(Strict):
    """One row of a router-score file: the definition of a valid row (the bulk reader's expressions are these
    checks; this model names what is wrong with the first bad row)."""

    request_id: str = Field(min_length=1)
    score: float = Field(allow_inf_nan=False)     # NaN would sort above every score: a silent pick order
    router: str | None = None
    provider: str | None = Field(None, description="ModelMix's provider id; needed when an id is not unique")

    @field_validator("request_id", mode="before")
    @classmethod
    def _text(cls, v: object) -> object:
        return str(v).strip() if isinstance(v, (int, str)) and not isinstance(v, bool) else v

    @field_validator("provider")
    @classmethod
    def _lower(cls, v: str | None) -> str | None:
        return None if v is None else (v.strip().lower() or None)


_COLUMNS = tuple(RouterScore.model_fields)          # request_id, score, router, provider
# the Python types a JSON/YAML column may hold for the bulk reader (anything else: the row-by-row reader decides)
_TYPES = {"request_id": {str, int}, "score": {float, int}, "router": {str}, "provider": {str}}
_SCHEMA = {"request_id": pl.String, "score": pl.Float64, "router": pl.String, "provider": pl.String}


def _row(record: object, row: int, name: str) -> RouterScore:
    """One record validated, or the error "<file>: row N, <column>: <what is wrong>"."""
    try:
        return RouterScore.model_validate(record)
    except ValidationError as e:
        err = e.errors()[0]
        field = field_path(err["loc"]) or "row"
        raise ScenarioError(f"{name}: row {row}, {field}: {err['msg']}", title=_TITLE) from e


def _twice(name: str, row: int, first: int, request_id: str, router: str | None) -> ScenarioError:
    return ScenarioError(f"{name}: row {row}, request_id: {request_id!r} is scored twice"
                         + (f" by {router!r}" if router else "") + f" (also row {first})", title=_TITLE)


def _bulk(frame: pl.DataFrame, record: Callable[[int], object], name: str) -> pl.DataFrame | None:
    """The file read as columns: every check of `RouterScore` as one expression, the first failing row (or the first
    request one router scores twice) refusing the file with the row-by-row reader's message. None when a row fails
    here yet `RouterScore` accepts it (a form the expressions do not know): the caller reads row by row."""
    filled, score, provider, extra = _bulk_columns(frame, _COLUMNS)
    cols = filled.select(
        pl.col("request_id").cast(pl.String).str.strip_chars(), score, pl.col("router").cast(pl.String),
        provider.alias("provider"), extra.alias("extra"))
    ok = ((pl.col("request_id") != "") & pl.col("score").is_finite() & ~pl.col("extra")).fill_null(False)
    bad, t = _first_faults(cols, ok, ["router", "provider", "request_id"])
    if t is not None:
        raise _twice(name, t["i"] + 1, t["first"] + 1, t["request_id"], t["router"])
    if bad is not None:
        _row(record(bad), bad + 1, name)          # raises, naming the column and what is wrong
        return None
    return cols.select(*_COLUMNS)


def _rows(records: list, name: str) -> pl.DataFrame:
    """The records validated one by one (the rare file the bulk reader does not vouch for)."""
    out, seen = [], {}
    for i, r in enumerate(records, start=1):
        row = _row(r, i, name)
        key = (row.router, row.provider, row.request_id)
        if key in seen:
            raise _twice(name, i, seen[key], row.request_id, row.router)
        seen[key] = i
        out.append(row)
    return pl.DataFrame([r.model_dump() for r in out], schema=_SCHEMA)


def parse(text: str, name: str = "router scores") -> pl.DataFrame:
    """A router-score file (CSV by default; JSON or YAML when `name` says so) as columns request_id, score, router,
    provider (one row per scored request). Any bad row refuses the whole file, naming the file, the first bad row
    (counted from 1, header and blank lines not counted) and its column; a request scored twice by one router is an
    error."""
    is_csv = Path(name).suffix.lower() not in (".json", ".yaml", ".yml")
    frame = _csv_frame(text) if is_csv else None
    if frame is not None and frame.height:
        scores = _bulk(frame, lambda i: {k: v for k, v in frame.row(i, named=True).items() if v is not None}, name)
        if scores is not None:
            return scores
    records = _records(text, name, _EXPECTED, _TITLE)
    if not is_csv and (frame := _records_frame(records, _TYPES)) is not None:
        scores = _bulk(frame, records.__getitem__, name)
        if scores is not None:
            return scores
    return _rows(records, name)


def load(path: str | Path) -> pl.DataFrame:
    path = Path(path)
    try:
        return parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{path}: cannot read: {e}", title=_TITLE) from e


def routers(scores: pl.DataFrame) -> list[str | None]:
    return sorted(scores["router"].unique().to_list(), key=lambda r: (r is None, r or ""))


def scores_data(scores: pl.DataFrame, router: str | None = None) -> dict:
    """One router's scores as `assumptions.router_scores` data (a file of several routers needs `router`)."""
    names = routers(scores)
    if router is None and len(names) > 1:
        raise ScenarioError(f"the file scores requests for several routers ({', '.join(map(str, names))}): pick one",
                            title=_TITLE)
    if router is not None:
        scores = scores.filter(pl.col("router") == router)
        if not scores.height:
            raise ScenarioError(f"no scores of router {router!r}; the file has {', '.join(map(str, names))}",
                                title=_TITLE)
    first = scores["router"][0]
    return {"request_id": scores["request_id"].to_list(), "provider": scores["provider"].to_list(),
            "score": scores["score"].to_list(), **({"router": first} if first else {})}


def with_scores(scenario: Scenario, scores: pl.DataFrame, router: str | None = None) -> Scenario:
    """The scenario with one router's scores in `assumptions.router_scores`."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["assumptions"]["router_scores"] = scores_data(scores, router)
    return parse_scenario(data, scenario.name)
