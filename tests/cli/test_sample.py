"""The seeded synthetic-data generator: deterministic, the requested size, and realistic enough to load whole."""

from __future__ import annotations

from datetime import date

import pytest

from ingest import ingest_paths
from cli import sample
from warehouse import Warehouse
from warehouse.prices import resolve

ROWS = 30_000


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("northwind")
    return out, sample.generate(out, ROWS, seed=11)


@pytest.fixture(scope="module")
def loaded(generated, tmp_path_factory):
    out, info = generated
    path = tmp_path_factory.mktemp("ledger") / "northwind.duckdb"
    with Warehouse(path) as wh:
        results = ingest_paths(wh, info["files"])
        yield info, results, wh


def test_same_seed_same_bytes(tmp_path):
    a = sample.generate(tmp_path / "a", 3_000, seed=3)
    b = sample.generate(tmp_path / "b", 3_000, seed=3)
    c = sample.generate(tmp_path / "c", 3_000, seed=4)
    for fa, fb in zip(a["files"], b["files"], strict=True):
        assert fa.name == fb.name
        assert fa.read_bytes() == fb.read_bytes(), fa.name
    assert a["litellm_spend_logs"].read_bytes() != c["litellm_spend_logs"].read_bytes()


def test_requested_row_count(generated):
    out, info = generated
    with open(info["litellm_spend_logs"], "rb") as f:
        assert sum(1 for _ in f) - 1 == ROWS
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["litellm_spend_logs.csv", "daily_openai.csv", "daily_anthropic.csv", "daily_aws-bedrock.csv",
         "daily_google-vertex.csv"])


def test_every_model_is_in_the_catalog():
    for m in sample.MODELS.values():
        assert resolve(m.provider, m.name)[1] is not None, m.name


@pytest.mark.slow
def test_every_row_loads(loaded):
    info, results, wh = loaded
    assert [r.status for r in results] == ["loaded"] * 5, results
    assert sum(r.rows_rejected for r in results) == 0
    assert sum(r.rows_duplicate for r in results) == 0
    by_name = {r.path.rsplit("/", 1)[-1]: r for r in results}
    assert by_name["litellm_spend_logs.csv"].rows_loaded == ROWS
    for prov, n in info["daily_rows"].items():
        assert by_name[f"daily_{prov}.csv"].rows_loaded == n


@pytest.mark.slow
def test_breadth_after_ingest(loaded):
    _, _, wh = loaded
    row = wh.sql("select count(distinct team) as teams, count(distinct project) as projects, "
                 "count(distinct model) as models, count(distinct provider) as providers, "
                 "count(*) filter (where team = 'unassigned') as unassigned from usage").row(0, named=True)
    assert row["teams"] >= 8
    assert row["projects"] >= 20
    assert row["models"] >= 15
    assert row["unassigned"] == 0
    providers = set(wh.sql("select distinct provider from usage")["provider"])
    assert providers == {"openai", "anthropic", "aws-bedrock", "google-vertex"}
    # the gateway carries all four providers too, not only the daily exports
    gateway = wh.sql("select count(distinct provider) as n from usage where source_format = 'litellm-spend-logs'")
    assert gateway["n"][0] == 4


@pytest.mark.slow
def test_every_row_priced(loaded):
    _, _, wh = loaded
    # failed requests carry no tokens, so they have nothing to price (list cost NULL, not unpriced)
    tokens = "input_tokens + cache_read_tokens + cache_write_tokens + output_tokens"
    unpriced = wh.sql(f"select provider, model, count(*) as n from usage where list_cost_usd is null and {tokens} > 0 "
                      "group by all")
    assert unpriced.height == 0, unpriced
    assert wh.scalar(f"select count(*) from usage where {tokens} > 0") > 0.99 * wh.scalar("select count(*) from usage")
    # spend is computed from the same list prices, so the request log reconciles to the cent per model
    gap = wh.sql(f"select model, abs(sum(cost_usd) - sum(list_cost_usd))::double as gap, sum(list_cost_usd)::double "
                 f"as list from usage where {tokens} > 0 group by model")
    assert all(g <= max(0.01, 0.001 * lst) for g, lst in zip(gap["gap"], gap["list"])), gap


@pytest.mark.slow
def test_spike_is_the_top_day_of_its_key(loaded):
    info, _, wh = loaded
    spike = info["spike"]
    assert info["spike_date"] == spike["dates"][0]
    days = wh.sql("select cast(ts as date) as day, sum(cost_usd)::double as spend, count(*) as n from usage "
                  "where api_key = $key group by day order by spend desc", key=spike["api_key"])
    assert days["day"][0] in spike["dates"]
    usual = days.filter(~days["day"].is_in(spike["dates"]))["n"].median()
    assert days.filter(days["day"] == info["spike_date"])["n"][0] >= 8 * usual


@pytest.mark.slow
def test_weekends_lower_and_traffic_grows(loaded):
    _, _, wh = loaded
    week = wh.sql("select isodow(ts) >= 6 as weekend, sum(requests)::double / count(distinct cast(ts as date)) "
                  "as per_day from usage group by weekend order by weekend")
    assert week["per_day"][1] < 0.85 * week["per_day"][0]
    months = wh.sql("select date_trunc('month', ts) as month, sum(requests)::double as r from usage "
                    "group by month order by month")["r"]
    assert months[-1] > 1.4 * months[0]


@pytest.mark.slow
def test_model_migration(loaded):
    info, _, wh = loaded
    mig = info["migration"]
    shares = wh.sql("select ts < $at as before, model, count(*) as n from usage where project = $p group by all",
                    at=mig["date"], p=mig["project"])
    before = dict(shares.filter(shares["before"]).select("model", "n").iter_rows())
    after = dict(shares.filter(~shares["before"]).select("model", "n").iter_rows())
    assert set(before) == {"gpt-4o"}
    assert after.get("gpt-4.1-mini", 0) > 5 * after.get("gpt-4o", 0)


@pytest.mark.slow
def test_daily_exports_are_billing_days(loaded):
    _, _, wh = loaded
    daily = wh.sql("select distinct granularity, source_format, cost_usd is null as no_cost from usage "
                   "where source_format = 'canonical'")
    assert daily.rows() == [("day", "canonical", False)]
    # the exports are the invoice: they cover the gateway's projects too, so each provider-day's spend counts
    # the export only, and the replay reads the gateway's requests
    both = wh.sql("select project from usage group by project having count(distinct source_format) > 1")
    assert both.height > 10
    counted = dict(wh.sql("select source_format, sum(spend_usd)::double from usage_daily group by all").rows())
    # the log counts only on a provider-day the (sampled) export happens to have no row for
    assert counted["litellm-spend-logs"] < 0.05 * counted["canonical"], counted
    # the replay reads every logged request; an export's rows only for provider-days the log doesn't cover
    assert wh.scalar("select count(*) from usage_replay where source_format = 'litellm-spend-logs'") == ROWS
    assert wh.scalar("select count(*) from usage_replay r join usage l on l.provider = r.provider "
                     "and cast(l.ts as date) = cast(r.ts as date) and l.source_format = 'litellm-spend-logs' "
                     "where r.source_format = 'canonical'") == 0


def test_dates_cover_the_year(generated):
    _, info = generated
    assert info["start"] == date(2025, 12, 1)
    assert info["days"] == 365
