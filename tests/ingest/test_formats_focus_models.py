"""FOCUS AI rows (issue 12 item 13): the model read from the FOCUS 1.5 draft `ModelId`, `SkuPriceDetails`, the
resource name or the charge description when the SKU meter names only a token class ("Input Tokens"), never that
class as a model; infrastructure billed under an ML service (a VM, a disk, bandwidth) kept with its money as model
`infrastructure` under the cloud's own name, not an AI provider. Fixture: tests/data/formats/, FOCUS 1.2/1.3
columns plus the draft ones, our own values."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from ingest import ingest_paths

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
FILE = DATA / "focus_ai_models_and_infra_2026-11-03.csv"


def _load(wh):
    [r] = ingest_paths(wh, [FILE])
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("focus", "loaded", 9, 0)
    return wh.sql("select provider, model, operation, input_tokens, cache_read_tokens, output_tokens, cost_usd "
                  "from usage_raw order by cost_usd desc").rows()


def test_model_comes_from_whichever_column_names_it(wh):
    rows = {}
    for p, m, op, i, c, o, cost in _load(wh):
        prev = rows.get((p, m), (op, 0, 0, 0, Decimal(0)))
        rows[(p, m)] = (op, prev[1] + i, prev[2] + c, prev[3] + o, prev[4] + cost)
    # SkuMeter "Input Tokens" + SkuPriceDetails {"x_ModelName": "claude-sonnet-4-5"}, and a row whose only model
    # is in the charge description ("... input tokens for Claude Sonnet 4.5 in US East (N. Virginia)")
    assert rows[("aws-bedrock", "claude-sonnet-4-5")] == ("chat", 2_000_000, 0, 0, Decimal("6"))
    # ResourceName: a foundation-model ARN
    assert rows[("aws-bedrock", "anthropic.claude-3-haiku-20240307-v1:0")] == ("chat", 0, 0, 200_000, Decimal("0.25"))
    # FOCUS 1.5 draft ModelId
    assert rows[("azure-openai", "gpt-4.1-mini")] == ("chat", 0, 800_000, 0, Decimal("0.08"))
    # the 1.5 draft's SkuPriceDetails properties: ModelId, TokenDirection Input + TokenCacheAction Read
    assert rows[("anthropic", "claude-sonnet-4-5")] == ("chat", 0, 1_000_000, 0, Decimal("0.3"))
    # provisioned throughput billed by the hour is model spend (money only), not infrastructure
    assert rows[("azure-openai", "gpt-4o")] == ("chat", 0, 0, 0, Decimal("48"))


def test_no_token_class_is_ever_a_model(wh):
    models = {m for _, m, *_ in _load(wh)}
    assert not {m for m in models if "token" in m or m in ("input", "output")}, models


def test_infrastructure_keeps_its_money_under_the_cloud_name(wh):
    rows = _load(wh)
    infra = [(p, op, i + c + o, cost) for p, m, op, i, c, o, cost in rows if m == "infrastructure"]
    assert infra == [("azure", "other", 0, Decimal("9.6")), ("azure", "other", 0, Decimal("0.87")),
                     ("azure", "other", 0, Decimal("0.32"))]
    # every dollar of the file's AI and Machine Learning rows is in the ledger
    assert sum(r[-1] for r in rows) == Decimal("65.42")
