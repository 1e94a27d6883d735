"""`modelmix pull` / `modelmix jobs` as cron runs them (real subprocesses against the loopback fake API), the
jobs.yaml model and schedule, the Sources page services, and the hand-over to a process holding the ledger."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys

import pytest

from pull import LocalSink, load_jobs, run_due, run_job, status
from pull.jobs import Schedule
from pull_fakes import (ANTHROPIC_COSTS, ANTHROPIC_USAGE, OPENAI_COSTS, OPENAI_USAGE, FakeProviderApi, anthropic_usage,
                        day, openai_completion, openai_cost)
from warehouse import Warehouse
from warehouse.errors import ConfigError

KEY = "sk-admin-cli-0123456789"


def closed_days(today: dt.date) -> list[dt.date]:
    """The 5 closed days before `today`."""
    return [today - dt.timedelta(days=n) for n in range(5, 0, -1)]


def recent_data(days: list[dt.date]) -> dict:
    data: dict = {OPENAI_USAGE + "completions": {}, OPENAI_COSTS: {}, ANTHROPIC_USAGE: {}, ANTHROPIC_COSTS: {}}
    for i, d in enumerate(days, start=1):
        t = day(d.year, d.month, d.day)
        data[OPENAI_USAGE + "completions"][t] = [openai_completion("gpt-4o-mini-2024-07-18", "proj_a", i)]
        data[OPENAI_COSTS][t] = [openai_cost("gpt-4o-mini-2024-07-18, input", 0.01 * i)]
        data[ANTHROPIC_USAGE][t] = [anthropic_usage("claude-sonnet-4-20250514", 1000 * i)]
    return data


def run(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "modelmix", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture
def api():
    """The fake API holding the 5 days before today, today taken when the test starts (not when the module is
    imported: a suite that runs across midnight UTC would otherwise serve days the pull no longer expects)."""
    today = dt.datetime.now(dt.timezone.utc).date()
    with FakeProviderApi(recent_data(closed_days(today)), key=KEY, page_size=2) as fake:
        fake.today, fake.recent = today, closed_days(today)
        yield fake


def test_schedule_interval_and_daily():
    now = dt.datetime(2026, 9, 11, 6, 0, 5, tzinfo=dt.timezone.utc)
    assert Schedule.parse("1d").is_due(None, now)
    # yesterday's run ended 40 s after 06:00; today's cron at 06:00:05 still runs it (5% slack)
    assert Schedule.parse("1d").is_due(now - dt.timedelta(days=1) + dt.timedelta(seconds=35), now)
    assert not Schedule.parse("6h").is_due(now - dt.timedelta(hours=2), now)
    daily = Schedule.parse("daily 06:00")
    assert daily.is_due(dt.datetime(2026, 9, 10, 6, 1, tzinfo=dt.timezone.utc), now)
    assert not daily.is_due(dt.datetime(2026, 9, 11, 6, 0, 1, tzinfo=dt.timezone.utc), now)
    assert not daily.is_due(dt.datetime(2026, 9, 11, 5, 0, tzinfo=dt.timezone.utc),
                            dt.datetime(2026, 9, 11, 5, 30, tzinfo=dt.timezone.utc))
    for bad in ("daily 25:00", "0h", "weekly", "1w"):
        with pytest.raises(ValueError):
            Schedule.parse(bad)


def test_jobs_file_errors_name_the_field(tmp_path):
    path = tmp_path / "jobs.yaml"
    path.write_text("jobs:\n  - {name: a, kind: openai, schedule: sometimes}\n")
    with pytest.raises(ConfigError, match=r"jobs\.0\.schedule"):
        load_jobs(path)
    path.write_text("jobs:\n  - {name: a, kind: sql, preset: litellm}\n")
    with pytest.raises(ConfigError, match="url_env"):
        load_jobs(path)
    path.write_text("jobs:\n  - {name: a, kind: openai, table: x}\n  - {name: a, kind: anthropic}\n")
    with pytest.raises(ConfigError, match="only apply to kind sql"):
        load_jobs(path)
    path.write_text("jobs:\n  - {name: a, kind: openai, api_key: sk-oops}\n")
    with pytest.raises(ConfigError, match="api_key"):       # a key pasted into the file is refused
        load_jobs(path)


@pytest.mark.slow
def test_cli_pull_twice_and_status(tmp_path, api):
    db = str(tmp_path / "l.duckdb")
    env = {"OPENAI_ADMIN_KEY": KEY}
    since = api.recent[0].isoformat()
    p = run("pull", "openai", "--db", db, "--base-url", api.base_url, "--since", since, "--json", env=env)
    assert p.returncode == 0, p.stderr
    streams = {s["stream"]: s for s in json.loads(p.stdout)["streams"]}
    assert streams["usage/completions"]["rows_loaded"] == 5 and streams["usage/completions"]["pages"] == 3
    assert streams["costs"]["rows_loaded"] == 5
    p = run("pull", "openai", "--db", db, "--base-url", api.base_url, env=env)
    assert p.returncode == 0, p.stderr
    assert "usage/completions: 1 page(s), 0 new row(s), 2 already loaded" in p.stdout
    p = run("jobs", "status", "--db", db, "--json")
    rows = {r["stream"]: r for r in json.loads(p.stdout)["sources"]}
    assert rows["usage/completions"]["rows_loaded_total"] == 5 and rows["costs"]["last_status"] == "ok"
    assert KEY not in p.stdout


@pytest.mark.slow
def test_cli_401_names_the_variable(tmp_path, api):
    p = run("pull", "anthropic", "--db", str(tmp_path / "l.duckdb"), "--base-url", api.base_url,
            env={"ANTHROPIC_ADMIN_KEY": "sk-ant-admin01-wrong-key"})
    assert p.returncode == 1
    assert "ANTHROPIC_ADMIN_KEY" in p.stderr and "401" in p.stderr and "wrong-key" not in p.stderr + p.stdout
    p = run("pull", "openrouter", "--db", str(tmp_path / "l.duckdb"), env={"OPENROUTER_API_KEY": ""})
    assert p.returncode == 1 and "OPENROUTER_API_KEY" in p.stderr


@pytest.mark.slow
def test_jobs_run_due_once_and_fail_exit(tmp_path, api):
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(f"""jobs:
  - name: openai-prod
    kind: openai
    base_url: {api.base_url}
    schedule: daily 00:00
  - name: anthropic-prod
    kind: anthropic
    key_env: MY_ANTHROPIC_KEY
    base_url: {api.base_url}
    schedule: 6h
