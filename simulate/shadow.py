"""Shadow evaluation: quality measured on your own traffic replaces the benchmark priors for the requests it
covers, and the result says which part of its quality figure is measured and which assumed.

A shadow-evaluation file grades a sample of logged prompts re-run on candidate models (routing.md §1.1: the
counterfactual q[i, j] of an enterprise log). ModelMix takes its per workload × model means:

    workload,model,score[,requests,source]        CSV, or JSON/YAML: a list of such objects
    extraction,gpt-4o,0.93,400,in-house grader 2026-10
    extraction,gpt-4o-mini,0.90,400,in-house grader 2026-10

`workload` may be `*` (every workload); `score` in [0, 1]; `requests` (graded sample size) and `source` are
kept for the record. Loading it into a scenario (`with_shadow`) sets `assumptions.measured`, which wins over
every other score; a replayed part counts as *measured* when all the scores its figures use come from it (a
moved part: the source's and the target's in one workload block; a part that stays: its own model's; a
`quality_ratio` target stays assumed). Per-request grades are not supported: the ledger keeps no request id
that a grader could echo (only a hashed natural key), so the unit is the workload × model mean.
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


class ShadowScore(Strict):
    workload: str = Field(min_length=1)
    model: str = Field(min_length=1)
    score: float = Field(ge=0, le=1)
    requests: int | None = Field(None, ge=0, description="graded sample size")
    source: str | None = None

    @field_validator("workload", "model")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()


def parse(text: str, name: str = "shadow file") -> list[ShadowScore]:
    """Rows of a shadow-evaluation file (CSV by default; JSON or YAML when `name` says so)."""
    suffix = Path(name).suffix.lower()
    try:
        if suffix in (".json", ".yaml", ".yml"):
            data = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
            records = data if isinstance(data, list) else []
        else:
            records = [{k: v for k, v in r.items() if v not in ("", None)} for r in csv.DictReader(io.StringIO(text))]
    except (json.JSONDecodeError, yaml.YAMLError, csv.Error) as e:
        raise ScenarioError(f"{name}: cannot read: {e}", title="Invalid shadow evaluation") from e
    if not records:
        raise ScenarioError(f"{name}: no rows (expected columns workload, model, score)",
                            title="Invalid shadow evaluation")
    out = []
    for i, r in enumerate(records, start=1):
        try:
            out.append(ShadowScore.model_validate(r))
        except ValidationError as e:
            err = e.errors()[0]
            field = ".".join(str(x) for x in err["loc"])
            raise ScenarioError(f"{name}: row {i}, {field}: {err['msg']}", title="Invalid shadow evaluation") from e
    return out


def load(path: str | Path) -> list[ShadowScore]:
    path = Path(path)
    try:
        return parse(path.read_text(encoding="utf-8"), str(path))
    except OSError as e:
        raise ScenarioError(f"{path}: cannot read: {e}", title="Invalid shadow evaluation") from e


def with_shadow(scenario: Scenario, scores: list[ShadowScore]) -> Scenario:
    """The scenario with `assumptions.measured` set from the shadow scores (replacing earlier ones)."""
    measured: dict[str, dict[str, float]] = {}
    for s in scores:
        measured.setdefault(s.workload, {})[s.model] = s.score
    data = scenario.model_dump(mode="json", exclude_none=True)
    data["assumptions"]["measured"] = measured
    return parse_scenario(data, scenario.name)
