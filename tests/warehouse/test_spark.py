"""The Spark engine (warehouse/spark.py) runs the DuckDB SQL transpiled by sqlglot over a lake export, and must
give the same totals to the cent: every preset, a four-policy scenario, a random pick, the headline spend
queries. Spark local mode (pyspark from PyPI, a Java 17 runtime: `make system-deps`)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import polars as pl
import pytest

import simulate
import sql
from ingest import ingest_paths
from cli import sample
from simulate import replay
from warehouse import Warehouse, lake
from warehouse.spark import SparkUnsupported, to_spark

PRESETS = sorted(p.stem for p in (Path(simulate.__file__).parent / "presets").glob("*.yaml"))
FOUR = {"name": "four", "policies": [
    {"kind": "shift", "share": 0.5, "to": {"model": "gpt-4o-mini"}},
    {"kind": "cascade", "first": {"model": "gpt-4.1-nano"}, "escalation_rate": 0.2, "match": {"workloads": ["chat"]}},
    {"kind": "batch", "share": 0.3},
    {"kind": "cache", "hit_rate": 0.5}]}
RANDOM = {"name": "random", "policies": [
    {"kind": "shift", "share": 0.37, "pick": "random", "seed": 11, "to": {"model": "gpt-4o-mini"}},
    {"kind": "batch", "share": 0.3}]}


def test_a_query_spark_cannot_run_names_itself():
    text = sql.load("simulate/request_grades")          # QUALIFY
    with pytest.raises(SparkUnsupported, match="simulate/request_grades"):
        to_spark(text, {})


def test_a_session_units_keys_become_the_lakes_session_hash_and_spark_arithmetic():
    out = to_spark("-- t: x\nselect case when session_id is null then row_hash else hash(session_id) end as unit_key, "
                   "hash(xor(unit_key, cast($mix as ubigint))) as k from usage_replay", {"mix": 2**64 - 5})
    assert "ELSE session_hash END" in out and "HASH(" not in out.upper().replace("SESSION_HASH", "")
    assert "unit_key ^ SHIFTLEFT(CAST(1 AS BIGINT), 63)) ^ CAST(-5 AS BIGINT)" in out


def test_bound_values_become_literals_and_lists_values():
    out = to_spark("-- t: x\nselect * from (select unnest(cast($a as varchar[])) as a, "
                   "unnest(cast($b as double[])) as b) where a <> $c", {"a": ["x", "y"], "b": [1.5, 2.0], "c": "z"})
    assert "VALUES ('x', 1.5), ('y', 2.0)" in out and "<> 'z'" in out and "EXPLODE" not in out


def _conversations(path: Path) -> Path:
    """A canonical request log with session ids: 400 conversations of 1-8 requests (every fifth without an id),
    later turns reading 1k-20k cached tokens, priced as gpt-4o bills them; the sample's files log no sessions."""
    rnd = random.Random(7)
    lines = ["ts,provider,model,input_tokens,cache_read_tokens,output_tokens,cost_usd,session_id"]
    for conv in range(400):
        start = dt.datetime(2025, 12, 1, 8) + dt.timedelta(minutes=rnd.randrange(60 * 24 * 58))
        sid = f"conv-{conv}" if conv % 5 else ""
        for turn in range(rnd.randint(1, 8)):
            inp, out, cached = rnd.randint(200, 4000), rnd.randint(20, 800), 0 if turn == 0 else rnd.randint(1000, 20000)
            ts = (start + dt.timedelta(minutes=2 * turn)).isoformat()
            lines.append(f"{ts}Z,openai,gpt-4o,{inp},{cached},{out},{(inp * 2.5 + cached * 1.25 + out * 10) / 1e6:.8f},{sid}")
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    pytest.importorskip("pyspark", reason="pip install -e '.[test]' installs pyspark")
    from warehouse.spark import SparkLake

    tmp = tmp_path_factory.mktemp("spark")
    files = sample.generate(tmp / "data", 20_000, seed=5, start=dt.date(2025, 12, 1), days=60)
    wh = Warehouse(tmp / "ledger.duckdb")
    results = ingest_paths(wh, [*files["files"], _conversations(tmp / "conversations.csv")])
    assert all(r.status == "loaded" for r in results), [r.error for r in results]
    lake.export(wh, tmp / "lake")
    spark = SparkLake(tmp / "lake", conf={"spark.sql.shuffle.partitions": "2"})
    spark.spark.sparkContext.setLogLevel("ERROR")
    yield wh, spark
    spark.close()
    wh.close()


