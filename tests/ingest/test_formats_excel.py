"""Excel workbooks (issue 12 item 16): sheets are read (fastexcel, every cell as text) instead of one "skipped,
not a data file" line per zip member; the sheets a known format recognises load, the others are named as skipped
in one line. Fixtures: a Claude Console usage export kept in a workbook with a pivot and a notes sheet (real
dates and numbers), an OpenAI cost export saved as a workbook with a title line above the header."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import xlsxwriter

from ingest import ingest_paths

DATA = Path(__file__).resolve().parents[1] / "data" / "formats"
CLAUDE = DATA / "claude_usage_2026-08_workbook.xlsx"
OPENAI = DATA / "openai_cost_2026-05_titled.xlsx"


def test_known_sheet_loads_and_the_others_are_named_in_one_line(wh):
    results = ingest_paths(wh, [CLAUDE])
    assert len(results) == 2, results                 # never one line per zip member
    sheet, skipped = results
    assert (sheet.path, sheet.format, sheet.status) == (f"{CLAUDE}/claude_api_usage_2026_08",
                                                        "anthropic-console-usage-csv", "loaded")
    # row 4 (the 4th row below the header) has "n/a" tokens: that row only is set aside
    assert (sheet.rows_loaded, sheet.rows_rejected) == (3, 1)
    assert f"{CLAUDE}/claude_api_usage_2026_08 row 4, column usage_output_tokens: not a number ('n/a')" in sheet.error
    assert skipped.status == "rejected"
    assert skipped.error.startswith(f"{CLAUDE}: sheet(s) Pivot, Notes skipped, not a known export")
    # Excel dates and numbers arrive as the export wrote them
    rows = wh.sql("select ts, model, service_tier, input_tokens, cache_read_tokens, cache_write_tokens, "
                  "output_tokens from usage_raw order by ts, model").rows()
    assert rows == [
        (datetime(2026, 8, 3), "claude-haiku-4-5-20251001", "batch", 310_000, 0, 0, 22_050),
        (datetime(2026, 8, 3), "claude-sonnet-4-5-20250929", "standard", 41_200, 120_500, 8_000, 9_120),
        (datetime(2026, 8, 4), "claude-sonnet-4-5-20250929", "standard", 39_900, 130_220, 2_048, 10_011),
    ]


def test_title_line_above_the_header_is_skipped(wh):
    [r] = ingest_paths(wh, [OPENAI])
    assert (r.format, r.status, r.rows_loaded, r.rows_rejected) == ("openai-cost-csv", "loaded", 5, 0)
    # Unix seconds written as Excel numbers come back as whole numbers; long decimals kept as text
    assert wh.sql("select min(ts), sum(cost_usd) from usage_raw").row(0) == (datetime(2026, 5, 1),
                                                                             Decimal("2.404174"))


def test_workbook_inside_a_zip_and_a_workbook_without_a_known_sheet(wh, tmp_path):
    book = tmp_path / "notes.xlsx"
    wb = xlsxwriter.Workbook(str(book))
    wb.add_worksheet("Budget").write_row(0, 0, ["Team", "Q3 budget"])
    wb.close()
    archive = tmp_path / "exports.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(OPENAI, "may/openai_cost.xlsx")
    [inside] = ingest_paths(wh, [archive])
    assert (inside.path, inside.format, inside.rows_loaded) == (
        f"{archive}/may/openai_cost.xlsx/cost_2026-05-01_2026-05-05", "openai-cost-csv", 5)
    # no sheet is known: each is handed on and refused by name, as a CSV would be
    [alone] = ingest_paths(wh, [book])
    assert alone.status == "rejected" and alone.error.startswith(f"{book}/Budget: format not recognised")


def test_damaged_workbook_is_refused_with_what_to_do(wh, tmp_path):
    bad = tmp_path / "cut.xlsx"
    raw = io.BytesIO(OPENAI.read_bytes())
    bad.write_bytes(raw.getvalue()[:2000])
    [r] = ingest_paths(wh, [bad])
    assert r.status == "rejected" and str(bad) in r.error and "CSV" in r.error
