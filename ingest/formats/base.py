"""What a source format is: how to stage it, how to recognise it, and the SQL that maps it to canonical columns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Literal

import sql

Container = Literal["csv", "json", "parquet"]

CANONICAL_COLUMNS = (
    "ts", "granularity", "provider", "model", "model_raw", "account", "project", "api_key", "user_id", "team",
    "workload", "operation", "service_tier", "requests", "input_tokens", "cache_read_tokens",
    "cache_write_tokens", "output_tokens", "reasoning_tokens", "cost_usd", "list_cost_usd", "source_format",
    "ingest_id",
)
TOKEN_COLUMNS = ("input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens", "reasoning_tokens")


@dataclass(frozen=True)
class Sample:
    """What detection sees of a file: its container and the column names (CSV header, JSON keys, Parquet)."""

    container: Container
    columns: frozenset[str]
    head: str = ""  # the first few KB of text, for formats that need more than column names
    delimiter: str = ","    # CSV: the delimiter found in the head (comma, tab, semicolon or pipe)
    pad: bool = False       # CSV: some records have empty cells past the header's width (read with null padding)
    repeated: tuple[str, ...] = ()  # CSV: header names given more than once (refused once the format is known)

    @property
    def lower(self) -> frozenset[str]:
        return frozenset(c.lower() for c in self.columns)


@dataclass(frozen=True)
class Format:
    """A source format: module metadata plus `sql/adapters/<id>.sql`, a select over `src` (the staged file,
    every value text, `_row` the 1-based data row) returning the canonical columns of `usage_raw` as typed
    or text values, plus `_key` (the source's own id, or null to key on content). The framework casts and
    validates; a failed value is reported under the file column named in `sources`."""

    id: str
    kind: Literal["billing", "telemetry"]
    reads: str
    containers: tuple[Container, ...]
    required: tuple[str, ...]
    detect: Callable[[Sample], bool]
    optional: tuple[str, ...] = ()      # source columns added as null when the file lacks them
    keyed: bool = False                 # rows carry the source's own unique id in `_key` (a request id): dedupe by
                                        # it; else the file is a statement of its window (docs/design.md)
    parts: bool = False                 # a cloud billing export written as several part files: the files of one
                                        # load (folder, zip, multi-file upload) are parts of one statement
    family: str | None = None           # formats that render the same statement (a dashboard CSV and its API):
                                        # a later one of either replaces the other's overlapping rows
    raw: tuple[str, ...] = ()           # computed canonical columns whose source text comes as `_raw_<column>`
    sources: dict[str, str] = field(default_factory=dict)
    csv_options: dict[str, object] = field(default_factory=dict)
    # the rows the adapter keeps, for the message when a file holds none ("501 rows, none for an AI service …")
    selects: str = "with usage"
    data_rows: str = "true"     # SQL over `src`: a data row (not a footer), for that message's row count
    # other header spellings of a column the SQL names: {sql name: (spelling, ...)}, matched ignoring case, spaces,
    # hyphens and underscores; a file column spelt so is renamed on read when the SQL name itself is absent
    aliases: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # JSON records are flat objects read as text (key -> its value as text, an object or array as its JSON text),
    # so one record of another type (a string where the others have dates, an array for an object) is that
    # record's problem, judged by validation, not the whole file's; dotted names (`usage.input_tokens`) reach in
    json_as_text: bool = False
    # the SQL returns `session_id`: the session, trace or conversation id the source logs (migration 019); a
    # format without it stages null
    sessions: bool = False
    # the SQL returns `labels`: the source's key/value metadata as a MAP(VARCHAR, VARCHAR) built with the macro
    # label_map (migration 024: OTel resource and span attributes, FOCUS Tags, GCP labels); a format without it
    # stages null
    labels: bool = False

    @property
    def sql(self) -> str:
        return sql.load(f"adapters/{self.id.replace('-', '_')}")

    def renames(self, sample: Sample) -> dict[str, str]:
        """{file column: SQL name} for the columns the file spells another documented way."""
        have = {c.lower() for c in sample.columns}
        # a column the SQL reads under its own name is never renamed to another
        own = {c.lower() for c in (*self.required, *self.optional, *self.aliases)}
        by_key = {}
        for c in sorted(sample.columns):
            if c.lower() not in own:
                by_key.setdefault(_spelling_key(c), c)
        out: dict[str, str] = {}
        for name, spellings in self.aliases.items():
            if name.lower() in have:
                continue
            for s in (name, *spellings):
                found = by_key.get(_spelling_key(s))
                if found is not None and found not in out:
                    out[found] = name
                    break
        return out

    def missing_columns(self, sample: Sample) -> list[str]:
        have = sample.lower | {c.lower() for c in self.renames(sample).values()}
        return [c for c in self.required if c.lower() not in have]


def _spelling_key(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def has_all(*names: str) -> Callable[[Sample], bool]:
    wanted = {n.lower() for n in names}
    return lambda s: wanted <= s.lower
