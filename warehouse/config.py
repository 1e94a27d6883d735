"""Attribution rules and price overrides: validated files (YAML, or CSV for overrides) and their tables.

Replacing either rewrites its table and refreshes the derived tables in one transaction, so the `usage` view
reflects the change at once, without a re-ingest.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from warehouse import audit, ledger
from warehouse.db import Warehouse
from warehouse.errors import ConfigError, field_path, parse_problem


RULE_DIMENSIONS = ("project", "api_key", "user_id", "model", "account", "provider")
LABEL_PREFIX = "label:"


class AttributionRule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="a dimension (project, api_key, user_id, model, account, provider) or "
                                   "`label:<name>`: a label the source carries (migration 024), name matched "
                                   "ignoring case")
    pattern: str = Field(min_length=1, description="case-insensitive glob, e.g. 'support-*'")
    team: str | None = None
    workload: str | None = None
    priority: int = 100
    note: str | None = None

    @field_validator("field")
    @classmethod
    def _known_field(cls, value: str) -> str:
        value = value.strip()
        if value.lower() in RULE_DIMENSIONS:
            return value.lower()
        if value[:len(LABEL_PREFIX)].lower() == LABEL_PREFIX:
            name = value[len(LABEL_PREFIX):].strip()
            if not name:
                raise ValueError("`label:` needs a label name, e.g. label:deployment.environment.name")
            return LABEL_PREFIX + name
        raise ValueError(f"{value!r} is not a rule field: use one of {', '.join(RULE_DIMENSIONS)}, or "
                         "label:<name> for a label the source carries (e.g. label:deployment.environment.name)")

    @model_validator(mode="after")
    def _sets_something(self) -> AttributionRule:
        if not self.team and not self.workload:
            raise ValueError("a rule must set team, workload or both")
        return self


class PriceOverride(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field(min_length=1)
    model: str = Field(min_length=1)
    effective_from: dt.date
    effective_to: dt.date | None = None
    input_mtok: Decimal | None = Field(None, ge=0)
    output_mtok: Decimal | None = Field(None, ge=0)
    cache_read_mtok: Decimal | None = Field(None, ge=0)
    cache_write_mtok: Decimal | None = Field(None, ge=0)
    discount_pct: Decimal | None = Field(None, ge=0, le=100)
    note: str | None = None

    @model_validator(mode="after")
    def _prices_or_discount(self) -> PriceOverride:
        if self.input_mtok is None and self.discount_pct is None:
            raise ValueError("give input_mtok (and output_mtok) prices, or a discount_pct")
        if self.effective_to and self.effective_to < self.effective_from:
            raise ValueError("effective_to is before effective_from")
        return self


class ModelAlias(BaseModel):
    """A model name as some file spells it -> the catalog's model id (or a custom model with an override)."""

    model_config = ConfigDict(extra="forbid")

    alias: str = Field(min_length=1)
    model: str = Field(min_length=1)


def read_records(path: Path, key: str) -> list[dict]:
    """The entries of a configuration file: a CSV's rows, or a YAML/JSON list, or the list under `key:`. A file
    without that list is refused, never read as no entries: a wrong file given to `modelmix rules` would
    otherwise replace every rule by nothing (`rules: []` removes them all on purpose)."""
    try:
        if path.suffix.lower() == ".csv":
            with open(path, newline="", encoding="utf-8-sig") as fh:
                return [{k: v for k, v in row.items() if v not in ("", None)} for row in csv.DictReader(fh)]
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror or type(e).__name__})") from e
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: is not UTF-8 text (byte {e.start}); save it as UTF-8") from e
    except (yaml.YAMLError, csv.Error) as e:
        raise ConfigError(f"{path}: cannot be read ({parse_problem(e)})") from e
    if isinstance(doc, dict) and key in doc:
        records = doc[key] if doc[key] is not None else []
    elif isinstance(doc, list):
        records = doc
    else:
        raise ConfigError(f"{path}: has no `{key}:` list, so it is not a {key} file; nothing was changed (to remove "
                          f"every entry on purpose, give `{key}: []`)")
    if not isinstance(records, list):
        raise ConfigError(f"{path}: expected a list under `{key}:`")
    return records


