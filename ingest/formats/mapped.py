"""`mapped-csv`: any CSV, Parquet, JSON or JSON-lines file plus a small YAML mapping file, so a company's own
gateway or agent-harness logs load without code.

The mapping names, for source columns, the canonical column each fills; optional multipliers per canonical
numeric column (`input_tokens: 1000` for thousands of tokens, `cost_usd: 0.01` for cents); the time format
(`iso`, `unix_s`, `unix_ms` or a strptime pattern); constant values (`provider: acme-gateway`); the column that
is the row's own id; whether input counts include cache reads/writes; whether output counts leave out the
reasoning (thinking) tokens reported beside them; optionally the column holding the session, conversation or
trace id (`session_id`, for the simulator's whole conversations); columns (or constants) that are labels,
`label:<name>` (migration 024: attribution rules `field: label:<name>` match them). In a JSON file a source name may be a dotted path
to a nested key (`usage.input_tokens`, `usageMetadata.thoughtsTokenCount`); every JSON value is read as text, so
one record of another type is that record's reject. See docs/formats.md for the file.

The adapter SQL is generated here from the validated mapping, never from raw user text: source column names are
double-quoted identifiers (quotes doubled), multipliers are numbers, the time format is a whitelisted set of
strptime codes and plain separators, constants are SQL string literals with quotes doubled and no control
characters. The framework then casts and validates as for every format. Never auto-detected: pass
`modelmix ingest --mapping FILE`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

import sql
from ingest.formats.base import CANONICAL_COLUMNS, TOKEN_COLUMNS, Format, Sample
from warehouse.errors import IngestError, parse_problem, quote

FORMAT_ID = "mapped-csv"
# session_id: the conversation, session or trace id the file logs (migration 019: the simulator's `unit: session`
# and its cache loss on a switch); optional, from a column only
MAPPABLE = (*(c for c in CANONICAL_COLUMNS if c not in ("list_cost_usd", "source_format", "ingest_id")), "session_id")
NUMERIC = ("requests", *TOKEN_COLUMNS, "cost_usd")
TEXT = tuple(c for c in MAPPABLE if c not in NUMERIC and c != "ts")
KEYS = {"columns", "scale", "time_format", "constants", "key", "kind", "input_includes_cache",
        "output_excludes_reasoning"}
# strptime codes a time format may use; anything else but these separators is refused
TIME_CODES = set("YymdbBHIMSfzpjea")
TIME_LITERALS = set(" -/:.,T")
# a column or constant mapped to `label:<name>` fills that label (usage_raw.labels, migration 024)
LABEL_PREFIX = "label:"


class MappingError(IngestError):
    title = "Mapping file rejected"


@dataclass(frozen=True)
class MappedFormat(Format):
    """A format whose adapter SQL is generated from a mapping file instead of read from sql/adapters/."""

    adapter_sql: str = ""

    @property
    def sql(self) -> str:
        return self.adapter_sql

    def missing_columns(self, sample: Sample) -> list[str]:
        if sample.container != "json":
            return super().missing_columns(sample)
        # JSON: the sample's keys are every key name in the head, nested ones too; a dotted name is there when each
        # of its parts is (or the dotted name itself is a key)
        have = sample.lower
        return [c for c in self.required
                if c.lower() not in have and not all(part.lower() in have for part in c.split("."))]


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(where: str, value: object) -> str:
    text = str(value)
    if any(ord(ch) < 32 for ch in text):
        raise MappingError(f"{where}: control characters are not allowed in a constant")
    return sql.literal(text)


def _number(where: str, value: object) -> Decimal:
    if isinstance(value, bool):
        raise MappingError(f"{where}: scale must be a number, not {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise MappingError(f"{where}: scale must be a number, not {value!r}") from None
    if not number.is_finite() or number <= 0:
        raise MappingError(f"{where}: scale must be a positive number, not {value!r}")
    return number


def _time_format(value: object) -> str:
    text = str(value)
    if text in ("iso", "unix_s", "unix_ms"):
        return text
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "%":
            if i + 1 >= len(text) or text[i + 1] not in TIME_CODES:
                raise MappingError(f"time_format: {text!r} uses an unsupported code; allowed: iso, unix_s, unix_ms, "
                                   f"or %{' %'.join(sorted(TIME_CODES))} with separators {''.join(sorted(TIME_LITERALS))!r}")
            i += 2
            continue
        if ch not in TIME_LITERALS:
            raise MappingError(f"time_format: {text!r} contains {ch!r}; only strptime codes and the separators "
                               f"{''.join(sorted(TIME_LITERALS))!r} are allowed")
        i += 1
    if "%" not in text:
        raise MappingError(f"time_format: {text!r} is not iso, unix_s, unix_ms or a strptime pattern")
    return text


def _label(where: str, target: object) -> str | None:
    """The label name of a `label:<name>` target (a non-blank name without control characters), else None."""
    text = str(target)
    if not text.lower().startswith(LABEL_PREFIX):
        return None
    name = text[len(LABEL_PREFIX):].strip()
    if not name or any(ord(ch) < 32 for ch in name):
        raise MappingError(f"{where}: {LABEL_PREFIX} needs a label name, e.g. label:environment")
    return name


def _canonical(where: str, name: object) -> str:
    if name not in MAPPABLE:
        raise MappingError(f"{where}: {name!r} is not a canonical column; known: {', '.join(MAPPABLE)}")
    return str(name)


def load_mapping(path: str | Path) -> MappedFormat:
    """Read and validate a mapping file; every problem is a MappingError naming the key."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise MappingError(f"{path}: cannot be read ({e.strerror})") from e
    except yaml.YAMLError as e:
        raise MappingError(f"{path}: is not valid YAML ({parse_problem(e)})") from e
    return build(doc, name=str(path))


