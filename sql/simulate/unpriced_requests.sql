-- simulate/unpriced_requests: requests in the period and scope that have neither a billed nor a list cost
-- (the replay leaves them out and says how many). Grain: one row. Params: $start, $end_excl, $scope_*;
-- template slot `scope` as in simulate/replay.
with scoped as (
    select
        *,
        input_tokens + cache_read_tokens + cache_write_tokens + output_tokens as total_tokens
    from usage
    where ts >= $start and ts < $end_excl
        and coalesce(cost_usd, list_cost_usd) is null
        and /*scope*/
),

final as (
    select coalesce(sum(requests), 0) as requests, count(*) as row_count from scoped
)

select * from final
