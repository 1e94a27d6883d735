-- insert_ingest_log: the record of one file handed to ingest.
insert into ingest_log (ingest_id, file_name, sha256, format, source_kind, status, rows_read, rows_loaded,
                        rows_duplicate, rows_rejected, rows_replaced, rows_warned, ts_min, ts_max)
values ($id, $name, $sha, $format, $kind, $status, $read, $loaded, $dup, $rejected, $replaced, $warned, $ts_min,
        $ts_max)
