"""Real exports that failed (issue 12, items 9-11 and 14): header spellings, files with nothing to load, a TSV
with a spreadsheet's trailing tab, CR-only line ends. Each fixture in tests/data/formats/ reproduces the real
layout with our own values."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ingest import ingest_paths

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def _one(wh, path, **kw):
    [result] = ingest_paths(wh, [path], **kw)
    return result


# --- item 9: Azure cost details in every documented header spelling ---------------------------------------------

def test_azure_ea_portal_spaced_headers_load(wh):
    """The EA portal's download: `Meter Name`, `Consumed Quantity`, `Unit Of Measure`, `ExtendedCost`."""
    r = _one(wh, DATA / "azure_ea_portal_spaced_2026-08.csv")
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected, r.error) == ("azure-cost-details", "loaded", 2, 0,
                                                                             None)
    rows = wh.sql("select ts, model, input_tokens, output_tokens, cost_usd, account, project, team "
                  "from usage_raw order by output_tokens").rows()
    assert rows == [
        (datetime(2026, 8, 3), "gpt-4o-mini", 2_400_000, 0, Decimal("0.396000"), "Contoso-Prod", "contoso-chat",
         "support"),
        (datetime(2026, 8, 3), "gpt-4o-mini", 0, 310_000, Decimal("0.204600"), "Contoso-Prod", "contoso-chat",
         "support"),
    ]


def test_azure_legacy_pretaxcost_headers_load(wh):
    """The older usage details: `UsageDateTime`, `UsageQuantity`, `PreTaxCost`, `Currency`, `SubscriptionGuid`."""
    r = _one(wh, DATA / "azure_payg_legacy_pretaxcost_2026-08.csv")
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 2, 0)
    total, tokens, day = wh.sql("select sum(cost_usd), sum(input_tokens + output_tokens), min(ts) "
                                "from usage_raw").row(0)
    assert (total, tokens, day) == (Decimal("2.993750"), 908_750, datetime(2026, 8, 4))


def test_azure_lower_case_header_loads_like_the_original(wh, tmp_path):
    r = _one(wh, DATA / "azure_ea_lowercase_header_2026-07-01.csv")
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 3, 0)
    assert wh.sql("select sum(cost_usd) from usage_raw").item() == Decimal("32.596900")   # 8.97578 + 9.64612 + 13.975


def test_azure_missing_cost_column_is_named(wh, tmp_path):
    lines = (DATA / "azure_ea_portal_spaced_2026-08.csv").read_text().splitlines()
    header = lines[0].split(",")
    drop = header.index("ExtendedCost")
    cut = tmp_path / "no_cost.csv"
    cut.write_text("\n".join(",".join(c for i, c in enumerate(ln.split(",")) if i != drop) for ln in lines[:1])
                   + "\n")
    r = _one(wh, cut)
    assert r.status == "rejected" and "costInBillingCurrency" in r.error


# --- items 9/10: a file with nothing to load is a result, not an error -----------------------------------------

def test_header_only_file_loads_nothing_without_error(wh):
    r = _one(wh, DATA / "azure_ea_header_only.csv")
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 0, 0)
    assert r.error == f"{DATA / 'azure_ea_header_only.csv'}: 0 rows: nothing to load"
    assert wh.sql("select count(*) from ingest_log").item() == 0


@pytest.mark.parametrize("sample", ["openai_cost_2026-05-01_2026-05-05.csv", "focus_reseller_bedrock_2026-10.csv",
                                    "anthropic_console_usage_2026-07-01_2026-07-15.csv"])
def test_header_only_says_nothing_to_load_in_every_format(wh, tmp_path, sample):
    path = tmp_path / sample
    path.write_text((SAMPLE / sample).read_text().splitlines()[0] + "\n")
    r = _one(wh, path)
    assert (r.status, r.rows_loaded, r.error) == ("loaded", 0, f"{path}: 0 rows: nothing to load")