def _same(a: float, b: float) -> bool:
    return abs(a - b) < 0.005


@pytest.mark.slow
@pytest.mark.parametrize("scenario", [*PRESETS, "four", "random"])
def test_replay_on_spark_equals_duckdb_to_the_cent(engines, scenario):
    wh, spark = engines
    sc = simulate.parse_scenario({"four": FOUR, "random": RANDOM}[scenario]) if scenario in ("four", "random") \
        else simulate.load_scenario(scenario)
    duck = simulate.run(wh, sc)
    on_spark = replay.run_on(spark, sc)
    assert _same(duck.baseline_cost_usd, on_spark.baseline_cost_usd)
    assert _same(duck.scenario_cost_usd, on_spark.scenario_cost_usd), (duck.scenario_cost_usd,
                                                                        on_spark.scenario_cost_usd)
    assert duck.moved_requests == pytest.approx(on_spark.moved_requests, abs=1e-6)
    assert duck.baseline_cost_usd > 0
    by_lever = on_spark.savings_by_lever()
    for lever, saved in duck.savings_by_lever().items():
        assert _same(saved, by_lever[lever]), lever


@pytest.mark.slow
def test_spend_queries_on_spark_equal_duckdb(engines):
    wh, spark = engines
    start, end = wh.sql("select min(day) as a, max(day) as b from usage_daily").row(0)
    for name, params in (("spend_month_to_date", {"end": end}),
                         ("top_teams", {"start": start, "end": end, "limit": 10}),
                         ("finance_chargeback_lines", {"month_start": start, "month_end": end})):
        duck, on_spark = wh.query(name, **params), spark.query(name, **params)
        assert duck.columns == on_spark.columns and duck.height == on_spark.height > 0, name
        money = [c for c, t in duck.schema.items() if c.endswith("_usd")]
        keys = [c for c, t in duck.schema.items() if t == pl.String] or duck.columns[:1]
        duck, on_spark = duck.sort(keys), on_spark.sort(keys)
        for col in money:
            assert all(_same(float(a or 0), float(b or 0)) for a, b in zip(duck[col], on_spark[col], strict=True)), \
                (name, col)


@pytest.mark.slow
@pytest.mark.parametrize("pick", ["simplest", "random"])
@pytest.mark.parametrize("cache", ["lost", "kept"])
def test_session_unit_on_spark_equals_duckdb_to_the_cent(engines, pick, cache):
    """`unit: session` on Spark: the conversation key is the lake's session_hash (DuckDB's hash(session_id)), a random
    pick's hash(xor(unit_key, seed mix)) DuckDB's hash in Spark arithmetic, so the same conversations move."""
    wh, spark = engines
    policies = [{"kind": "shift", "share": 0.4, "pick": pick, "seed": 3, "unit": "session",
                 "to": {"model": "gpt-4o-mini"}, "match": {"models": ["gpt-4o"]}},
                {"kind": "batch", "share": 0.3, "unit": "session"}]
    sc = simulate.parse_scenario({"name": "s", "assumptions": {"cache_on_switch": cache}, "policies": policies})
    duck = simulate.run(wh, sc)
    on_spark = replay.run_on(spark, sc)
    assert _same(duck.scenario_cost_usd, on_spark.scenario_cost_usd), (duck.scenario_cost_usd,
                                                                        on_spark.scenario_cost_usd)
    assert duck.moved_requests == pytest.approx(on_spark.moved_requests, abs=1e-6)
    by_lever = on_spark.savings_by_lever()
    for lever, saved in duck.savings_by_lever().items():
        assert _same(saved, by_lever[lever]), lever
    # conversations are in play: moving whole ones is not moving requests one by one
    by_request = simulate.parse_scenario({"name": "r", "assumptions": {"cache_on_switch": cache}, "policies": [
        {**p, "unit": "request"} for p in policies]})
    assert not _same(simulate.run(wh, by_request).scenario_cost_usd, duck.scenario_cost_usd)
