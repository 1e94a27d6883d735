"""Database pulls against a real PostgreSQL server (tests/pg_server.py; Debian's `postgresql`, which `.ci/run`
installs): the LiteLLM preset pulls `LiteLLM_SpendLogs` incrementally (new rows only on the second pull), a plain
table with a mapping file, a query, and a readable error that never shows the database password."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from pg_server import INSTALL_HINT, PostgresServer, find_bin_dir
from pull import LocalSink, status
from pull.sqlsource import SqlPull, pull_sql, safe_url

# the columns of LiteLLM's schema.prisma that matter here, with Prisma's Postgres types (docs/research.md "LiteLLM
# spend logs")
SPEND_LOGS_DDL = """
create table "LiteLLM_SpendLogs" (
    request_id text primary key,
    call_type text not null,
    api_key text not null default '',
    spend double precision not null default 0,
    total_tokens integer not null default 0,
    prompt_tokens integer not null default 0,
    completion_tokens integer not null default 0,
    "startTime" timestamp(3) not null,
    "endTime" timestamp(3) not null,
    model text not null default '',
    model_group text default '',
    custom_llm_provider text default '',
    "user" text default '',
    metadata jsonb default '{}',
    team_id text,
    organization_id text,
    end_user text,
    messages jsonb default '{}',
    response jsonb default '{}',
    status text
)
"""
INSERT = sa.text(
    'insert into "LiteLLM_SpendLogs" (request_id, call_type, api_key, spend, total_tokens, prompt_tokens, '
    'completion_tokens, "startTime", "endTime", model, custom_llm_provider, "user", metadata, team_id, messages, '
    'status) values (:id, \'acompletion\', \'hash\', :spend, :total, :prompt, :completion, :start, :start, :model, '
    ':provider, \'alice\', cast(:metadata as jsonb), \'team-support\', cast(:messages as jsonb), \'success\')')


@pytest.fixture(scope="module")
def postgres():
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.fail(INSTALL_HINT)
    server = PostgresServer(bin_dir).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres):
    """A fresh database on the shared server for each test."""
    name = f"t{dt.datetime.now().strftime('%H%M%S%f')}"
    admin = sa.create_engine(postgres.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(sa.text("create database " + admin.dialect.identifier_preparer.quote(name)))
    admin.dispose()
    url = postgres.url.rsplit("/", 1)[0] + "/" + name
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(sa.text(SPEND_LOGS_DDL))
    engine.dispose()
    return url


def add_requests(url: str, first: int, n: int, day: int) -> None:
    rows = [{"id": f"chatcmpl-{i}", "spend": 0.001 * i, "total": 1100 + i, "prompt": 1000 + i, "completion": 100,
             "start": dt.datetime(2026, 9, day, 10, 0) + dt.timedelta(minutes=i),
             "model": "gpt-4o-mini" if i % 2 else "anthropic/claude-sonnet-4-20250514",
             "provider": "openai" if i % 2 else "anthropic",
             "metadata": '{"user_api_key_alias": "support-bot", "additional_usage_values": '
                         '{"prompt_tokens_details": {"cached_tokens": 100}}}',
             "messages": '{"secret prompt": "never pulled"}'} for i in range(first, first + n)]
    engine = sa.create_engine(url)
    with engine.begin() as c:
        c.execute(INSERT, rows)
    engine.dispose()


@pytest.mark.slow
def test_litellm_preset_pulls_incrementally(wh, pg_url):
    add_requests(pg_url, 0, 120, day=1)
    first = pull_sql(LocalSink(wh), SqlPull(url=pg_url, preset="litellm", chunk_rows=50))
    assert first.ok, first.error
    assert (first.pages, first.rows_loaded, first.rows_duplicate) == (3, 120, 0)     # chunks of 50, 50, 20
    assert first.loaded_until == dt.datetime(2026, 9, 1, 11, 59, tzinfo=dt.timezone.utc)

    add_requests(pg_url, 120, 30, day=5)
    second = pull_sql(LocalSink(wh), SqlPull(url=pg_url, preset="litellm", chunk_rows=50))
    assert second.ok, second.error
    # rows from the cursor (Sep 1 11:59) minus the 2-day safety window: the 30 new ones load, the 120 read again
    # are already in the ledger
    assert (second.rows_loaded, second.rows_duplicate) == (30, 120)
    assert wh.scalar("select count(*) from usage_raw where source_format = 'litellm-spend-logs'") == 150

    third = pull_sql(LocalSink(wh), SqlPull(url=pg_url, preset="litellm"))
    assert (third.rows_loaded, third.rows_duplicate) == (0, 30)          # the safety window, read again
    narrow = pull_sql(LocalSink(wh), SqlPull(url=pg_url, preset="litellm", safety=dt.timedelta(minutes=10)))
    assert (narrow.rows_loaded, narrow.rows_duplicate) == (0, 11)        # Sep 5 10:19..10:29
    row = wh.sql("select provider, input_tokens, cache_read_tokens, api_key, team from usage_raw "
                 "where ts = '2026-09-01 10:01:00'").to_dicts()
    assert row == [{"provider": "openai", "input_tokens": 901, "cache_read_tokens": 100, "api_key": "support-bot",
                    "team": "team-support"}]
    st = status(wh).to_dicts()
    assert [(s["source"], s["stream"], s["kind"], s["rows_loaded_total"]) for s in st] == [
        ("sql-litellm", "LiteLLM_SpendLogs", "sql", 150)]


@pytest.mark.slow
def test_table_with_mapping_file_and_query(wh, pg_url, tmp_path):
    add_requests(pg_url, 0, 10, day=2)
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  request_id: model_raw\n  startTime: ts\n  model: model\n  prompt_tokens: "
                       "input_tokens\n  completion_tokens: output_tokens\n  spend: cost_usd\n"
                       "constants:\n  provider: litellm-db\nkey: request_id\ntime_format: iso\n", encoding="utf-8")
    r = pull_sql(LocalSink(wh), SqlPull(url=pg_url, table="LiteLLM_SpendLogs", since_column="startTime",
                                        mapping=mapping, source="gateway"))
    assert r.ok, r.error
    assert r.rows_loaded == 10
    q = pull_sql(LocalSink(wh), SqlPull(url=pg_url, query='select request_id, "startTime", model, prompt_tokens, '
                                        'completion_tokens, spend from "LiteLLM_SpendLogs" where model = \'gpt-4o-mini\'',
                                        since_column="startTime", mapping=mapping, source="gateway-q",
                                        since=dt.datetime(2026, 9, 2, 10, 5)))
    assert q.ok, q.error
    assert (q.rows_loaded, q.rows_duplicate) == (0, 3)      # gpt-4o-mini (odd ids) from 10:05: 5, 7, 9
    assert wh.scalar("select count(*) from usage_raw where provider = 'litellm-db'") == 10

def test_database_error_hides_the_password(wh, postgres):
    url = f"postgresql+psycopg://postgres:hunter2secret@127.0.0.1:{postgres.port}/no_such_db"
    r = pull_sql(LocalSink(wh), SqlPull(url=url, preset="litellm"))
    assert not r.ok and "hunter2secret" not in r.error and "no_such_db" in r.error
    assert "hunter2secret" not in repr(status(wh).to_dicts())
    assert "***" in safe_url(url)