def build(doc: object, name: str = "mapping") -> MappedFormat:
    if not isinstance(doc, dict):
        raise MappingError(f"{name}: must be a YAML mapping with a `columns` key")
    if "columns" not in doc:
        # not a mapping file: its keys are the text of an unrecognised file, never shown (warehouse.errors)
        raise MappingError(f"{name}: is not a mapping file: it has no `columns` key (its {len(doc)} top-level "
                           f"key(s) are not shown); known keys: {', '.join(sorted(KEYS))}")
    for k in doc:
        if k not in KEYS:
            raise MappingError(f"{name}: unknown key {quote(k)}; known: {', '.join(sorted(KEYS))}")
    columns = doc.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise MappingError(f"{name}: `columns` must map source columns to canonical columns")
    source_of: dict[str, str] = {}
    labels: dict[str, str] = {}     # label name -> SQL of its value (a quoted source column or a literal)
    for source, target in columns.items():
        if (name := _label(f"columns.{source}", target)) is not None:
            if name in labels:
                raise MappingError(f"columns.{source}: label {name!r} is already filled by another column")
            labels[name] = _ident(str(source))
            source_of[f"{LABEL_PREFIX}{name}"] = str(source)
            continue
        target = _canonical(f"columns.{source}", target)
        if target in source_of:
            raise MappingError(f"columns.{source}: {target!r} is already filled by column {source_of[target]!r}")
        source_of[target] = str(source)
    scale = {}
    for target, value in (doc.get("scale") or {}).items():
        target = _canonical(f"scale.{target}", target)
        if target not in NUMERIC:
            raise MappingError(f"scale.{target}: only numeric columns ({', '.join(NUMERIC)}) can be scaled")
        scale[target] = _number(f"scale.{target}", value)
    constants = {}
    for target, value in (doc.get("constants") or {}).items():
        if (name := _label(f"constants.{target}", target)) is not None:
            if name in labels:
                raise MappingError(f"constants.{target}: label {name!r} is also mapped from a column")
            labels[name] = _literal(f"constants.{target}", value)
            continue
        target = _canonical(f"constants.{target}", target)
        if target in source_of:
            raise MappingError(f"constants.{target}: also mapped from column {source_of[target]!r}")
        if target == "ts":
            raise MappingError("constants.ts: the time must come from a column")
        if target == "session_id":
            raise MappingError("constants.session_id: a session id must come from a column (one constant would make "
                               "every row of the file one conversation)")
        if target in NUMERIC:
            _number(f"constants.{target}", value)
        constants[target] = value
    for needed in ("ts", "model", "provider"):
        if needed not in source_of and needed not in constants:
            raise MappingError(f"{name}: nothing fills {needed!r}: map a column to it"
                               + ("" if needed == "ts" else " or give it under `constants`"))
    time_format = _time_format(doc.get("time_format", "iso"))
    key = doc.get("key")
    kind = doc.get("kind", "telemetry")
    if kind not in ("billing", "telemetry"):
        raise MappingError(f"kind: must be billing or telemetry, not {kind!r}")
    includes_cache = doc.get("input_includes_cache", False)
    if not isinstance(includes_cache, bool):
        raise MappingError(f"input_includes_cache: must be true or false, not {includes_cache!r}")
    excludes_reasoning = doc.get("output_excludes_reasoning", False)
    if not isinstance(excludes_reasoning, bool):
        raise MappingError(f"output_excludes_reasoning: must be true or false, not {excludes_reasoning!r}")
    if excludes_reasoning and not ("output_tokens" in source_of and "reasoning_tokens" in source_of):
        raise MappingError("output_excludes_reasoning: map both output_tokens and reasoning_tokens to columns")

    canonical = {t: s for t, s in source_of.items() if not t.startswith(LABEL_PREFIX)}
    sql = _adapter_sql(canonical, scale, constants, time_format, None if key is None else str(key), includes_cache,
                       excludes_reasoning, labels)
    required = tuple(dict.fromkeys([*source_of.values(), *([] if key is None else [str(key)])]))
    raw = (("input_tokens",) if includes_cache and "input_tokens" in canonical else ()) + \
        (("output_tokens",) if excludes_reasoning else ())
    return MappedFormat(
        id=FORMAT_ID, kind=kind, reads="any CSV, Parquet, JSON or JSON lines, mapped by a YAML mapping file",
        containers=("csv", "parquet", "json"), required=required, detect=lambda _s: False, keyed=key is not None,
        raw=raw, sources=dict(canonical), adapter_sql=sql, json_as_text=True,
        sessions="session_id" in source_of, labels=bool(labels),
    )