def test_gcp_cost_table_without_ai_rows_says_what_it_read(wh):
    path = DATA / "gcp_cost_table_no_ai_2026-10.csv"
    r = _one(wh, path)
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("gcp-cost-table", "loaded", 0, 0)
    # 15 data rows; the Rounding error / Total footers are not counted
    assert r.error == f"{path}: 15 rows, none for an AI service (Vertex AI, Gemini API): nothing loaded"


def test_openai_export_of_empty_buckets_says_so(wh, tmp_path):
    path = tmp_path / "completions_usage_2026-11-01_2026-11-03.csv"
    header = (SAMPLE / "openai_completions_usage_2026-10-01_2026-10-31.csv").read_text().splitlines()[0]
    width = header.count(",")
    rows = [f"{1793491200 + 86400 * d},{1793491200 + 86400 * (d + 1)}" + "," * (width - 1) for d in range(3)]
    path.write_text("\n".join([header, *rows]) + "\n")
    r = _one(wh, path)
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 0, 0)
    assert r.error == f"{path}: 3 rows, none with usage (every bucket is empty): nothing loaded"


# --- item 11: an OpenAI dashboard export saved as TSV ------------------------------------------------------------

def test_openai_cost_tsv_with_trailing_tab_on_empty_buckets_loads(wh):
    """Tab-separated, as pasted from a spreadsheet, with commas in `line_item`: the empty bucket rows carry one tab
    more than the header, so
    DuckDB's sniffer gives up and reads a single column ("Binder Error: Referenced column start_time")."""
    r = _one(wh, DATA / "openai_cost_2025-10-05_2025-10-09.tsv")
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected, r.error) == ("openai-cost-csv", "loaded", 3, 0, None)
    assert wh.sql("select sum(cost_usd) from usage_raw").item() == Decimal("1.746510")


def test_openai_usage_tsv_2025_header_loads(wh):
    r = _one(wh, DATA / "openai_completions_usage_2025-10-05_2025-10-08.tsv")
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("openai-usage-csv", "loaded", 3, 0)
    assert wh.sql("select sum(requests), sum(output_tokens) from usage_raw").row(0) == (31, 81_290)


def test_missing_column_is_named_never_a_binder_error(wh, tmp_path):
    path = tmp_path / "cost.csv"
    path.write_text("start_time,end_time,amount_value,amount_currency\n1759622400,1759708800,0.5,usd\n")
    # a column the format's SQL reads, deleted: the message names the file and the column, not the SQL error
    r = _one(wh, path, format_id="openai-usage-csv")
    assert r.status == "rejected"
    assert "Binder" not in r.error and "num_model_requests" in r.error and str(path) in r.error


# --- item 14: CR-only line ends ----------------------------------------------------------------------------------

def test_cr_only_line_ends_load(wh, tmp_path):
    src = (SAMPLE / "openai_completions_usage_2026-10-01_2026-10-31.csv").read_text()
    path = tmp_path / "completions_usage_mac.csv"
    path.write_bytes(src.replace("\r\n", "\n").replace("\n", "\r").encode())
    r = _one(wh, path)
    with_lf = _one(wh, SAMPLE / "openai_completions_usage_2026-10-01_2026-10-31.csv")
    assert (r.status, r.rows_rejected) == ("loaded", 0) and r.rows_loaded > 0
    assert with_lf.rows_loaded == 0 and with_lf.rows_duplicate == r.rows_loaded   # the same rows


def test_cr_only_file_with_a_bad_row_names_the_row(wh, tmp_path):
    path = tmp_path / "canon.csv"
    path.write_bytes(b"ts,provider,model,input_tokens,output_tokens\r2026-01-01,openai,gpt-4o,10,5\r"
                     b"2026-01-02,openai,gpt-4o,ten,5\r")
    r = _one(wh, path)
    assert (r.status, r.rows_loaded, r.rows_rejected) == ("loaded", 1, 1)
    assert "row 2, column input_tokens: not a number ('ten')" in r.error
