-- remove_outgoing: delete the rows of `outgoing` (recorded first by record_replacements) from the ledger.
-- row_key is unique across usage_raw (sql/checks/assert_row_keys_unique.sql); the time bounds let zone maps skip.
delete from usage_raw
where ts between (select min(ts) from outgoing) and (select max(ts) from outgoing)
  and row_key in (select row_key from outgoing)