def _adapter_sql(source_of: dict[str, str], scale: dict[str, Decimal], constants: dict[str, object],
                 time_format: str, key: str | None, includes_cache: bool, excludes_reasoning: bool = False,
                 labels: dict[str, str] | None = None) -> str:
    cells = [f"{_ident(src)} as c_{target}" for target, src in source_of.items()]
    labels = labels or {}
    # each label's value: its source column (a quoted identifier) or its constant (a quoted literal), as text
    cells += [f"cast({expr} as varchar) as c_label_{i}" for i, expr in enumerate(labels.values())]
    if key is not None:
        cells.append(f"{_ident(key)} as c__key")

    def value(target: str) -> str:
        if target in source_of:
            col = f"c_{target}"
            if target in scale and target == "cost_usd":
                return (f"coalesce(cast(try_cast({col} as decimal(38, 12)) * {scale[target]:f} as varchar), "
                        f"nullif(trim({col}), ''))")
            if target in scale:
                return (f"coalesce(cast(round(try_cast({col} as double) * {scale[target]:f}) as varchar), "
                        f"nullif(trim({col}), ''))")
            return col
        if target in constants:
            return _literal(f"constants.{target}", constants[target])
        return {"granularity": "'request'"}.get(target, "null")

    if "ts" in source_of:
        ts = {
            "iso": "c_ts",
            "unix_s": "coalesce(cast(make_timestamp(cast(round(try_cast(c_ts as double) * 1000000) as bigint)) "
                      "as varchar), c_ts)",
            "unix_ms": "coalesce(cast(make_timestamp(cast(round(try_cast(c_ts as double) * 1000) as bigint)) "
                       "as varchar), c_ts)",
        }.get(time_format, f"coalesce(cast(try_strptime(trim(c_ts), {_literal('time_format', time_format)}) "
                           f"as varchar), c_ts)")
    selects = ["_row", "c__key as _key" if key is not None else "null as _key", f"{ts} as ts"]
    for target in MAPPABLE:
        if target == "ts":
            continue
        expr = value(target)
        if target == "input_tokens" and includes_cache and "input_tokens" in source_of:
            selects.append(f"{expr} as _raw_input_tokens")
            expr = (f"try_cast({expr} as double) - coalesce(try_cast({value('cache_read_tokens')} as double), 0) "
                    f"- coalesce(try_cast({value('cache_write_tokens')} as double), 0)")
        if target == "output_tokens" and excludes_reasoning:
            # thinking reported beside the output (Gemini thoughtsTokenCount is not in candidatesTokenCount) is
            # billed as output: output_tokens includes it, reasoning_tokens holds it
            selects.append(f"{expr} as _raw_output_tokens")
            expr = (f"coalesce(try_cast({expr} as double), 0) "
                    f"+ coalesce(try_cast({value('reasoning_tokens')} as double), 0)")
        selects.append(f"{expr} as {target}")
    if labels:
        pairs = ", ".join(f"{{'k': {sql.literal(name)}, 'v': c_label_{i}}}" for i, name in enumerate(labels))
        # macro label_map (migration 024): blank values dropped, keys sorted, null when none is left
        selects.append(f"label_map([{pairs}]) as labels")
    body = ",\n        ".join(selects)
    cell_list = ",\n        ".join(cells)
    return f"""-- mapped-csv: generated from a validated mapping file (ingest/formats/mapped.py).
-- A JSON source is read as text columns named by the mapping (dotted names reach nested keys).
-- Grain: one row per source row. Source columns are quoted identifiers; multipliers and the time format are
-- validated before they are written here; constants are quoted literals.
with cells as (
    select
        _row,
        {cell_list}
    from src
),
final as (
    select
        {body}
    from cells
)
select * from final
"""
