"""The ingest framework on the canonical format: typed rows, rejects, natural keys, one transaction per file."""

from __future__ import annotations

import gzip
import zipfile
from decimal import Decimal

import pytest

from ingest import ingest_paths

HEADER = "ts,provider,model,project,input_tokens,cache_read_tokens,output_tokens,cost_usd"
ROWS = (
    "2026-03-01T10:00:00Z,openai,gpt-4o,alpha,1000,500,100,0.002875",
    "2026-03-01T11:00:00+02:00,openai,gpt-4o-mini,beta,2000,0,300,",
    "2026-03-02 09:30:00,anthropic,claude-sonnet-4-5,alpha,100,0,50,0.00105",
)


def counts(wh):
    return wh.sql("select (select count(*) from usage_raw) as n, (select count(*) from ingest_log) as logs").row(0)


def test_loads_typed_canonical_rows(wh, csv_file):
    [r] = ingest_paths(wh, [csv_file(HEADER, *ROWS)])
    assert (r.status, r.format, r.rows_loaded, r.rows_rejected) == ("loaded", "canonical", 3, 0)
    rows = wh.sql("select * from usage order by ts").to_dicts()
    assert [str(x["ts"]) for x in rows] == ["2026-03-01 09:00:00", "2026-03-01 10:00:00", "2026-03-02 09:30:00"]
    first = rows[1]  # 10:00Z row
    assert first["model"] == "gpt-4o" and first["granularity"] == "request" and first["requests"] == 1
    assert (first["input_tokens"], first["cache_read_tokens"], first["output_tokens"]) == (1000, 500, 100)
    assert first["cost_usd"] == Decimal("0.002875")
    # 1000 x $2.50 + 500 cached x $1.25 + 100 x $10 per 1M tokens
    assert first["list_cost_usd"] == Decimal("0.004125")
    assert rows[0]["cost_usd"] is None and rows[0]["team"] == "unassigned" and rows[0]["workload"] == "general"
    assert list(wh.sql("select * from usage limit 0").columns) == [
        "ts", "granularity", "provider", "model", "model_raw", "account", "project", "api_key", "user_id", "team",
        "workload", "operation", "service_tier", "requests", "input_tokens", "cache_read_tokens",
        "cache_write_tokens", "output_tokens", "reasoning_tokens", "cost_usd", "list_cost_usd", "source_format",
        "ingest_id", "session_id", "labels"]


def test_same_file_twice_is_duplicate(wh, csv_file):
    path = csv_file(HEADER, *ROWS)
    ingest_paths(wh, [path])
    [again] = ingest_paths(wh, [path])
    assert (again.status, again.rows_loaded, again.rows_duplicate) == ("duplicate", 0, 3)
    assert counts(wh)[0] == 3


def test_overlapping_export_adds_only_new_rows(wh, csv_file):
    ingest_paths(wh, [csv_file(HEADER, *ROWS[:2])])
    # a later export: the same two rows re-rendered (other order) plus one new row
    [r] = ingest_paths(wh, [csv_file(HEADER, ROWS[2], ROWS[1], ROWS[0])])
    assert (r.status, r.rows_loaded, r.rows_duplicate) == ("loaded", 1, 2)
    assert counts(wh)[0] == 3


def test_identical_rows_in_one_file_both_count(wh, csv_file):
    [r] = ingest_paths(wh, [csv_file(HEADER, ROWS[0], ROWS[0])])
    assert r.rows_loaded == 2


def test_bad_rows_set_aside_with_row_and_column(wh, csv_file):
    """Rejected: a row that cannot be placed (no time, a non-number where a number goes). Kept with a named
    warning: one that can be placed but looks wrong (negative tokens)."""
    path = csv_file(HEADER, ROWS[0],
                    "2026-03-01T10:00:00Z,openai,gpt-4o,alpha,-5,0,1,",
                    "not-a-time,openai,gpt-4o,alpha,1,0,1,",
                    "2026-03-01T10:00:00Z,openai,gpt-4o,alpha,1,0,1,abc",
                    "2026-03-01T10:00:00Z,openai,,alpha,1,0,1e400,")
    [r] = ingest_paths(wh, [path])
    assert (r.status, r.rows_loaded, r.rows_rejected, r.rows_warned) == ("loaded", 2, 3, 1)
    rejects = wh.sql("select row_number, column_name, reason from ingest_rejects order by all").rows()
    assert (3, "ts", "not a date/time") in rejects
    assert (4, "cost_usd", "not an amount") in rejects
    assert (5, "output_tokens", "not a finite number") in rejects
    assert {row for row, *_ in rejects} == {3, 4, 5}
    warnings = wh.sql("select row_number, column_name, warning from ingest_warnings").rows()
    assert warnings == [(2, "input_tokens", "negative (kept as written)")]


