"""Quality priors: the shipped workload × model table (quality_defaults.yaml, each block with its benchmark,
source and date) merged with a scenario's `assumptions.quality` overrides, flattened to bind lists."""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

import sql
from warehouse import audit
from warehouse.db import execute

if TYPE_CHECKING:
    from warehouse.db import Warehouse

DEFAULTS = Path(__file__).parent / "quality_defaults.yaml"


@cache
def defaults() -> dict[str, dict[str, Any]]:
    """workload -> {benchmark, source, date, scores: {model: score}}."""
    data = yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))
    return {str(w).lower(): block for w, block in data.items()}


def table(overrides: dict[str, dict[str, float]],
          stored: list[tuple[str, str, float]] = (),
          measured: dict[str, dict[str, float]] | None = None) -> dict[str, dict[str, float]]:
    """workload -> model -> score: the shipped defaults, then the database's `quality_scores` rows, then the
    scenario's overrides, then its shadow-evaluation scores (`measured`); a later layer wins model by model."""
    out = {w: {str(m).lower(): float(s) for m, s in block["scores"].items()} for w, block in defaults().items()}
    for workload, model, score in stored:
        out.setdefault(workload.lower(), {})[model.lower()] = float(score)
    for workload, models in overrides.items():
        out.setdefault(workload, {}).update(models)
    for workload, models in (measured or {}).items():
        out.setdefault(workload, {}).update(models)
    return out


def stored_scores(wh: Warehouse) -> list[tuple[str, str, float]]:
    return list(wh.sql("select workload, model, score from quality_scores").iter_rows())


def bind_lists(overrides: dict[str, dict[str, float]], stored: list[tuple[str, str, float]] = (),
               measured: dict[str, dict[str, float]] | None = None) -> dict[str, list]:
    """The merged score table as bind lists; `q_measured` marks scores from a shadow evaluation."""
    measured = measured or {}
    rows = [(w, m, s) for w, ms in table(overrides, stored, measured).items() for m, s in ms.items()]
    return {"q_workload": [r[0] for r in rows], "q_model": [r[1] for r in rows], "q_score": [r[2] for r in rows],
            "q_measured": [r[1] in measured.get(r[0], {}) for r in rows]}


def sources(overrides: dict[str, dict[str, float]], stored: list[tuple[str, str, float]] = ()) -> list[dict[str, str]]:
    """Where each block's figures come from (for the result's `quality_basis`)."""
    out = [{"workload": w, "benchmark": b["benchmark"], "source": b["source"], "date": str(b["date"])}
           for w, b in defaults().items()]
    for w in sorted({row[0] for row in stored}):
        out.append({"workload": w, "benchmark": "stored", "source": "table quality_scores", "date": ""})
    for w in overrides:
        out.append({"workload": w, "benchmark": "scenario assumption", "source": "assumptions.quality", "date": ""})
    return out


class QualityScore(BaseModel):
    """One saved quality score (table quality_scores): measured or agreed figures that win over the shipped
    defaults for every replay."""

    model_config = ConfigDict(extra="forbid")

    workload: str = Field(min_length=1, description="lower-case workload, or '*' for any")
    model: str = Field(min_length=1, description="lower-case catalog model id")
    score: float = Field(ge=0, le=1)
    source: str | None = None
    as_of: dt.date | None = None

    @field_validator("workload", "model")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()


def _replace(cur: Any, frame: pl.DataFrame) -> None:  # cur: the writer's duckdb cursor
    cur.register("incoming", frame.to_arrow())
    try:
        execute(cur, sql.load("writes/replace_quality_scores"))
    finally:
        cur.unregister("incoming")
    audit.record(cur, "quality_edit", "quality_scores", {"rows": frame.height})


def replace_scores(wh: Warehouse, items: list[QualityScore]) -> int:
    """The saved quality table becomes exactly `items` (one write transaction)."""
    rows = pl.DataFrame([i.model_dump() for i in items],
                        schema={"workload": pl.String, "model": pl.String, "score": pl.Float64,
                                "source": pl.String, "as_of": pl.Date})
    wh.write(_replace, rows)
    return len(items)
