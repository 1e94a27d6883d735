"""The ledger's data checks: every `sql/checks/assert_*.sql` returns the rows that break a promise (none is the
pass). `modelmix verify` and the test suite run them all."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

import sql
from warehouse.db import Warehouse


@dataclass(frozen=True)
class CheckResult:
    name: str             # the check's file, e.g. checks/assert_ingest_conservation
    bad: pl.DataFrame     # the offending rows

    @property
    def ok(self) -> bool:
        return self.bad.is_empty()

    @property
    def purpose(self) -> str:
        """The first line of the file's header comment, after the check's name."""
        first = sql.load(self.name).lstrip().splitlines()[0]
        return first.lstrip("- ").split(":", 1)[-1].strip()


def names() -> list[str]:
    return [n for n in sql.names() if n.startswith("checks/assert_")]


def run_all(wh: Warehouse) -> list[CheckResult]:
    return [CheckResult(name, wh.sql(sql.load(name))) for name in names()]
