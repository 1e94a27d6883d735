"""list_cost_usd against genai-prices itself, dated and tiered prices, overrides, unpriced models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price

from ingest import ingest_paths
from warehouse import config, prices

HEADER = "ts,provider,model,input_tokens,cache_read_tokens,cache_write_tokens,output_tokens"


@pytest.mark.parametrize("provider, model, catalog_provider", [
    ("openai", "gpt-4o-2024-08-06", "openai"),
    ("openai", "gpt-4o-mini", "openai"),
    ("openai", "gpt-4.1-mini", "openai"),
    ("anthropic", "claude-sonnet-4-5", "anthropic"),
    ("anthropic", "claude-3-5-haiku-20241022", "anthropic"),
    ("google-vertex", "gemini-2.5-flash", "google"),
])
def test_list_cost_matches_genai_prices(wh, csv_file, provider, model, catalog_provider):
    ts = dt.datetime(2026, 2, 1, 12, tzinfo=dt.timezone.utc)
    ingest_paths(wh, [csv_file(HEADER, f"2026-02-01T12:00:00Z,{provider},{model},12000,3000,0,1500")])
    got = wh.sql("select list_cost_usd from usage").item()
    # genai-prices counts cached tokens inside input_tokens; the ledger keeps them apart
    want = calc_price(Usage(input_tokens=15000, cache_read_tokens=3000, output_tokens=1500), model,
                      provider_id=catalog_provider, genai_request_timestamp=ts).total_price
    assert got == round(Decimal(want), 6)


def test_dated_and_tiered_prices(wh, csv_file):
    # claude-opus-4-6: a 200k-token cliff tier until 2026-03-13, flat prices after
    ingest_paths(wh, [csv_file(HEADER, "2026-02-01T00:00:00Z,anthropic,claude-opus-4-6,250000,0,0,1000",
                               "2026-04-01T00:00:00Z,anthropic,claude-opus-4-6,250000,0,0,1000",
                               "2026-02-01T00:00:00Z,anthropic,claude-opus-4-6,1000,0,0,1000")])
    costs = wh.sql("select list_cost_usd from usage order by ts, input_tokens").to_series().to_list()
    assert costs == [Decimal("0.030000"), Decimal("2.537500"), Decimal("1.275000")]


def test_unknown_model_is_unpriced_never_zero(wh, csv_file):
    ingest_paths(wh, [csv_file(HEADER, "2026-02-01T00:00:00Z,acme,acme-brain-9000,100,0,0,10")])
    assert wh.sql("select list_cost_usd from usage").item() is None
    unpriced = wh.query("unpriced_models", start=dt.date(1970, 1, 1), end=dt.date(9999, 12, 31))
    assert unpriced.select("provider", "model").rows() == [("acme", "acme-brain-9000")]


def test_overrides_discount_custom_model_and_dates(wh, csv_file, tmp_path):
    ingest_paths(wh, [csv_file(HEADER, "2026-02-01T00:00:00Z,openai,gpt-4o,1000000,0,0,0",
                               "2026-06-01T00:00:00Z,openai,gpt-4o,1000000,0,0,0",
                               "2026-02-01T00:00:00Z,internal,llama-selfhosted,1000000,0,0,1000000")])
    path = tmp_path / "overrides.yaml"
    path.write_text("""overrides:
  - {provider: openai, model: gpt-4o, effective_from: 2026-05-01, discount_pct: 20, note: EA contract}
  - {provider: internal, model: llama-selfhosted, effective_from: 2025-01-01, input_mtok: 0.2, output_mtok: 0.6}
