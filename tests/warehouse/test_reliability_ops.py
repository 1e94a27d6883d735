"""Load, concurrency, crashes, disks, backup/restore and DuckDB file-access hardening (issue 6), with real files,
real threads and real processes:

- 8 upload sessions (threads, as Streamlit runs them) load different files through the upload service into ONE
  Warehouse while 4 others query: every row lands once, nobody sees an error;
- `modelmix ingest` killed with SIGKILL while it stages 600,000 rows, and again after the rows are inserted but
  before the commit: the ledger opens, the file is wholly out, and running the job again loads it whole;
- a read-only ledger folder and a full disk (tiny tmpfs mounts; needs root) give one clear line, exit 1;
- `modelmix backup` / `restore` round-trip every table; restore refuses to overwrite a ledger with data;
- `enable_external_access = false` is instance-wide in DuckDB: what that means for staging, measured."""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from dashboard.services import upload as svc
from finance import budgets
from ingest import ingest_paths
from warehouse import Warehouse, config
from warehouse.backup import MANIFEST, BackupError, backup, restore
from warehouse.errors import DatabaseError

HEADER = "ts,provider,model,project,input_tokens,output_tokens,cost_usd"


def run_cli(*args: str, timeout: float = 120, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "modelmix", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "empty.duckdb"
    Warehouse(path).close()
    return path


def fresh(template: Path, where: Path) -> Path:
    where.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(template, where)
    return where


def usage_file(path: Path, session: int, rows: int) -> Path:
    """`rows` distinct canonical rows of one session (its own project), seeded."""
    rng = random.Random(session)
    start = dt.datetime(2026, 1, 1) + dt.timedelta(days=session)
    lines = [f"{(start + dt.timedelta(seconds=i)).isoformat()}Z,openai,gpt-4o-mini,session-{session},"
             f"{rng.randint(1, 5000)},{rng.randint(1, 500)},0.0{rng.randint(1, 9)}" for i in range(rows)]
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


# --- concurrency -----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_eight_sessions_upload_while_four_query(template, tmp_path):
    db = fresh(template, tmp_path / "l.duckdb")
    rows_per_file = 2_000
    files = [usage_file(tmp_path / f"s{i}.csv", i, rows_per_file) for i in range(8)]
    errors: list[BaseException] = []
    results: dict[int, list] = {}
    done = threading.Event()
    queries = [0]

    with Warehouse(db) as wh:
        def upload(i: int) -> None:
            try:
                with open(files[i], "rb") as f:
                    staged = svc.stage(f, f"session {i}.csv", tmp_path / f"staging-{i}")
                assert svc.inspect(staged, f"session {i}.csv")[0].ready
                results[i] = svc.load(wh, staged, f"session {i}.csv")
            except BaseException as e:  # noqa: BLE001 -- collected and failed below
                errors.append(e)

        def query() -> None:
            try:
                while not done.is_set():
                    n = wh.scalar("select count(*) from usage")
                    spend = wh.query("ingest_history", limit=50)
                    assert n >= 0 and spend is not None
                    # a reader never sees half a file: always a whole number of files
                    assert wh.scalar("select count(*) from usage_raw") % rows_per_file == 0
                    queries[0] += 1
            except BaseException as e:  # noqa: BLE001
                errors.append(e)

        threads = [threading.Thread(target=upload, args=(i,)) for i in range(8)]
        readers = [threading.Thread(target=query) for _ in range(4)]
        for t in readers + threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        done.set()
        for t in readers:
            t.join(timeout=30)
        assert not errors, errors
        assert all(r.status == "loaded" and r.rows_loaded == rows_per_file for rs in results.values() for r in rs)
        per_project = dict(wh.sql("select project, count(*) from usage group by 1").rows())
        assert per_project == {f"session-{i}": rows_per_file for i in range(8)}        # every row once
        assert wh.scalar("select count(distinct row_key) from usage_raw") == 8 * rows_per_file
        assert wh.scalar("select count(*) from ingest_log where status = 'loaded'") == 8
    assert queries[0] > 8


# --- crash: SIGKILL in the middle of a large ingest ---------------------------------------------------------
BIG_ROWS = 600_000

# the real CLI in a real process; the only addition is a line on stderr when a phase starts, so the test kills
# it at a known point rather than after a guessed delay
HOOKED_CLI = """
import sys
from ingest import job, stage
from warehouse import ledger
phase = sys.argv[1]
real_sql, real_refresh = stage.staging_sql, ledger.refresh_derived
def staging_sql(*a, **k):
    if phase == "staging":
        print("PHASE staging", file=sys.stderr, flush=True)
    return real_sql(*a, **k)
def refresh(cur, **kw):
    if phase == "refresh":
        print("PHASE refresh", file=sys.stderr, flush=True)
    return real_refresh(cur, **kw)
stage.staging_sql, job.ledger.refresh_derived = staging_sql, refresh
from cli.main import main
sys.exit(main(["ingest", *sys.argv[2:]]))
"""


def big_file(path: Path) -> Path:
    rng = np.random.default_rng(11)
    start = dt.datetime(2025, 1, 1)
    pl.DataFrame({
        "ts": pl.datetime_range(start, start + dt.timedelta(seconds=BIG_ROWS - 1), "1s", eager=True)
        .dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "provider": "openai", "model": rng.choice(["gpt-4o", "gpt-4o-mini"], BIG_ROWS),
        "input_tokens": rng.integers(10, 5000, BIG_ROWS), "output_tokens": rng.integers(1, 800, BIG_ROWS),
    }).write_csv(path)
    return path


def kill_at(phase: str, path: Path, db: Path, delay: float) -> float:
    p = subprocess.Popen([sys.executable, "-c", HOOKED_CLI, phase, str(path), "--db", str(db)],
                         stderr=subprocess.PIPE, text=True)
    try:
        line = p.stderr.readline()
        assert line.strip() == f"PHASE {phase}", line
        time.sleep(delay)
        assert p.poll() is None, "the load finished before the kill: make the file bigger"
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        return p.returncode
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


@pytest.mark.slow
def test_sigkill_mid_ingest_leaves_the_file_wholly_out_and_a_rerun_completes_it(template, tmp_path):
    db = fresh(template, tmp_path / "l.duckdb")
    path = big_file(tmp_path / "big.csv")
    for phase, delay in (("staging", 1.0), ("refresh", 0.3)):   # mid-read; rows inserted, not yet committed
        assert kill_at(phase, path, db, delay) == -signal.SIGKILL
        with Warehouse(db) as wh:                                  # the ledger opens after the crash
            assert not list(wh.staging_dir.glob("ingest-*"))       # and clears the dead job's staged files
            assert wh.scalar("select count(*) from usage_raw") in (0, BIG_ROWS)
            assert wh.scalar("select count(*) from usage_raw") == 0  # uncommitted: wholly out
            assert wh.scalar("select count(*) from ingest_log") == 0
    p = run_cli("ingest", str(path), "--db", str(db), "--json", timeout=300)
    assert p.returncode == 0, p.stderr
    with Warehouse(db) as wh:
        assert wh.scalar("select count(*) from usage_raw") == BIG_ROWS
        assert wh.scalar("select count(distinct row_key) from usage_raw") == BIG_ROWS     # none twice
        assert wh.sql("select status, rows_loaded from ingest_log").rows() == [("loaded", BIG_ROWS)]
        assert wh.scalar("select sum(requests) from usage_daily") == BIG_ROWS


# --- disks: read-only and full -----------------------------------------------------------------------------
@contextmanager
def tmpfs(path: Path, size: str):
    """A tiny tmpfs at `path` (root only): a real 'No space left on device' / read-only file system."""
    path.mkdir(parents=True, exist_ok=True)
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {p.stderr.decode().strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def one_clear_line(p: subprocess.CompletedProcess, *fragments: str) -> str:
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "Traceback" not in p.stderr, p.stderr
    lines = [ln for ln in p.stderr.strip().splitlines() if "handing" not in ln]
    assert len(lines) == 1, p.stderr
    for f in fragments:
        assert f.lower() in lines[0].lower(), (f, lines[0])
    return lines[0]


@pytest.mark.slow
def test_read_only_ledger_folder(template, tmp_path, csv_file):
    good = csv_file(HEADER, "2026-01-01T00:00:00Z,openai,gpt-4o,a,10,1,0.1")
    with tmpfs(tmp_path / "ro", "16m") as mnt:
        fresh(template, mnt / "l.duckdb")
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        line = one_clear_line(run_cli("ingest", str(good), "--db", str(mnt / "l.duckdb")), "Database error")
        assert "read-only" in line.lower() and "writable" in line
        with pytest.raises(DatabaseError) as e:                       # the same error in-process
            Warehouse(mnt / "l.duckdb")
        assert e.value.title == "Database error" and "\n" not in e.value.message
        one_clear_line(run_cli("ingest", str(good), "--db", str(mnt / "new.duckdb")), "Database error")


@pytest.mark.slow
def test_full_disk(template, tmp_path):
    size = template.stat().st_size
    big = usage_file(tmp_path / "big.csv", 2, 200_000)
    small = usage_file(tmp_path / "small.csv", 3, 10)
    with tmpfs(tmp_path / "full", f"{size + 1_000_000}") as mnt:
        db = fresh(template, mnt / "l.duckdb")
        p = run_cli("ingest", str(big), "--db", str(db), env={"MODELMIX_MEMORY_LIMIT": "64MB"})
        line = one_clear_line(p, "REJECTED", str(big))
        assert "space" in line.lower() and "free" in line.lower()
        shutil.rmtree(str(db) + ".tmp", ignore_errors=True)
        # the ledger it left is whole and takes the next file
        p = run_cli("ingest", str(small), "--db", str(db))
        assert p.returncode == 0, p.stderr
        with Warehouse(db) as wh:
            assert wh.scalar("select count(*) from usage_raw") == 10
            assert wh.sql("select file_name from ingest_log")["file_name"].to_list() == [str(small)]


# --- backup and restore ------------------------------------------------------------------------------------
def filled_ledger(db: Path, tmp_path: Path) -> None:
    bad = tmp_path / "partly_bad.csv"
    bad.write_text(HEADER + "\n2026-02-01T00:00:00Z,openai,gpt-4o,x,lots,1,0.1\n2026-02-01T00:00:00Z,openai,gpt-4o,x,5,1,0.1\n")
    with Warehouse(db) as wh:
        ingest_paths(wh, [usage_file(tmp_path / "u.csv", 4, 500), bad])
        config.replace_rules(wh, [config.AttributionRule(field="project", pattern="session-*", team="ops")])
        config.replace_overrides(wh, [config.PriceOverride(provider="openai", model="gpt-4o-mini",
                                                           effective_from=dt.date(2025, 1, 1), discount_pct=10)])
        config.replace_aliases(wh, [config.ModelAlias(alias="mini", model="gpt-4o-mini")])
        budgets.replace_budgets(wh, [budgets.Budget(scope="team", name="ops", start=dt.date(2026, 1, 1),
                                                    amount_usd=Decimal("100"))])
        # the tables a page fills (scenarios, quality scores, pull state): one row of typed values each
        for table in ("scenarios", "quality_scores", "pull_state"):
            cols = wh.sql("select column_name, data_type from information_schema.columns "
                          "where table_name = $t order by ordinal_position", t=table).rows()
            value = {"VARCHAR": "x", "DOUBLE": 0.5, "INTEGER": 1, "BIGINT": 1, "BOOLEAN": True,
                     "TIMESTAMP": dt.datetime(2026, 1, 1), "DATE": dt.date(2026, 1, 1), "JSON": "{}"}
            params = {f"p{i}": value.get(t.split("(")[0], "1") for i, (_, t) in enumerate(cols)}
            placeholders = ", ".join(f"${k}" for k in params)
            wh.write(lambda cur, t=table, ph=placeholders, pr=params:
                     cur.execute("insert into " + t + " values (" + ph + ")", pr))   # t: our own table names


@pytest.mark.slow
def test_backup_restore_round_trip(template, tmp_path):
    db = fresh(template, tmp_path / "l.duckdb")
    filled_ledger(db, tmp_path)
    summary = ("select (select count(*) from usage) as n, (select sum(list_cost_usd) from usage) as listed, "
               "(select sum(spend_usd) from usage_daily) as spend, (select count(*) from ingest_rejects) as rej, "
               "(select max(ingest_id) from ingest_log) as last_id, "
               "(select string_agg(team, ',' order by team) from (select distinct team from usage)) as teams")
    with Warehouse(db) as wh:
        before = wh.sql(summary).row(0)
        counts = {t: wh.scalar('select count(*) from "' + t + '"') for (t,) in
                  wh.sql("select table_name from duckdb_tables() where not temporary").rows()}
    assert all(counts[t] for t in ("usage_raw", "ingest_log", "ingest_rejects", "attribution_rules",
                                   "price_overrides", "model_aliases", "budgets", "scenarios", "quality_scores"))
    assert run_cli("backup", str(tmp_path / "bk"), "--db", str(db)).returncode == 0
    assert (tmp_path / "bk" / MANIFEST).exists() and (tmp_path / "bk" / "schema.sql").exists()

    target = tmp_path / "restored.duckdb"
    p = run_cli("restore", str(tmp_path / "bk"), "--db", str(target))
    assert p.returncode == 0, p.stderr
    with Warehouse(target) as wh:
        assert wh.sql(summary).row(0) == before                    # counts, sums, attribution: identical
        # every table as it was, plus the restore's own audit row
        assert {t: wh.scalar('select count(*) from "' + t + '"') for t in counts} == {**counts,
                                                                                        "audit_log": counts["audit_log"] + 1}
        assert wh.sql("select action, target from audit_log order by occurred_at desc limit 1").row(0) == (
            "restore", str((tmp_path / "bk").resolve()))
        # the sequence goes on after the restored ids
        [r] = ingest_paths(wh, [usage_file(tmp_path / "more.csv", 5, 3)])
        assert r.status == "loaded" and r.ingest_id > before[4]

    # a ledger with data is not overwritten without --force; a backup folder is never overwritten
    line = one_clear_line(run_cli("restore", str(tmp_path / "bk"), "--db", str(target)), "--force")
    assert "already holds" in line
    with pytest.raises(BackupError):
        restore(tmp_path / "nothing-here", target)
    with Warehouse(db) as wh, pytest.raises(BackupError):
        backup(wh, tmp_path / "bk")
    assert run_cli("restore", str(tmp_path / "bk"), "--db", str(target), "--force").returncode == 0
    with Warehouse(target) as wh:
        assert wh.sql(summary).row(0) == before


# --- DuckDB file-access hardening ---------------------------------------------------------------------------
@pytest.mark.parametrize("hostile", [
    "select * from read_csv('/etc/passwd')",
    "copy (select 1) to '{outside}/leak.csv'",
    "attach '{outside}/other.duckdb'",
    "install httpfs",
    "set enable_external_access = true",
    "set allowed_directories = ['/']",
    "set lock_configuration = false",
])
def test_duckdb_reads_and_writes_only_the_staging_folder(template, tmp_path, csv_file, hostile):
    """Every cursor of the ledger (the dashboard's, a person's view, the writer's) may touch files only inside the
    ledger's staging folder, load no extension, and change no setting: a query built from hostile input can't
    read or write the disk. Ingest still loads files from anywhere (staged by hard link or copy)."""
    db = fresh(template, tmp_path / "l.duckdb")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    ok = csv_file(HEADER, "2026-01-02T00:00:00Z,openai,gpt-4o,a,10,1,0.1", name="elsewhere/ok.csv")
    with Warehouse(db) as wh:
        for view in (wh, wh.as_user("viewer@example.com", ["a"])):
            with pytest.raises(DatabaseError, match="disabled by configuration|locked|Permission"):
                view.sql(hostile.format(outside=outside))
        assert not (outside / "leak.csv").exists() and not (outside / "other.duckdb").exists()
        [r] = ingest_paths(wh, [ok])
        assert r.status == "loaded", r.error
        assert wh.staging_dir == tmp_path / "l.duckdb.staging"
        assert list(wh.staging_dir.iterdir()) == []      # the staged link is gone with its job
