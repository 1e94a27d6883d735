-- pull_state_page: one page (or chunk) of a run is in the ledger: count it and move the cursor forward (never
-- back). Params: $source, $stream, $loaded, $duplicate, $loaded_until (null: the cursor stays).
update pull_state set
    last_pages = last_pages + 1,
    last_rows_loaded = last_rows_loaded + $loaded,
    last_rows_duplicate = last_rows_duplicate + $duplicate,
    rows_loaded_total = rows_loaded_total + $loaded,
    loaded_until = case
        when $loaded_until is null then loaded_until
        when loaded_until is null or loaded_until < $loaded_until then $loaded_until
        else loaded_until
    end
where source = $source and stream = $stream
