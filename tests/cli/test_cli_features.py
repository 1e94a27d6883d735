"""Command line of issue 16: `modelmix focus-check` on an exported FOCUS file (exit 0) and on a broken one (exit 1,
violations named by row and column); `modelmix alerts` reports a regression (exit 1); OTel spans ingest."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tests.regression_data import Series, build
from test_cli import HEADER, run
from warehouse import Warehouse

OTEL = Path(__file__).resolve().parents[1] / "data" / "otel" / "otel_genai_spans_2026-11-14.jsonl"


@pytest.mark.slow
def test_focus_check_passes_the_export_and_names_broken_rows(tmp_path, csv_file):
    db = str(tmp_path / "l.duckdb")
    rows = [f"2026-10-{d:02d}T12:00:00Z,openai,gpt-4o,1000,100,0.5" for d in range(1, 4)]
    assert run("ingest", str(csv_file(HEADER, *rows)), "--db", db).returncode == 0
    out = tmp_path / "focus.csv"
    assert run("report", "--month", "2026-10", "--format", "focus", "--out", str(out), "--db", db).returncode == 0
    p = run("focus-check", str(out))
    assert (p.returncode, p.stdout.strip()) == (0, f"{out}: passes the FOCUS rules checked")
    broken = tmp_path / "broken.csv"
    broken.write_text(out.read_text().replace(",USD,", ",usd,", 1))
    p = run("focus-check", str(broken), "--json")
    assert p.returncode == 1
    [v] = json.loads(p.stdout)["violations"]
    assert (v["row"], v["column"], v["value"]) == (1, "BillingCurrency", "usd")
    assert run("focus-check", str(tmp_path / "missing.csv")).returncode == 2


@pytest.mark.slow
def test_alerts_exit_1_on_a_regression(tmp_path):
    with Warehouse(tmp_path / "l.duckdb") as wh:
        build(wh, tmp_path, [Series("search", "model-a", "key-1", requests=1500, prompt=4000, share=0.88, output=300,
                                    injected={"cache": (60, 0.31)})], dt.date(2026, 8, 1), 70)
    p = run("alerts", "--db", str(tmp_path / "l.duckdb"))
    assert p.returncode == 1
    assert "[warning] Cache efficiency: model-a, team search, since 2026-09-30: cache hit rate fell from" in p.stdout


@pytest.mark.slow
def test_ingest_otel_spans(tmp_path):
    p = run("ingest", str(OTEL), "--db", str(tmp_path / "l.duckdb"), "--json")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "otel-genai-spans" in p.stdout
