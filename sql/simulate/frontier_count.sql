-- simulate/frontier_count: how many rows a what-if replay reads (simulate/frontier.py picks its slider engine by
-- it: per-row arrays up to the setting `slider_row_limit`, quantile buckets above).
-- Grain: one row, the count of `usage_replay` rows in the period and scope.
-- Params: those of simulate/replay_rows.sql (its text fills the slot of that name; row_rates, rate_columns and
--   joins are filled but unused here).
with scoped as (
    /*replay_rows*/
),

final as (
    select count(*) as rows
    from scoped
)

select * from final
