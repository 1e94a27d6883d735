"""The Attribution & quality page's data: the attribution rules as an editable table (validated through
warehouse.config, saved with `replace_rules`; a field is a dimension or `label:<name>`, with the labels the
ledger carries listed), what each rule decides under first-match semantics, how much
spend is still unassigned, and the workload × model quality table (simulate's shipped defaults with their
sources, plus the saved `quality_scores` that win over them). No streamlit here.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

from dashboard.services import QueryRunner, money_as_float
from dashboard.services.editing import load_upload, table_entries
from simulate import quality
from warehouse import config
from warehouse.config import AttributionRule
from warehouse.db import Warehouse
from warehouse.errors import ConfigError

QUERIES = {
    "rules": "attribution_rules",
    "matches": "attribution_rule_matches",
    "coverage": "attribution_coverage",
    "quality": "quality_scores",
    "labels": "attribution_label_names",
}
RULE_FIELDS = list(config.RULE_DIMENSIONS)
RULE_COLUMNS = ["priority", "field", "pattern", "team", "workload", "note"]
QUALITY_COLUMNS = ["workload", "model", "score", "source", "as_of"]
SAMPLE_SIZE = 5


# --- rules ----------------------------------------------------------------------------------------------------
def rule_table(run: QueryRunner) -> pl.DataFrame:
    """The rules as the editable table, in the order they are tried."""
    return run(QUERIES["rules"]).select(RULE_COLUMNS)


def label_names(run: QueryRunner) -> pl.DataFrame:
    """The labels the ledger's usage carries (OTel resource/span attributes, FOCUS Tags, GCP labels): name, rule
    field (`label:<name>`), number of values, up to five of them, spend of the rows that carry it."""
    return money_as_float(run(QUERIES["labels"]))


def rule_fields(labels: pl.DataFrame, rules: pl.DataFrame) -> list[str]:
    """The choices of the rules table's Field column: the six dimensions, a `label:<name>` per label in the
    ledger, and any label field a saved rule names that the ledger does not carry (yet)."""
    fields = RULE_FIELDS + labels["field"].to_list()
    return fields + sorted(set(rules["field"].to_list()) - set(fields))


def rule_entries(frame: Any) -> list[AttributionRule]:
    """The edited rules validated through `AttributionRule`; errors name the row and the field. Table order is
    kept: among rules of equal priority, the upper one is tried first."""
    return table_entries(frame, AttributionRule, RULE_COLUMNS, "Invalid attribution rules")


def save_rules(wh: Warehouse, frame: Any) -> int:
    """Replace the rules with the edited table (validated first; nothing is written on an error)."""
    rules = rule_entries(frame)
    config.replace_rules(wh, rules)
    return len(rules)


def load_rules_file(wh: Warehouse, filename: str, data: bytes) -> int:
    """Replace the rules with an uploaded YAML file (a `rules:` list)."""
    rules = load_upload(filename, data, config.load_rules_file, "Invalid rules file")
    config.replace_rules(wh, rules)
    return len(rules)


def _sample(values: list[str] | None, total: int) -> str:
    values = values or []
    more = total - len(values)
    return ", ".join(values) + (f" (+{more:,} more)" if more > 0 else "")


def rule_matches(run: QueryRunner, start: dt.date, end: dt.date) -> pl.DataFrame:
    """Per rule: rows it matches, rows/requests/spend it decides (first match wins per field), its status
    (decides, partly shadowed, shadowed, no match), the rules that win where it is shadowed, and samples of the
    projects and keys it decides."""
    df = money_as_float(run(QUERIES["matches"], start=start, end=end))
    return df.with_columns(
        pl.Series("projects_sample", [_sample(v, n) for v, n in zip(df["sample_projects"].to_list(), df["projects"])],
                  dtype=pl.String),
        pl.Series("api_keys_sample", [_sample(v, n) for v, n in zip(df["sample_api_keys"].to_list(), df["api_keys"])],
                  dtype=pl.String),
        pl.Series("shadowed_by_text", [", ".join(f"#{p}" for p in (v or [])) for v in df["shadowed_by"].to_list()],
                  dtype=pl.String),
    )


def coverage(run: QueryRunner, start: dt.date, end: dt.date) -> pl.DataFrame:
    """How the range's team was decided: rows 'rule', 'file', 'unassigned' with spend and share."""
    return money_as_float(run(QUERIES["coverage"], start=start, end=end))


def unassigned(cov: pl.DataFrame) -> dict[str, float]:
    """The unassigned spend, its share of the range's spend and the range's total, from `coverage`."""
    total = float(cov["spend_usd"].sum()) if cov.height else 0.0
    row = cov.filter(pl.col("decided_by") == "unassigned")
    spend = float(row["spend_usd"][0]) if row.height else 0.0
    return {"spend_usd": spend, "share": spend / total if total else 0.0, "total_usd": total,
            "rows": int(row["row_count"][0]) if row.height else 0}


# --- quality --------------------------------------------------------------------------------------------------
def quality_defaults() -> pl.DataFrame:
    """simulate's shipped defaults: one row per workload block and model, with the block's benchmark, source
    and date."""
    rows = [{"workload": w, "model": str(m).lower(), "score": float(s), "benchmark": b["benchmark"],
             "source": b["source"], "date": str(b["date"])}
            for w, b in quality.defaults().items() for m, s in b["scores"].items()]
    return pl.DataFrame(rows, schema={"workload": pl.String, "model": pl.String, "score": pl.Float64,
                                      "benchmark": pl.String, "source": pl.String, "date": pl.String})


def quality_table(run: QueryRunner) -> pl.DataFrame:
    return run(QUERIES["quality"]).select(QUALITY_COLUMNS)


def quality_entries(frame: Any) -> list[quality.QualityScore]:
    items = table_entries(frame, quality.QualityScore, QUALITY_COLUMNS, "Invalid quality scores")
    seen: dict[tuple[str, str], int] = {}
    for i, q in enumerate(items, start=1):
        key = (q.workload, q.model)
        if key in seen:
            raise ConfigError(f"row {i}, field model: {q.workload} × {q.model} is already on row {seen[key]}",
                              title="Invalid quality scores")
        seen[key] = i
    return items


def save_quality(wh: Warehouse, frame: Any) -> int:
    """Replace the saved quality table with the edited one (validated first; nothing written on an error).
    The simulator reads it on every replay (simulate.quality.stored_scores)."""
    return quality.replace_scores(wh, quality_entries(frame))
