-- 010: usage_daily gains the reconciliation's parts per day (the rc_* and tc_* columns of
-- sql/writes/refresh_usage_daily.sql), so the Reconciliation page sums days instead of pricing every row.
-- The rollup is derived: dropped here, it is rebuilt from `usage` with the new columns when the ledger opens
-- (warehouse/db.py builds a missing usage_daily right after the migrations) and at every write after that.
drop table if exists usage_daily;
