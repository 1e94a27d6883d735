"""The Spark engine (warehouse/spark.py) runs the DuckDB SQL transpiled by sqlglot over a lake export, and must
give the same totals to the cent: every preset, a four-policy scenario, a random pick, the headline spend
queries. Spark local mode (pyspark from PyPI, a Java 17 runtime: `make system-deps`)."""

from __future__ import annotations

import datetime as dt
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


def test_bound_values_become_literals_and_lists_values():
    out = to_spark("-- t: x\nselect * from (select unnest(cast($a as varchar[])) as a, "
                   "unnest(cast($b as double[])) as b) where a <> $c", {"a": ["x", "y"], "b": [1.5, 2.0], "c": "z"})
    assert "VALUES ('x', 1.5), ('y', 2.0)" in out and "<> 'z'" in out and "EXPLODE" not in out


@pytest.fixture(scope="module")
def engines(tmp_path_factory):
    pytest.importorskip("pyspark", reason="pip install -e '.[test]' installs pyspark")
    from warehouse.spark import SparkLake

    tmp = tmp_path_factory.mktemp("spark")
    files = sample.generate(tmp / "data", 20_000, seed=5, start=dt.date(2025, 12, 1), days=60)
    wh = Warehouse(tmp / "ledger.duckdb")
    results = ingest_paths(wh, files["files"])
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
