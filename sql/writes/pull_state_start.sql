-- pull_state_start: a run of one (source, stream) begins: create the row if new, mark it running, reset the
-- last run's counters. Params: $source, $stream, $kind, $now.
insert into pull_state (source, stream, kind, last_run_at, last_status, last_error, last_pages, last_rows_loaded,
                        last_rows_duplicate, rows_loaded_total)
values ($source, $stream, $kind, $now, 'running', null, 0, 0, 0, 0)
on conflict (source, stream) do update set
    kind = excluded.kind,
    last_run_at = excluded.last_run_at,
    last_status = 'running',
    last_error = null,
    last_pages = 0,
    last_rows_loaded = 0,
    last_rows_duplicate = 0