""")
    db = str(tmp_path / "l.duckdb")
    env = {"OPENAI_ADMIN_KEY": KEY, "MY_ANTHROPIC_KEY": KEY, "MODELMIX_PULL_LOOKBACK_DAYS": "6"}
    p = run("jobs", "run", "--file", str(jobs), "--db", db, "--json", env=env)
    assert p.returncode == 0, p.stdout + p.stderr
    out = {j["name"]: j for j in json.loads(p.stdout)["jobs"]}
    assert out["openai-prod"]["status"] == "ok" and out["anthropic-prod"]["status"] == "ok"
    assert sum(s["rows_loaded"] for s in out["anthropic-prod"]["streams"]) == 5
    p = run("jobs", "run", "--file", str(jobs), "--db", db, env=env)      # nothing due any more
    assert p.returncode == 0 and p.stdout.split() == ["not", "due", "openai-prod", "not", "due", "anthropic-prod"]
    p = run("jobs", "run", "--file", str(jobs), "--db", db, "--name", "anthropic-prod", "--force",
            env={**env, "MY_ANTHROPIC_KEY": ""})
    assert p.returncode == 1 and "MY_ANTHROPIC_KEY" in p.stdout
    with Warehouse(db) as wh:
        st = status(wh)
        failed = st.filter(st["last_status"] == "failed")
        assert set(failed["source"]) == {"anthropic-prod"} and "MY_ANTHROPIC_KEY" in failed["last_error"][0]
        # a failed job is due again at once
        [o] = run_due(LocalSink(wh), load_jobs(jobs), name="anthropic-prod", env={"MY_ANTHROPIC_KEY": KEY})
        assert o.ran and o.ok and sum(r.rows_duplicate for r in o.reports) == 2     # the 2-day safety window


@pytest.mark.slow
def test_run_job_service_for_the_sources_page(wh, tmp_path, api):
    jobs = tmp_path / "jobs.yaml"
    jobs.write_text(f"jobs:\n  - {{name: oa, kind: openai, base_url: '{api.base_url}', since: {api.recent[0]}}}\n")
    outcome = run_job(wh, "oa", jobs=jobs, env={"OPENAI_ADMIN_KEY": KEY})
    assert outcome.ok and sum(r.rows_loaded for r in outcome.reports) == 10
    frame = status(wh)
    assert frame.columns[:4] == ["source", "kind", "stream", "loaded_until"]
    assert set(frame["source"]) == {"oa"} and frame["rows_loaded_total"].sum() == 10


@pytest.mark.slow
def test_pull_hands_pages_to_the_process_holding_the_db(tmp_path, api):
    db = tmp_path / "held.duckdb"
    owner = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\n"
         "from modelmix.runtime import open_owner\n"
         f"wh = open_owner({str(db)!r})\n"
         "print('ready', flush=True)\n"
         "sys.stdin.readline()\n"
         "print(wh.scalar('select count(*) from usage_raw'), flush=True)\n"
         "wh.inbox_watcher.stop(); wh.close()\n"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        env={**os.environ, "MODELMIX_INBOX_POLL_SECONDS": "0.1"})
    try:
        assert owner.stdout.readline().strip() == "ready"
        p = run("pull", "anthropic", "--db", str(db), "--base-url", api.base_url, "--since",
                api.recent[0].isoformat(), "--json", env={"ANTHROPIC_ADMIN_KEY": KEY}, timeout=120)
        assert p.returncode == 0, p.stderr
        assert "open in the dashboard" in p.stderr
        streams = json.loads(p.stdout)["streams"]
        assert [s["rows_loaded"] for s in streams] == [5, 0]
        p = run("jobs", "status", "--db", str(db), "--json")
        assert {r["stream"]: r["loaded_until"] for r in json.loads(p.stdout)["sources"]}["usage_report/messages"] \
            .startswith(api.today.isoformat())
        owner.stdin.write("\n")
        owner.stdin.flush()
        assert owner.stdout.readline().strip() == "5"
    finally:
        owner.stdin.close()
        owner.wait(timeout=30)
    assert not list((tmp_path / "held.duckdb.inbox").glob("*.json"))
