-- pull_state_interrupted: runs left 'running' by a process that stopped before finishing them (killed,
-- crashed, the machine went down) are failed, so the Sources page and `modelmix jobs` show what happened and the
-- job is due again at once; the cursor stays where its last committed page left it. Run when a process opens
-- the ledger as its owner, when no pull of this ledger can be running. Params: $now, $error.
update pull_state set
    last_status = 'failed',
    last_error = $error,
    last_run_at = coalesce(last_run_at, $now)
where last_status = 'running'
