-- 006: pulls. `pull_state` is what `modelmix pull` / `modelmix jobs run` remember between runs: per source and
-- stream (an API endpoint, or a table), the incremental cursor and the outcome of the last run. Secrets (API
-- keys, database URLs) are never stored here. Grain: one row per (source, stream).
create table pull_state (
    source varchar not null,              -- the job name (jobs.yaml), or the kind for a plain `modelmix pull KIND`
    stream varchar not null,              -- e.g. usage/completions, costs, usage_report/messages, activity, table
    kind varchar not null,                -- openai | anthropic | openrouter | sql
    loaded_until timestamp,               -- UTC; every bucket (or row, for sql) before this is in the ledger
    last_run_at timestamp,                -- UTC start of the last run
    last_ok_at timestamp,                 -- UTC end of the last run that finished without error
    last_status varchar,                  -- running | ok | failed
    last_error varchar,                   -- the last run's error (title: message), secrets redacted
    last_pages bigint default 0,          -- pages (or chunks) fetched by the last run
    last_rows_loaded bigint default 0,    -- new rows the last run added to the ledger
    last_rows_duplicate bigint default 0, -- rows the last run fetched again (safety window) and skipped
    rows_loaded_total bigint default 0,   -- every new row this stream has added, all runs
    primary key (source, stream)
);
