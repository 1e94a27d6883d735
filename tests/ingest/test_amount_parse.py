"""Staging's money parse (ingest/stage.py `_amount`) takes a fast DECIMAL(18, 12) parse first and the wide
DECIMAL(38, 12) parses after it: the same value as the wide parses alone for every text, and the wide parses decide
every amount the narrow type cannot hold (a million dollars or more, a value that rounds up to it, text only the
trimmed or double parse reads)."""

from __future__ import annotations

import decimal

import duckdb
import pytest

from ingest import ingest_paths, stage
from warehouse import Warehouse

# the parse before the fast path: trimmed text as DECIMAL(38, 12), else the text as a double (exponent forms)
WIDE = ("coalesce(try_cast(trim(cast(s as varchar)) as decimal(38, 12)), "
        "try_cast(try_cast(s as double) as decimal(38, 12)))")

EDGES = ["0.0048775", "1e-7", "1.1e-7", "1E5", " 1.5", "1.5 ", "\t1.5", "+1.5", "-1.5", ".5", "5.", "1,5", "nan", "inf",
         "", " ", "-0", "0", "00001.5", "0.0000000000005", "0.0000000000015", "-0.0000000000005", "0.00000000000049999",
         "1.23456789012345678901234", "999999.999999999999", "999999.9999999999994", "999999.9999999999995",
         "-999999.9999999999995", "1000000", "2500000.5", "123456789012.5", "12345678.1234567", "\u00a01.5", "1.5\u00a0",
         "+-1", "1e400", "$1.5", "1.5%", "0x10", "1..5"]
# not in DECIMAL(18, 12): the wide parses alone must give these
BEYOND = {"999999.9999999999995": "1000000", "-999999.9999999999995": "-1000000", "1000000": "1000000",
          "2500000.5": "2500000.5", "123456789012.5": "123456789012.5", "12345678.1234567": "12345678.1234567",
          "\u00a01.5": "1.5", "1.5\u00a0": "1.5", "+-1": "-1"}


@pytest.fixture(scope="module")
def con():
    with duckdb.connect() as c:
        c.execute("create table e (s varchar)")
        c.executemany("insert into e values (?)", [[x] for x in EDGES])
        # a spread of texts: fixed decimals to 24 places, exponent forms, magnitudes either side of a million
        c.execute("""create table rnd as select case i % 6
            when 0 then (random() * 10 ^ (i % 9))::varchar
            when 1 then printf('%.' || (i % 25)::varchar || 'f', (random() - 0.5) * 10 ^ (i % 10))
            when 2 then printf('%.' || (i % 18)::varchar || 'e', random() * 10 ^ ((i % 20) - 10))
            when 3 then ((random() - 0.5) * 4e6)::varchar
            when 4 then (i % 2000000)::varchar || '.' || lpad(((random() * 1e15)::bigint)::varchar, 15, '0') || '5'
            else '999999.' || repeat('9', i % 20) || (i % 10)::varchar end as s
            from range(300000) t(i)""")
        yield c


def test_the_fast_parse_gives_the_wide_parse_value(con):
    for table in ("e", "rnd"):
        differ = con.execute(f"select count(*), count(*) filter (where {stage._amount('s')} is distinct from {WIDE}) "
                             f"from {table}").fetchone()
        assert differ[0] > 0 and differ[1] == 0, (table, differ)


def test_the_wide_parses_decide_what_the_narrow_type_cannot_hold(con):
    fast = "try_cast(cast(s as varchar) as decimal(18, 12))"
    got = {r[0]: (r[1], r[2]) for r in con.execute(
        f"select s, {fast}, {stage._amount('s')} from e where list_contains($beyond, s)",
        {"beyond": list(BEYOND)}).fetchall()}
    assert set(got) == set(BEYOND)
    for text, (narrow, amount) in got.items():
        assert narrow is None, text                     # the fast parse is not taken ...
        assert amount == decimal.Decimal(BEYOND[text]), text    # ... and the amount is exact all the same


def test_a_million_dollar_row_loads_exactly(tmp_path):
    csv = tmp_path / "log.csv"
    csv.write_text("request_id,startTime,model,custom_llm_provider,prompt_tokens,completion_tokens,spend\n"
                   "r1,2026-10-01 10:00:00,gpt-4o-mini,openai,1000,100,2500000.123456\n"
                   "r2,2026-10-01 11:00:00,gpt-4o-mini,openai,1000,100,0.0048775\n"
                   "r3,2026-10-01 12:00:00,gpt-4o-mini,openai,1000,100,1e-7\n")
    with Warehouse(tmp_path / "ledger.duckdb") as wh:
        [r] = ingest_paths(wh, [csv])
        assert r.status == "loaded" and r.rows_loaded == 3, r.error
        costs = wh.sql("select cost_usd from usage_raw order by ts")["cost_usd"].to_list()
        file_cost = wh.scalar("select cost_usd from ingest_parts where part = 'file'")
    assert costs == [decimal.Decimal("2500000.123456"), decimal.Decimal("0.0048775"), decimal.Decimal("1e-7")]
    assert file_cost == sum(costs)
