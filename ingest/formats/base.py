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
    keyed: bool = False                 # rows carry the source's own unique id in `_key`
    raw: tuple[str, ...] = ()           # computed canonical columns whose source text comes as `_raw_<column>`
    sources: dict[str, str] = field(default_factory=dict)
    csv_options: dict[str, object] = field(default_factory=dict)

    @property
    def sql(self) -> str:
        return sql.load(f"adapters/{self.id.replace('-', '_')}")

    def missing_columns(self, sample: Sample) -> list[str]:
        have = sample.lower
        return [c for c in self.required if c.lower() not in have]


def has_all(*names: str) -> Callable[[Sample], bool]:
    wanted = {n.lower() for n in names}
    return lambda s: wanted <= s.lower