""")
    config.replace_overrides(wh, config.load_overrides_file(path))
    got = dict(wh.sql("select strftime(ts, '%m') || model, list_cost_usd from usage").rows())
    assert got == {"02gpt-4o": Decimal("2.500000"), "06gpt-4o": Decimal("2.000000"),
                   "02llama-selfhosted": Decimal("0.800000")}
    assert wh.query("unpriced_models", start=dt.date(1970, 1, 1), end=dt.date(9999, 12, 31)).is_empty()
    # the rollup follows at once, without a re-ingest
    assert wh.sql("select sum(list_cost_usd) from usage_daily").item() == Decimal("5.300000")


def test_bad_override_file_names_entry_and_field(tmp_path):
    path = tmp_path / "o.yaml"
    path.write_text("overrides:\n  - {provider: openai, model: gpt-4o, effective_from: 2026-01-01, discount_pct: 120}\n")
    with pytest.raises(config.ConfigError, match="entry 1, field discount_pct"):
        config.load_overrides_file(path)


def test_price_in_force(wh):
    frame = prices.price_in_force(wh, "gpt-4o", dt.date(2026, 1, 1), provider="openai")
    assert frame.select("source", "provider", "input_mtok", "output_mtok").rows() == [
        ("catalog", "openai", Decimal("2.5"), Decimal("10"))]


def test_resolve_names():
    assert prices.resolve("openai", "gpt-4o-2024-08-06") == ("openai", "gpt-4o")
    assert prices.resolve("anthropic", "anthropic/claude-sonnet-4-5-20250929")[1] == "claude-sonnet-4-5"
    assert prices.resolve("acme", "acme-brain-9000") == (None, None)
    assert prices.resolve("openai", "my-alias", {"my-alias": "gpt-4o-mini"}) == ("openai", "gpt-4o-mini")


def test_user_aliases_resolve_unknown_names_without_reingest(wh, csv_file, tmp_path):
    ingest_paths(wh, [csv_file(HEADER, "2026-02-01T00:00:00Z,openai,prod-chat-model,1000000,0,0,0")])
    assert wh.sql("select model, list_cost_usd from usage").row(0) == ("prod-chat-model", None)
    path = tmp_path / "aliases.yaml"
    path.write_text("aliases:\n  - {alias: Prod-Chat-Model, model: gpt-4o-mini}\n")
    config.replace_aliases(wh, config.load_aliases_file(path))
    assert wh.sql("select model, model_raw, list_cost_usd from usage").row(0) == (
        "gpt-4o-mini", "prod-chat-model", Decimal("0.150000"))


def test_a_provider_answering_for_anothers_model_is_priced(wh, csv_file):
    # Azure's catalog entry for gpt-4o is OpenAI's (genai-prices falls back to it): it must still get a price
    assert prices.resolve("azure-openai", "gpt-4o") == ("openai", "gpt-4o")
    ingest_paths(wh, [csv_file(HEADER, "2026-02-01T00:00:00Z,azure-openai,gpt-4o,1000000,0,0,0")])
    assert wh.sql("select list_cost_usd from usage").item() == Decimal("2.500000")


def test_a_new_catalog_version_reprices_every_derived_table(tmp_path):
    """After an upgrade of genai-prices, opening the ledger loads the new catalog, resolves every name under it
    and rebuilds what was priced under the old one: the rollups and the stored replay rows equal the view again.
    (It once emptied the name map and left them: the view priced nothing that no later write touched, the pages
    kept the old catalog's figures.)"""
    import duckdb

    import sql
    from tests.conftest import write_csv
    from warehouse import Warehouse

    path = tmp_path / "ledger.duckdb"
    header = "ts,granularity,provider,model,project,team,requests,input_tokens,output_tokens,cost_usd"
    with Warehouse(path) as wh:
        [r] = ingest_paths(wh, [write_csv(tmp_path / "a.csv", header, *[
            f"2026-10-{d:02d}T10:00:00Z,hour,openai,gpt-4o,assistant,product,10,1000000,100000," for d in (1, 2)])])
        assert r.status == "loaded", r.error
        listed = wh.scalar("select sum(list_cost_usd) from usage_daily")
    # the ledger as an older catalog left it: other prices for gpt-4o, the derived tables priced with them
    con = duckdb.connect(str(path))
    con.execute("update catalog_prices set input_mtok = input_mtok * 2, output_mtok = output_mtok * 2 "
                "where model = 'gpt-4o'")
    con.execute("update usage_daily set list_cost_usd = list_cost_usd * 2")
    con.execute("update replay_stored set list_cost_usd = list_cost_usd * 2")
    con.execute("update meta set value = '0.0.1' where key = 'catalog_version'")
    con.close()
    with Warehouse(path) as wh:
        assert wh.scalar("select value from meta where key = 'catalog_version'") != "0.0.1"
        assert wh.scalar("select count(*) from model_map where catalog_model is not null") == 1
        assert wh.scalar("select sum(list_cost_usd) from usage_daily") == listed
        assert wh.scalar("select sum(list_cost_usd) from usage") == listed
        for check in ("assert_rollup_matches_usage", "assert_replay_stored_matches_view"):
            assert wh.sql(sql.load(f"checks/{check}")).is_empty(), check
