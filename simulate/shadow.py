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
from pathlib import Path

import yaml
from pydantic import Field, ValidationError, field_validator

from simulate.scenario import Scenario, parse_scenario
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
    """One row of the per-request form."""

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

    @field_validator("model", "provider")
    @classmethod
    def _lower(cls, v: str | None) -> str | None:
        return None if v is None else v.strip().lower()


_TITLE = "Invalid shadow evaluation"


def _records(text: str, name: str) -> list[dict]:
    suffix = Path(name).suffix.lower()
    try:
        if suffix in (".json", ".yaml", ".yml"):
            data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
            records = data if isinstance(data, list) else []
        else:
            records = [{k: v for k, v in r.items() if v not in ("", None)} for r in csv.DictReader(io.StringIO(text))]
    except (json.JSONDecodeError, yaml.YAMLError, csv.Error) as e:
        raise ScenarioError(f"{name}: cannot read: {parse_problem(e)}", title=_TITLE) from e
    if not records:
        raise ScenarioError(f"{name}: no rows (expected columns request_id, model, score[, provider] or workload, "
                            "model, score)", title=_TITLE)
    return records


def parse(text: str, name: str = "shadow file") -> list[ShadowScore] | list[RequestGrade]:
    """Rows of a shadow-evaluation file (CSV by default; JSON or YAML when `name` says so). The first row's
    columns pick the form: `request_id` → per request (`RequestGrade`), else per workload × model."""
    records = _records(text, name)
    first = records[0] if isinstance(records[0], dict) else {}
    model = RequestGrade if "request_id" in first else ShadowScore
    out, seen = [], {}
    for i, r in enumerate(records, start=1):
        try:
            row = model.model_validate(r)
        except ValidationError as e:
            err = e.errors()[0]
            field = field_path(err["loc"]) or "row"
            raise ScenarioError(f"{name}: row {i}, {field}: {err['msg']}", title=_TITLE) from e
        key = ((row.provider, row.request_id, row.model) if model is RequestGrade else (row.workload, row.model))
        if key in seen:
            what = "request_id" if model is RequestGrade else "workload"
            raise ScenarioError(f"{name}: row {i}, {what}: {key[-2]!r} on model {row.model!r} is graded twice "
                                f"(also row {seen[key]})", title=_TITLE)
        seen[key] = i
        out.append(row)
    return out


def load(path: str | Path) -> list[ShadowScore] | list[RequestGrade]:
    path = Path(path)
    try:
        return parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, UnicodeDecodeError) as e:
        raise ScenarioError(f"{path}: cannot read: {e}", title=_TITLE) from e


def with_shadow(scenario: Scenario, scores: list[ShadowScore] | list[RequestGrade]) -> Scenario:
    """The scenario with a shadow evaluation: per workload × model rows set `assumptions.measured`, per-request
    rows `assumptions.request_grades` (each replacing what the scenario had of that form)."""
    data = scenario.model_dump(mode="json", exclude_none=True)
    if scores and isinstance(scores[0], RequestGrade):
        sources = sorted({g.source for g in scores if g.source})
        data["assumptions"]["request_grades"] = {
            "request_id": [g.request_id for g in scores], "provider": [g.provider for g in scores],
            "model": [g.model for g in scores], "score": [g.score for g in scores],
            **({"source": "; ".join(sources)} if sources else {})}
    else:
        measured: dict[str, dict[str, float]] = {}
        for s in scores:
            measured.setdefault(s.workload, {})[s.model] = s.score
        data["assumptions"]["measured"] = measured
    return parse_scenario(data, scenario.name)
