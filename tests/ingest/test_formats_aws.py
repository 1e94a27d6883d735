"""AWS Bedrock: legacy CUR (`aws-cur`), CUR 2.0 (`aws-cur2`) and model invocation logs on the bundled Northwind
files: hand-checked canonical rows, detection, idempotent loads, rejects that name the file's column."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

import sql
from ingest import formats, ingest_paths, read
from ingest.read import SourceFile
from warehouse import prices

DATA = Path(__file__).resolve().parents[2] / "sample_data"
LEGACY = DATA / "aws_cur_legacy_2026-05-01_2026-05-15.csv"
CUR2 = DATA / "aws_cur2_bedrock_2026-05-16_2026-05-31.csv"
LOGS = DATA / "bedrock_invocation_logs_2026-06-01_2026-06-07.jsonl"
COLS = ("ts, granularity, provider, model, model_raw, account, project, user_id, team, workload, operation, "
        "service_tier, requests, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, cost_usd")


def _one(wh, path, **kw):
    [result] = ingest_paths(wh, [path], **kw)
    return result


def _row(wh, where: str) -> dict:
    frame = wh.sql(f"select {COLS} from usage_raw where {where}")
    assert frame.height == 1, frame
    return frame.row(0, named=True)


def _rewrite(src: Path, dst: Path, edit) -> Path:
    rows = list(csv.reader(io.StringIO(src.read_text())))
    rows = edit(rows)
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    dst.write_text(buf.getvalue())
    return dst


def test_legacy_cur_keeps_bedrock_usage_and_credit_rows_only(wh):
    r = _one(wh, LEGACY)
    # 126 line items: one S3 row and one Tax row are not Bedrock usage
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("aws-cur", "loaded", 124, 0)
    lo, hi, total = wh.sql("select min(ts), max(ts), sum(cost_usd) from usage_raw").row(0)
    assert (lo, hi) == (datetime(2026, 5, 1), datetime(2026, 5, 15))
    assert wh.sql("select count(*) from usage_raw where model_raw like '%TimedStorage%'").item() == 0
    # the credit is money only
    credit = _row(wh, "cost_usd < 0")
    assert (credit["cost_usd"], credit["input_tokens"], credit["requests"]) == (Decimal("-25"), 0, 0)


def test_legacy_input_row_in_thousands_of_tokens(wh):
    _one(wh, LEGACY)
    # lw00001nwa: 924.906 x 1K tokens of Claude Sonnet 4.5 input, $2.774718
    assert _row(wh, "model_raw = 'USE1-Claude4.5Sonnet-input-tokens' and ts = '2026-05-01'") == {
        "ts": datetime(2026, 5, 1), "granularity": "day", "provider": "aws-bedrock", "model": "claude-sonnet-4-5",
        "model_raw": "USE1-Claude4.5Sonnet-input-tokens", "account": "402918376455",
        "project": "arn:aws:bedrock:us-east-1:402918376455:application-inference-profile/nw-support",
        "user_id": None, "team": "customer-support", "workload": "chat", "operation": "chat",
        "service_tier": "standard", "requests": 0, "input_tokens": 924_906, "cache_read_tokens": 0,
        "cache_write_tokens": 0, "output_tokens": 0, "cost_usd": Decimal("2.774718"),
    }


def test_legacy_cache_read_batch_and_marketplace_rows(wh):
    _one(wh, LEGACY)
    # lw00054nwa: 3502.431 K cache-read tokens, $1.0507293 (kept at full precision)
    got = _row(wh, "model_raw = 'USE1-Claude4.5Sonnet-cache-read-input-token-count' and ts = '2026-05-07'")
    assert (got["model"], got["input_tokens"], got["cache_read_tokens"], got["cost_usd"]) == \
        ("claude-sonnet-4-5", 0, 3_502_431, Decimal("1.0507293"))
    batch = _row(wh, "model_raw = 'USE1-Claude4.5Sonnet-input-tokens-batch'")
    assert (batch["service_tier"], batch["input_tokens"], batch["team"]) == ("batch", 12_500_000, "finance-ops")
    # Marketplace: model only in the product name "Claude Sonnet 4.6 (Amazon Bedrock Edition)"; Units = tokens
    mp = _row(wh, "model_raw = 'USE1-MP:USE1_OutputTokenCount-Units'")
    assert (mp["model"], mp["output_tokens"], mp["input_tokens"], mp["cost_usd"], mp["team"]) == \
        ("claude-sonnet-4-6", 21_500, 0, Decimal("0.3225"), "legal")


def test_cur2_caller_tags_and_cross_region_cache_read(wh):
    r = _one(wh, CUR2)
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("aws-cur2", "loaded", 96, 0)
    got = _row(wh, "model_raw like 'USE1-Claude4Sonnet-cache-read%' and ts = '2026-05-16'")
    assert got == {
        "ts": datetime(2026, 5, 16), "granularity": "day", "provider": "aws-bedrock", "model": "claude-sonnet-4",
        "model_raw": "USE1-Claude4Sonnet-cache-read-input-token-count-cross-region-global",
        "account": "402918376455",
        "project": "arn:aws:bedrock:us-east-1:402918376455:application-inference-profile/supportbot",
        "user_id": "arn:aws:sts::402918376455:assumed-role/SupportBot/session", "team": "customer-support",
        "workload": "chat", "operation": "chat", "service_tier": "standard", "requests": 0, "input_tokens": 0,
        "cache_read_tokens": 1_814_245, "cache_write_tokens": 0, "output_tokens": 0,
        "cost_usd": Decimal("0.5442735"),
    }
    llama = _row(wh, "model_raw = 'USW2-Llama4-Maverick-17B-input-tokens' and ts = '2026-05-16'")
    assert (llama["model"], llama["input_tokens"], llama["team"]) == \
        ("meta.llama4-maverick-17b-instruct-v1:0", 4_505_145, "data-science")


def test_every_bedrock_model_name_is_in_the_catalog(wh):
    ingest_paths(wh, [LEGACY, CUR2, LOGS])
    names = wh.sql("select distinct model from usage_raw").to_series().to_list()
    assert len(names) == 9
    assert [n for n in names if prices.resolve("aws-bedrock", n) == (None, None)] == []
    # and billed equals list for the on-demand lines (the Price List rates in the sample)
    billed, listed = wh.sql("select sum(cost_usd), sum(list_cost_usd) from usage "
                            "where model = 'meta.llama4-maverick-17b-instruct-v1:0'").row(0)
    assert billed == listed


def test_invocation_log_request_row(wh):
    r = _one(wh, LOGS)
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("bedrock-invocation-logs", "loaded", 42, 0)
    got = _row(wh, "ts = '2026-06-01 00:14:11'")
    assert got == {
        "ts": datetime(2026, 6, 1, 0, 14, 11), "granularity": "request", "provider": "aws-bedrock",
        "model": "anthropic.claude-sonnet-4-5-20250929-v1:0",
        "model_raw": "us.anthropic.claude-sonnet-4-5-20250929-v1:0", "account": "402918376455",
        "project": "support-bot", "user_id": "arn:aws:sts::402918376455:assumed-role/ChatApp/support-bot",
        "team": "customer-support", "workload": "chat", "operation": "chat", "service_tier": "standard",
        # inputTokenCount is already the uncached part
        "requests": 1, "input_tokens": 3820, "cache_read_tokens": 1024, "cache_write_tokens": 512,
        "output_tokens": 666, "cost_usd": None,
    }
    lo, hi = wh.sql("select min(ts), max(ts) from usage_raw").row(0)
    assert datetime(2026, 6, 1) <= lo and hi < datetime(2026, 6, 8)


@pytest.mark.parametrize("path, fmt", [(LEGACY, "aws-cur"), (CUR2, "aws-cur2"), (LOGS, "bedrock-invocation-logs")])
def test_detection_picks_each_sample_format(path, fmt):
    assert formats.detect(read.sample(SourceFile(path, path.name, "none"))).id == fmt


@pytest.mark.parametrize("path", [LEGACY, CUR2, LOGS])
def test_loading_a_file_twice_adds_nothing(wh, path, tmp_path):
    first = _one(wh, path)
    # the same rows under another name (so not skipped by checksum): every key already loaded
    copy = tmp_path / f"again{path.suffix}"
    copy.write_bytes(path.read_bytes() + (b"\n" if path.suffix == ".csv" else b""))
    again = _one(wh, copy)
    assert (again.rows_loaded, again.rows_duplicate) == (0, first.rows_loaded)


def test_missing_required_column_is_named(wh, tmp_path):
    bad = _rewrite(CUR2, tmp_path / "cur2.csv",
                   lambda rows: [[c for i, c in enumerate(r) if i != rows[0].index("pricing_unit")] for r in rows])
    r = _one(wh, bad)
    assert (r.format, r.status) == ("aws-cur2", "rejected")
    assert r.error.endswith("missing required column(s) pricing_unit for format aws-cur2")


def test_bad_amount_is_set_aside_naming_row_and_column(wh, tmp_path):
    def edit(rows):
        rows[1][rows[0].index("lineItem/UsageAmount")] = "12,5"
        return rows
    r = _one(wh, _rewrite(LEGACY, tmp_path / "cur.csv", edit))
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 123, 1)
    row, column, value = wh.sql("select row_number, column_name, value from ingest_rejects").row(0)
    assert (row, column, value) == (1, "lineItem/UsageAmount", "12,5")


def test_non_usd_report_is_rejected_naming_the_currency_column(wh, tmp_path):
    def edit(rows):
        i = rows[0].index("line_item_currency_code")
        return [rows[0], *[[*r[:i], "EUR", *r[i + 1:]] for r in rows[1:]]]
    r = _one(wh, _rewrite(CUR2, tmp_path / "eur.csv", edit))
    assert r.status == "rejected" and "line_item_currency_code" in r.error and "EUR" in r.error
    assert wh.sql("select count(*) from usage_raw").item() == 0


def test_cur_sql_remembers_both_files_and_a_failure_of_it_names_them(wh, monkeypatch):
    """The CUR formats join two .sql files in Python; the result keeps their names (sql.Text origin), and when that
    SQL itself fails (not the file: here a function the ledger lacks) the error names the files, not the export."""
    for fmt_id, own in (("aws-cur", "aws_cur"), ("aws-cur2", "aws_cur2")):
        assert sql.origin(formats.FORMATS[fmt_id].sql) == f"sql/adapters/{own}.sql + sql/adapters/aws_cur_lines.sql"
    real = sql.load

    def broken(name):
        text = real(name)
        return text.replace("select", "select no_such_function(1) as x,", 1) if name == "adapters/aws_cur_lines" else text
    monkeypatch.setattr(sql, "load", broken)
    r = _one(wh, LEGACY)
    assert r.status == "rejected"
    assert r.error == (f"{LEGACY}: sql/adapters/aws_cur.sql + sql/adapters/aws_cur_lines.sql failed: Catalog Error: "
                       "Scalar Function with name no_such_function does not exist!"), r.error
