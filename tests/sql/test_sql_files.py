"""Every .sql file is loaded and run: queries and checks against the sample ledger, the rest by the code that
owns them (each must be referenced). Checks (`sql/checks/assert_*.sql`) must return no rows."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

import sql
from ingest.formats import FORMATS

ROOT = Path(__file__).resolve().parents[2]
PARAM = re.compile(r"\$([a-z_]+)")
# a value for every parameter name a query may take; a new parameter needs an entry here
PARAM_VALUES = {
    "start": dt.date(2025, 1, 1), "end": dt.date(2026, 12, 31), "limit": 10, "ingest_id": 1, "model": "gpt-4o",
    "on": dt.datetime(2026, 6, 1), "provider": None, "catalog_provider": None, "month_start": dt.date(2026, 10, 1),
    "month_end": dt.date(2026, 10, 31), "prev_start": dt.date(2026, 9, 1), "prev_end": dt.date(2026, 9, 30),
    "top_n": 8, "as_of": dt.date(2026, 10, 31), "bucket": "week",
    "dimension": "team", "group_value": "unassigned", "search": "gpt", "email": None, "actor": None, "action": None,
    "coarse": True, "people": True, "ts_from": dt.datetime(2025, 1, 1), "ts_to": dt.datetime(2027, 1, 1),
    "filters": {d: [] for d in ("provider", "model", "team", "project", "api_key", "user_id", "workload",
                                "operation", "service_tier")},
}


def _names(prefix: str) -> list[str]:
    return [n for n in sql.names() if n.startswith(prefix)]


def _params(text: str) -> dict:
    wanted = set(PARAM.findall(re.sub(r"--[^\n]*", "", text)))
    missing = wanted - PARAM_VALUES.keys()
    assert not missing, f"add test values for parameters {missing} to PARAM_VALUES"
    return {k: PARAM_VALUES[k] for k in wanted}


@pytest.mark.parametrize("name", _names("queries/"))
def test_query_runs_on_sample_ledger(sample_wh, name):
    text = sql.load(name)
    assert text.lstrip().startswith("--"), f"{name}: starts with a header comment (purpose, grain, params)"
    frame = sample_wh.sql(text, **_params(text))
    assert frame.width > 0


@pytest.mark.parametrize("name", _names("checks/"))
def test_data_check_returns_no_rows(sample_wh, name):
    assert Path(name).name.startswith("assert_")
    bad = sample_wh.sql(sql.load(name))
    assert bad.is_empty(), f"{name} found:\n{bad}"


def test_every_other_sql_file_is_used_by_code():
    code = "\n".join(p.read_text(encoding="utf-8") for d in ("ingest", "warehouse", "simulate", "finance", "dashboard", "modelmix", "pull", "cli")
                     for p in (ROOT / d).rglob("*.py"))
    adapters = {f"adapters/{f.id.replace('-', '_')}" for f in FORMATS.values()}
    for name in sql.names():
        if name.startswith(("queries/", "checks/", "migrations/")):
            continue
        assert name in adapters or f'"{name}"' in code or f"'{name}'" in code, f"{name}.sql is not used"


def test_registry_miss_lists_names():
    with pytest.raises(KeyError, match="known: "):
        sql.load("queries/no_such_thing")
