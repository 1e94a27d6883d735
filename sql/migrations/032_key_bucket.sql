-- 032: the bucket of a ranking key, written once as a DuckDB macro. Callers: writes/replay_buckets_rows (the
-- stored buckets of `total_tokens`) and simulate/team_costs_groups (a ranked policy's first order key, read from
-- the rows), so a stored bucket and one computed from the rows are the same number.
-- Buckets are 2^(1/16) wide on a signed log scale (16 a doubling: ~4 % of the key): ordered as the key, so every row
-- of a bucket ranks before every row of a later one; a null key (ranked last by the replay) is in the last bucket.
-- Grain: none (definitions only).
create or replace macro key_bucket(k) as
    coalesce(floor(sign(cast(k as double)) * log2(abs(cast(k as double)) + 1) * 16), cast('infinity' as double));
