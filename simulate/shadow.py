"""Shadow evaluation: quality measured on your own traffic replaces the benchmark priors for the requests it
covers, and the result says which part of its quality figure is measured and which assumed.

A shadow-evaluation file grades a sample of logged prompts re-run on candidate models (docs/research.md "Offline
replay and shadow evaluation": the
counterfactual q[i, j] of an enterprise log). Two forms, told apart by their columns (CSV, or JSON/YAML: a
list of such objects):

    request_id,model,score[,provider,source]          per request: the grade of that request on that model
    chatcmpl-9xK2,gpt-4o,0.92,openai,in-house grader 2026-10
    chatcmpl-9xK2,gpt-4o-mini,0.85,openai,in-house grader 2026-10

    workload,model,score[,requests,source]            per workload × model: the mean of a graded sample
    extraction,gpt-4o,0.93,400,in-house grader 2026-10

`score` in [0, 1]; `requests` (graded sample size) and `source` are kept for the record.

Per request: `request_id` is the source's own id as ModelMix ingested it (LiteLLM's `request_id`, Helicone's
request id, OpenRouter's generation id, Langfuse's observation id, Bedrock's requestId); with `provider`
(ModelMix's id: `openai`, `anthropic`, …) it gives the ledger's natural key `request_row_key(provider, id)`
(macro of migration 009), the key the replay joins on. Without `provider` an id is matched when exactly one
provider's key for it is among the replayed request rows (ambiguous ids are not used). `with_shadow` puts the
grades in `assumptions.request_grades`; for the request rows they cover they win over every other score, and a
part of such a row is *measured* when the grades its figures use exist for that request (a moved part: the
source model's and the target's; a part that stays: its own model's; a `quality_ratio` target stays
assumed). Aggregated (bucket) rows have no request id and stay on the other layers.

Per workload × model: `workload` may be `*` (every workload). `with_shadow` sets `assumptions.measured`, which
wins over the priors; a part counts as measured when all the scores its figures use come from it (a moved
part: the source's and the target's in one workload block; a part that stays: its own model's).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import polars as pl
import yaml
from pydantic import Field, ValidationError, field_validator

from simulate.scenario import RequestGrades, Scenario, parse_scenario
from simulate.spec import ScenarioError, Strict
from warehouse.errors import field_path, parse_problem


class ShadowScore(Strict):
    """One row of the per workload × model form."""

    workload: str = Field(min_length=1)
    model: str = Field(min_length=1)
    score: float = Field(ge=0, le=1)
    requests: int | None = Field(None, ge=0, description="graded sample size")
    source: str | None = None

    @field_validator("workload", "model")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()


class RequestGrade(Strict):
    """One row of the per-request form: the definition of a valid row. A file is read in bulk (`parse`); this model
    names what is wrong with its first bad row, and reads the rare file the bulk reader cannot vouch for."""

    request_id: str = Field(min_length=1)
    model: str = Field(min_length=1)
    score: float = Field(ge=0, le=1)
    provider: str | None = Field(None, description="ModelMix's provider id; needed when an id is not unique")
    source: str | None = None

    @field_validator("request_id", mode="before")
    @classmethod
    def _text(cls, v: object) -> object:
        # YAML/JSON may give a numeric id; the ledger keys it as text
        return str(v).strip() if isinstance(v, (int, str)) and not isinstance(v, bool) else v

    @field_validator("model")
    @classmethod
    def _model(cls, v: str) -> str:
        v = v.strip().lower()
        if not v:
            raise ValueError("is blank")
        return v

    @field_validator("provider")
    @classmethod
    def _provider(cls, v: str | None) -> str | None:
        return (v.strip().lower() or None) if v is not None else None


_TITLE = "Invalid shadow evaluation"
_COLUMNS = tuple(RequestGrade.model_fields)          # request_id, model, score, provider, source
# the Python types a JSON/YAML column may hold for the bulk reader (anything else: the row-by-row reader decides)
_TYPES = {"request_id": {str, int}, "model": {str}, "score": {float, int}, "provider": {str}, "source": {str}}


def _records(text: str, name: str, expected: str = "request_id, model, score[, provider] or workload, model, score",
             title: str = _TITLE) -> list[dict]:
    suffix = Path(name).suffix.lower()
    try:
        if suffix in (".json", ".yaml", ".yml"):
            data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
            records = data if isinstance(data, list) else []
        else:
            records = [{k: v for k, v in r.items() if v not in ("", None)} for r in csv.DictReader(io.StringIO(text))]
    except (json.JSONDecodeError, yaml.YAMLError, csv.Error) as e:
        raise ScenarioError(f"{name}: cannot read: {parse_problem(e)}", title=title) from e
    if not records:
        raise ScenarioError(f"{name}: no rows (expected columns {expected})", title=title)
    return records


def _csv_frame(text: str) -> pl.DataFrame | None:
    """A CSV file as text columns, as csv.DictReader reads it (an empty value is no value; a blank line is no
    row), or None when polars cannot read it so (the row-by-row reader then says what is wrong)."""
    try:
        frame = pl.read_csv(text.encode(), infer_schema=False, raise_if_empty=False)
    except pl.exceptions.PolarsError:
        return None
    frame = frame.with_columns(pl.when(pl.col(c) != "").then(pl.col(c)).alias(c) for c in frame.columns)
    if not frame.width:
        return frame
    # a blank line reads as a row of nulls, which the csv module skips; so does a line of bare commas, a row to
    # it (an error, counted in the rows after): read row by row unless every such row is a blank line
    empty = pl.all_horizontal(pl.all().is_null())
    nulls = frame.select(empty.sum()).item()
    if nulls and nulls != len(re.findall(r"(?m)^\r?$", text.removesuffix("\n"))):
        return None
    return frame.filter(~empty) if nulls else frame


def _records_frame(records: list, types: dict[str, set[type]] = _TYPES) -> pl.DataFrame | None:
    """JSON/YAML records of a per-request form (`types`: its columns and the Python types each may hold) as columns
    (numeric ids as text), or None when a record is not a mapping, has a column the form does not know, or a value
    of another type (bool, list, …): the row-by-row reader then decides, with its exact message."""
    if not all(isinstance(r, dict) for r in records):
        return None
    keys = set().union(*records)
    if not keys <= set(types):
        return None
    columns = {}
    for k in types:
        values = [r.get(k) for r in records]
        if not set(map(type, values)) - {type(None)} <= types[k]:
            return None
        columns[k] = pl.Series(k, values, dtype=pl.Float64 if k == "score" else pl.String, strict=False)
    return pl.DataFrame(columns)


def _row(model: type[Strict], record: object, row: int, name: str) -> Strict:
    """One record validated, or the error "<file>: row N, <column>: <what is wrong>"."""
    try:
        return model.model_validate(record)
    except ValidationError as e:
        err = e.errors()[0]
        field = field_path(err["loc"]) or "row"
        msg = err["msg"].removeprefix("Value error, ")
        raise ScenarioError(f"{name}: row {row}, {field}: {msg}", title=_TITLE) from e


def _twice(name: str, row: int, first: int, key: str, model: str, what: str = "request_id") -> ScenarioError:
    return ScenarioError(f"{name}: row {row}, {what}: {key!r} on model {model!r} is graded twice (also row {first})",
                         title=_TITLE)


def _rows(model: type[Strict], records: list, name: str) -> list:
    """The records validated one by one (the workload form, and the rare per-request file the bulk reader does not
    vouch for); the first bad row, or the first (…, model) graded twice, refuses the file."""
    out, seen = [], {}
    for i, r in enumerate(records, start=1):
        row = _row(model, r, i, name)
        key = ((row.provider, row.request_id, row.model) if model is RequestGrade else (row.workload, row.model))
        if key in seen:
            raise _twice(name, i, seen[key], key[-2], row.model, "request_id" if model is RequestGrade else "workload")
        seen[key] = i
        out.append(row)
    return out


def _bulk_columns(frame: pl.DataFrame, columns: tuple[str, ...] | list[str]
                  ) -> tuple[pl.DataFrame, pl.Expr, pl.Expr, pl.Expr]:
    """What the bulk readers (grades here, router scores in simulate/router.py) take from a file's columns as their
    row models read them: the frame with the absent `columns` as nulls; the score as a float (text stripped first);
    the provider stripped and lower-cased, "" as none; and `extra`, true where a column the model does not know
    holds a value (the row model refuses it)."""
    filled = frame.with_columns([pl.lit(None, pl.String).alias(c) for c in columns if c not in frame.columns])
    unknown = [c for c in frame.columns if c not in columns]
    score = pl.col("score").cast(pl.Float64, strict=False)
    if frame.schema.get("score", pl.String) == pl.String and (
            filled.select((score.is_null() & pl.col("score").is_not_null()).any()).item()):
        # a value padded with blanks does not parse as a number: stripped first (a pass over every value, only
        # when some needs it: 2 M scores 0.08 -> 0.03 cpu-s)
        score = pl.col("score").str.strip_chars().cast(pl.Float64, strict=False)
    # the provider per distinct value (a file names a few), mapped back: 0.2 -> 0.02 cpu-s for 2 M rows
    filled = filled.with_columns(_per_value(filled["provider"].cast(pl.String), _provider_value))
    extra = pl.any_horizontal(pl.col(c).is_not_null() for c in unknown) if unknown else pl.lit(False)
    return filled, score, pl.col("provider"), extra


def _provider_value(values: pl.Series) -> pl.Series:
    clean = values.str.strip_chars().str.to_lowercase()
    return pl.select(pl.when(clean != "").then(clean)).to_series()


def _per_value(column: pl.Series, clean: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """`clean` (a string function of the values) applied to each distinct value of `column` (a file names a few
    providers and models), mapped back to the rows only where it changes some value."""
    values = column.unique()
    cleaned = clean(values)
    if values.equals(cleaned, null_equal=True):
        return column
    return column.replace_strict(values, cleaned)


def _first_faults(cols: pl.DataFrame, ok: pl.Expr, keys: list[str]) -> tuple[int | None, dict | None]:
    """A bulk reader's two faults, as the row-by-row reader meets them: the index of the first row failing `ok`,
    and the first row among the good rows before it that repeats `keys` (its index `i` and the row it repeats,
    `first`), looked for only when there is one (the check alone is one pass over the keys)."""
    bad = cols.select((~ok).arg_true().first()).item()
    upto = cols.head(cols.height if bad is None else bad)
    twice = None
    # rows with distinct hashes of `keys` are distinct: the exact check (a struct's duplicates, ~0.6 cpu-s for 2 M
    # rows) only when two hashes meet (a repeated row, or a collision); hashing and counting them ~0.1
    if upto.height and upto.select(keys).hash_rows().n_unique() < upto.height and (
            upto.select(pl.struct(keys).is_duplicated().any()).item()):
        twice = (upto.with_row_index("i").with_columns(first=pl.col("i").min().over(keys))
                 .filter(pl.col("i") != pl.col("first")).row(0, named=True))
    return bad, twice


def _grades(frame: pl.DataFrame, record: Callable[[int], object], name: str) -> RequestGrades | None:
    """The per-request form read in bulk: every check of `RequestGrade` as one expression over the columns, the
    first failing row (or the first (provider, request_id, model) graded twice) refusing the file with the same
    message the row-by-row reader gives. None when a row fails here yet `RequestGrade` accepts it (a form the
    expressions do not know): the caller reads the file row by row."""
    filled, score, provider, extra = _bulk_columns(frame, _COLUMNS)
    # the model per distinct value (a file names a few): 2 M rows 0.12 -> 0.02 cpu-s when none needs changing
    model = _per_value(filled["model"], lambda v: v.str.strip_chars().str.to_lowercase())
    cols = filled.select(
        pl.col("request_id").str.strip_chars(), pl.lit(model).alias("model"),
        score, provider.alias("provider"), pl.col("source"), extra.alias("extra"))
    ok = ((pl.col("request_id") != "") & (pl.col("model") != "") & pl.col("score").is_between(0, 1)
          & ~pl.col("extra")).fill_null(False)
    # the first (provider, request_id, model) graded twice among the good rows before the first bad one
    bad, t = _first_faults(cols, ok, ["provider", "request_id", "model"])
    if t is not None:
        raise _twice(name, t["i"] + 1, t["first"] + 1, t["request_id"], t["model"])
    if bad is not None:
        _row(RequestGrade, record(bad), bad + 1, name)      # raises, naming the column and what is wrong
        return None
    sources = cols["source"].drop_nulls().unique().sort().to_list()
    # the columns themselves, not validated again: the expressions above are RequestGrades' checks (scores in
    # [0, 1], columns of one length); no Python list of 2 M values (building four cost ~1 cpu-s)
    return RequestGrades.model_construct(
        request_id=cols["request_id"], provider=cols["provider"], model=cols["model"], score=cols["score"],
        source="; ".join(sources) or None)


def parse(text: str, name: str = "shadow file") -> list[ShadowScore] | RequestGrades:
    """A shadow-evaluation file (CSV by default; JSON or YAML when `name` says so). The first row's columns pick
    the form: `request_id` → per request, read in bulk into the columns `assumptions.request_grades` holds
    (`RequestGrades`); else per workload × model (`ShadowScore` rows). Any bad row refuses the whole file, naming
    the file, the first bad row (counted from 1, header and blank lines not counted) and its column."""
    is_csv = Path(name).suffix.lower() not in (".json", ".yaml", ".yml")
    frame = _csv_frame(text) if is_csv else None
    if frame is not None and frame.height and "request_id" in frame.columns and frame["request_id"][0] is not None:
        grades = _grades(frame, lambda i: {k: v for k, v in frame.row(i, named=True).items() if v is not None}, name)
        if grades is not None:
            return grades
    records = _records(text, name)
    first = records[0] if isinstance(records[0], dict) else {}
    if "request_id" not in first:
        return _rows(ShadowScore, records, name)
    if not is_csv and (frame := _records_frame(records)) is not None:
        grades = _grades(frame, records.__getitem__, name)
        if grades is not None:
            return grades
    return _columns(_rows(RequestGrade, records, name))


def _columns(rows: list[RequestGrade]) -> RequestGrades:
    sources = sorted({g.source for g in rows if g.source})
    return RequestGrades(request_id=[g.request_id for g in rows], provider=[g.provider for g in rows],
                         model=[g.model for g in rows], score=[g.score for g in rows],
                         source="; ".join(sources) or None)


def load(path: str | Path) -> list[ShadowScore] | RequestGrades:
    path = Path(path)
    try:
        return parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{path}: cannot read: {e}", title=_TITLE) from e


def with_shadow(scenario: Scenario, scores: list[ShadowScore] | RequestGrades) -> Scenario:
    """The scenario with a shadow evaluation: per workload × model rows set `assumptions.measured`, per-request
    grades `assumptions.request_grades` (each replacing what the scenario had of that form)."""
    if isinstance(scores, RequestGrades):
        # the grades are checked (parse, or RequestGrades' own validation) and the rest of the scenario is too:
        # set them in place of a dump and a validation of every grade again (~1 cpu-s for 2 M grades)
        assumptions = scenario.assumptions.model_copy(update={"request_grades": scores})
        return scenario.model_copy(update={"assumptions": assumptions})
    data = scenario.model_dump(mode="json", exclude_none=True)
    measured: dict[str, dict[str, float]] = {}
    for s in scores:
        measured.setdefault(s.workload, {})[s.model] = s.score
    data["assumptions"]["measured"] = measured
    return parse_scenario(data, scenario.name)
