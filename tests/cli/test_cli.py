"""The command line as jobs use it: real subprocesses, exit codes, --json, and the inbox hand-over to a process
that holds the database."""

from __future__ import annotations

import getpass
import json
import os
import subprocess
import sys
import time

import pytest

from warehouse import Warehouse

HEADER = "ts,provider,model,input_tokens,output_tokens,cost_usd"


def run(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "modelmix", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


@pytest.mark.slow
def test_ingest_json_and_exit_codes(tmp_path, csv_file):
    db = str(tmp_path / "l.duckdb")
    good = csv_file(HEADER, "2026-01-01T00:00:00Z,openai,gpt-4o,10,1,0.1")
    p = run("ingest", str(good), "--db", db, "--json")
    assert p.returncode == 0, p.stderr
    files = json.loads(p.stdout)["files"]
    assert files == [{"path": str(good), "format": "canonical", "status": "loaded", "rows_loaded": 1,
                      "rows_duplicate": 0, "rows_rejected": 0, "rows_replaced": 0, "rows_warned": 0,
                      "error": None, "ingest_id": 1,
                      "parts": {"file": {"rows": 1, "requests": 1, "cost_usd": 0.1, "tokens": 11},
                                "loaded": {"rows": 1, "requests": 1, "cost_usd": 0.1, "tokens": 11}},
                      "replaced": [], "conservation": "file $0.10 → loaded $0.10"}]
    again = json.loads(run("ingest", str(good), "--db", db, "--json").stdout)["files"][0]
    assert (again["status"], again["rows_loaded"], again["rows_duplicate"]) == ("duplicate", 0, 1)

    partly_bad = csv_file(HEADER, "2026-01-02T00:00:00Z,openai,gpt-4o,10,1,", "2026-01-02T00:00:00Z,openai,gpt-4o,x,1,")
    p = run("ingest", str(partly_bad), "--db", db)
    assert p.returncode == 1 and "1 loaded" in p.stderr and "1 rejected" in p.stderr

    assert run("ingest", str(good), "--db", db, "--format", "nope").returncode == 2
    assert run("ingest", "--db", db).returncode == 2
    p = run("ingest", str(tmp_path / "missing.csv"), "--db", db)
    assert p.returncode == 1 and "no such file" in p.stderr


@pytest.mark.slow
def test_prices_commands(tmp_path, csv_file):
    db = str(tmp_path / "l.duckdb")
    run("ingest", str(csv_file(HEADER, "2026-01-01T00:00:00Z,acme,acme-9000,10,1,0.1")), "--db", db)
    p = run("prices", "gpt-4o-mini", "--provider", "openai", "--date", "2025-06-01", "--csv", "--db", db)
    assert p.returncode == 0 and "catalog,openai,gpt-4o-mini" in p.stdout and "0.15" in p.stdout
    p = run("prices", "--unpriced", "--csv", "--db", db)
    assert p.returncode == 0 and "acme,acme-9000" in p.stdout
    p = run("formats")
    assert "litellm-spend-logs" in p.stdout and "canonical" in p.stdout


@pytest.mark.slow
def test_ingest_hands_files_to_the_process_holding_the_db(tmp_path, csv_file):
    db = tmp_path / "held.duckdb"
    owner = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\n"
         "from modelmix.runtime import open_owner\n"
         f"wh = open_owner({str(db)!r})\n"
         "print('ready', flush=True)\n"
         "sys.stdin.readline()\n"
         "print(wh.scalar('select count(*) from usage'), flush=True)\n"
         "wh.inbox_watcher.stop(); wh.close()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "MODELMIX_INBOX_POLL_SECONDS": "0.2"})
    try:
        assert owner.stdout.readline().strip() == "ready"
        path = csv_file(HEADER, "2026-01-01T00:00:00Z,openai,gpt-4o,10,1,0.1", "2026-01-01T01:00:00Z,openai,gpt-4o,5,1,0.1")
        started = time.monotonic()
        p = run("ingest", str(path), "--db", str(db), "--json", timeout=60)
        assert p.returncode == 0, p.stderr
        assert "handing 1 file(s)" in p.stderr
        [f] = json.loads(p.stdout)["files"]
        assert (f["path"], f["status"], f["rows_loaded"]) == (str(path), "loaded", 2)
        assert time.monotonic() - started < 30
        owner.stdin.write("\n")
        owner.stdin.flush()
        assert owner.stdout.readline().strip() == "2"   # the owner sees the rows without a restart
    finally:
        owner.stdin.close()
        owner.wait(timeout=30)
    with Warehouse(db) as wh:
        assert wh.scalar("select count(*) from usage_raw") == 2
        # audited under the user of the process that asked, not the dashboard's
        assert wh.sql("select actor, action from audit_log").rows() == [(f"cli:{getpass.getuser()} via inbox", "ingest")]
    assert not list((tmp_path / "held.duckdb.inbox").glob("*.json"))


@pytest.mark.slow
def test_report_and_alerts(tmp_path, csv_file):
    db = str(tmp_path / "l.duckdb")
    rows = [f"2026-10-{d:02d}T12:00:00Z,openai,gpt-4o,1000,100,{'5.0' if d == 28 else '0.5'}" for d in range(1, 29)]
    assert run("ingest", str(csv_file(HEADER, *rows)), "--db", db).returncode == 0
    out = tmp_path / "focus.csv"
    p = run("report", "--month", "2026-10", "--format", "focus", "--out", str(out), "--db", db)
    assert p.returncode == 0, p.stderr
    text = out.read_text()
    assert "BilledCost" in text and "AI and Machine Learning" in text
    p = run("report", "--month", "2026-13", "--format", "csv", "--out", str(out), "--db", db)
    assert p.returncode == 1 and "2026-13" in p.stderr
    p = run("alerts", "--json", "--db", db)
    assert (p.returncode, json.loads(p.stdout)) == (0, {"alerts": []})
    budget = tmp_path / "budgets.yaml"
    budget.write_text("budgets:\n  - {scope: provider, name: openai, period: month, start: 2026-10, amount_usd: 10}\n")
    assert run("budgets", str(budget), "--db", db).returncode == 0
    p = run("alerts", "--json", "--db", db)
    found = json.loads(p.stdout)["alerts"]
    # 27 days x $0.50 + $5.00 = $18.50 against $10: over budget, crossed on the 20th
    assert p.returncode == 1 and [(a["kind"], a["severity"], a["crossing_date"]) for a in found] == [
        ("budget", "critical", "2026-10-20")]


@pytest.mark.slow
def test_simulate_sweep_report_and_outlook(tmp_path, csv_file):
    db = str(tmp_path / "l.duckdb")
    rows = [f"2026-{m:02d}-{d:02d}T12:00:00Z,openai,gpt-4o,{1000 * d},{100 * d},"
            for m in range(1, 7) for d in range(1, 28)]
    assert run("ingest", str(csv_file(HEADER, *rows)), "--db", db).returncode == 0
    scenario = tmp_path / "s.yaml"
    scenario.write_text("name: half-to-mini\npolicies:\n  - kind: shift\n    match: {models: [gpt-4o]}\n"
                        "    share: 0.5\n    to: {model: gpt-4o-mini}\n")
    p = run("simulate", str(scenario), "--db", db, "--json", "--sweep", "share=0:1:0.5")
    assert p.returncode == 0, p.stderr
    sweep = json.loads(p.stdout)
    assert [pt["share"] for pt in sweep["points"]] == [0.0, 0.5, 1.0]
    assert sweep["points"][0]["savings_usd"] == 0
    full = json.loads(run("simulate", str(scenario), "--db", db, "--json").stdout)
    assert abs(sweep["points"][1]["savings_usd"] - full["savings_usd"]) < 0.005
    report = tmp_path / "r.md"
    assert run("simulate", str(scenario), "--db", db, "--report", str(report)).returncode == 0
    assert "# What-if: half-to-mini" in report.read_text() and "| Savings |" in report.read_text()
    assert run("simulate", str(scenario), "--db", db, "--sweep", "hit_rate=0:1:0.5").returncode == 1
    p = run("outlook", str(scenario), "--db", db, "--months", "6", "--json")
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["months"] == 6 and set(out["totals"]) >= {"baseline", "scenario"}
    assert out["totals"]["scenario"]["p50"] < out["totals"]["baseline"]["p50"]
