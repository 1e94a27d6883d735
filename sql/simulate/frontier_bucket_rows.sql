-- simulate/frontier_bucket_rows: the rows of simulate/frontier_rows.sql that one bucket of the bucketed slider
-- engine (simulate/buckets.py) holds, read again one by one when a move refines it: the slid policy's candidates
-- without a conversation whose first order key lies in the bucket's range (the stream summed them by that key;
-- a conversation's rows were kept as rows and written to the table's segment files).
-- Grain: one row per `usage_replay` row in the period and scope, the bucket's range and without a conversation.
-- Params: those of simulate/frontier_rows.sql; $bucket_lo, $bucket_hi (the bucket's first-key bounds, lower
--   inclusive, upper exclusive; the first and the last bucket have one bound only).
-- Template slots (block comments named frontier_rows, first_key, range) are filled by simulate/buckets.py:
-- frontier_rows' text, the first key's column name (`o{i}_0`) and the range's conditions on it (with conversations
-- read, `session_id is null` too); every value is bound, never spliced.
with per_row as (
    /*frontier_rows*/
)

select * from per_row
where /*first_key*/ is not null and /*range*/