def validate_records(path: Path, records: list[dict], model: type[BaseModel]) -> list:
    """Each entry as `model`. An entry holding none of the model's fields is not this kind of file: it is
    refused without its keys, which are the text of a file ModelMix does not recognise (warehouse.errors)."""
    fields = set(model.model_fields)
    out = []
    for i, rec in enumerate(records, start=1):
        if isinstance(rec, dict) and rec and not fields & {str(k) for k in rec}:
            raise ConfigError(f"{path}: entry {i} has none of the fields of this kind of file "
                              f"({', '.join(sorted(fields))}); is it the right file? Nothing was changed")
        try:
            out.append(model.model_validate(rec))
        except ValidationError as e:
            err = e.errors()[0]
            where = field_path(err["loc"]) or "entry"
            raise ConfigError(f"{path}: entry {i}, field {where}: {err['msg']}") from e
    return out


def load_rules_file(path: str | Path) -> list[AttributionRule]:
    path = Path(path)
    return validate_records(path, read_records(path, "rules"), AttributionRule)


def load_overrides_file(path: str | Path) -> list[PriceOverride]:
    path = Path(path)
    return validate_records(path, read_records(path, "overrides"), PriceOverride)


def load_aliases_file(path: str | Path) -> list[ModelAlias]:
    path = Path(path)
    return validate_records(path, read_records(path, "aliases"), ModelAlias)


RULE_COLUMNS = ("priority", "field", "pattern", "team", "workload", "note")
ALIAS_COLUMNS = ("alias", "model")
OVERRIDE_COLUMNS = ("provider", "model", "effective_from", "effective_to", "input_mtok", "output_mtok",
                    "cache_read_mtok", "cache_write_mtok", "discount_pct", "note")
# the two tables this module may rewrite, with their statements built once from fixed names
_STATEMENTS = {
    table: ("delete from " + table, "insert into " + table + " (" + ", ".join(cols) + ") select * from incoming", cols)
    for table, cols in (("attribution_rules", RULE_COLUMNS), ("price_overrides", OVERRIDE_COLUMNS),
                        ("model_aliases", ALIAS_COLUMNS))
}


_AUDIT_ACTIONS = {"attribution_rules": "rules_edit", "price_overrides": "prices_edit", "model_aliases": "aliases_edit"}


def _replace(cur: duckdb.DuckDBPyConnection, table: str, items: list[BaseModel]) -> None:
    delete, insert, columns = _STATEMENTS[table]
    cur.execute(delete)
    if table == "model_aliases":
        cur.execute("delete from model_map")  # every name is resolved again under the new aliases
    if items:
        frame = pl.DataFrame([i.model_dump(include=set(columns)) for i in items], infer_schema_length=None)
        cur.register("incoming", frame.select(columns).to_arrow())
        cur.execute(insert)
        cur.unregister("incoming")
    ledger.refresh_derived(cur)
    audit.record(cur, _AUDIT_ACTIONS[table], table, {"rows": len(items)})


def replace_rules(wh: Warehouse, rules: list[AttributionRule]) -> None:
    wh.write(_replace, "attribution_rules", rules)


def replace_overrides(wh: Warehouse, overrides: list[PriceOverride]) -> None:
    wh.write(_replace, "price_overrides", overrides)


def replace_aliases(wh: Warehouse, aliases: list[ModelAlias]) -> None:
    seen = [a.alias.lower() for a in aliases]
    if len(seen) != len(set(seen)):
        raise ConfigError("an alias appears twice (aliases are case-insensitive)")
    wh.write(_replace, "model_aliases", [ModelAlias(alias=a.alias.lower(), model=a.model) for a in aliases])
