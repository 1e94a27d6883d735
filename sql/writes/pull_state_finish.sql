-- pull_state_finish: a run of one (source, stream) ended, well ($error null) or not. Params: $source, $stream,
-- $now, $error.
update pull_state set
    last_status = case when $error is null then 'ok' else 'failed' end,
    last_error = $error,
    last_ok_at = case when $error is null then $now else last_ok_at end
where source = $source and stream = $stream
