-- 017: usage_daily keeps each source's own cost (`source_cost_usd`: billed where the source reports it, else
-- list), beside `spend_usd` (the same for the source that counts, 0 for a superseded one). The spend bridges
-- (sql/queries/bridge_spend_*.sql) read it: what a superseded source or the replay's source says a day cost.
-- The rollup is derived: dropped here, it is rebuilt from `usage` with the new column when the ledger opens
-- (warehouse/db.py builds a missing usage_daily right after the migrations) and at every write after that.
drop table if exists usage_daily;