def test_strict_rejects_whole_file_and_changes_nothing(wh, csv_file):
    ingest_paths(wh, [csv_file(HEADER, ROWS[0])])
    before = counts(wh)
    [r] = ingest_paths(wh, [csv_file(HEADER, ROWS[1], "x,openai,gpt-4o,a,1,0,1,")], strict=True)
    assert r.status == "rejected" and "row 2, column ts" in r.error and "file" in r.error
    assert counts(wh) == before


@pytest.mark.parametrize("content, message", [
    (b"", "is empty"),
    (b"\x00\x01\x02garbage\x00" * 50, "binary"),
    ("\ufeff".encode("utf-16") + "a,b\n1,2\n".encode("utf-16-le"), "UTF-16"),
    (b"foo,bar\n1,2\n", "format not recognised"),
    (b"ts,provider,model,input_tokens\n2026-01-01,openai,gpt-4o,1\n", "format not recognised"),
])
def test_unreadable_files_rejected_whole(wh, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    [r] = ingest_paths(wh, [path])
    assert r.status == "rejected" and message in r.error and str(path) in r.error
    assert counts(wh) == (0, 0)


def test_header_only_file_is_a_result_not_an_error(wh, tmp_path):
    path = tmp_path / "header.csv"
    path.write_bytes(HEADER.encode() + b"\n")
    [r] = ingest_paths(wh, [path])
    assert (r.status, r.rows_loaded, r.error) == ("loaded", 0, f"{path}: 0 rows: nothing to load")
    assert counts(wh) == (0, 0)


def test_missing_required_column_named(wh, csv_file):
    path = csv_file("ts,provider,model,input_tokens,cost_usd", "2026-01-01,openai,gpt-4o,1,0.1")
    [r] = ingest_paths(wh, [path], format_id="canonical")
    assert r.status == "rejected" and "output_tokens" in r.error


def test_truncated_gzip_rejected(wh, tmp_path):
    data = gzip.compress(("\n".join([HEADER, *ROWS * 2000]) + "\n").encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    [r] = ingest_paths(wh, [path])
    assert r.status == "rejected" and "cut.csv.gz" in r.error
    assert counts(wh) == (0, 0)


def test_gzip_zip_and_folder(wh, tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv.gz").write_bytes(gzip.compress(("\n".join([HEADER, ROWS[0]]) + "\n").encode()))
    with zipfile.ZipFile(tmp_path / "in" / "b.zip", "w") as z:
        z.writestr("../../evil/b.csv", "\n".join([HEADER, ROWS[1]]) + "\n")
        z.writestr("notes.exe", "MZ")
    results = ingest_paths(wh, [tmp_path / "in"])
    by_status = sorted((r.status, r.rows_loaded) for r in results)
    assert by_status == [("loaded", 1), ("loaded", 1), ("rejected", 0)]
    assert not (tmp_path / "evil").exists()
    assert any("b.zip/../../evil/b.csv" in r.path for r in results)


def test_parquet_canonical(wh, tmp_path):
    import polars as pl

    path = tmp_path / "u.parquet"
    pl.DataFrame({"ts": ["2026-03-01 10:00:00"], "provider": ["openai"], "model": ["gpt-4o"],
                  "input_tokens": [10], "output_tokens": [5], "cost_usd": [0.1]}).with_columns(
        pl.col("ts").str.to_datetime()).write_parquet(path)
    [r] = ingest_paths(wh, [path])
    assert (r.status, r.rows_loaded) == ("loaded", 1)
    assert wh.sql("select input_tokens, output_tokens, cost_usd from usage").row(0) == (10, 5, Decimal("0.1"))


def test_crash_mid_file_leaves_ledger_as_before(wh, csv_file, monkeypatch):
    ingest_paths(wh, [csv_file(HEADER, ROWS[0])])
    before = counts(wh)
    from warehouse import ledger

    def boom(cur, **kw):
        raise RuntimeError("power cut")

    monkeypatch.setattr(ledger, "refresh_derived", boom)
    with pytest.raises(RuntimeError):
        ingest_paths(wh, [csv_file(HEADER, ROWS[1], ROWS[2])])
    assert counts(wh) == before
