-- assert_replay_buckets_match_stored: replay_buckets must hold replay_stored summed per day x team x provider x
-- model x project x workload x service tier x granularity x priced x bucket of total tokens. Returns a row per
-- group where the row count, requests, tokens, billed-else-list or list cost (exact decimals) or the key's bounds
-- differ, or that only one side has.
with from_stored as (
    select * from (
        select
            cast(ts as date) as day, team, provider, model, project, workload, service_tier, granularity,
            coalesce(cost_usd, list_cost_usd) is null as unpriced, key_bucket(total_tokens) as bk,
            count(*) as n, sum(requests) as requests, sum(coalesce(cost_usd, list_cost_usd)) as base_cost,
            sum(list_cost_usd) as list_cost, sum(input_tokens) as input_tokens,
            sum(cache_read_tokens) as cache_read_tokens, sum(cache_write_tokens) as cache_write_tokens,
            sum(output_tokens) as output_tokens,
            min(total_tokens) as k_lo, max(total_tokens) as k_hi
        from replay_stored
        group by all
    )
),
from_buckets as (
    select
        day, team, provider, model, project, workload, service_tier, granularity, unpriced, bk, n, requests,
        base_cost, list_cost, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens, k_lo, k_hi
    from replay_buckets
),
final as (
    select coalesce(s.day, b.day) as day, coalesce(s.team, b.team) as team, coalesce(s.model, b.model) as model,
           coalesce(s.bk, b.bk) as bk, s.n as stored_rows, b.n as bucket_rows, s.base_cost as stored_cost,
           b.base_cost as bucket_cost
    from from_stored as s
    full join from_buckets as b
        on s.day = b.day and s.team is not distinct from b.team and s.provider is not distinct from b.provider
        and s.model is not distinct from b.model and s.project is not distinct from b.project
        and s.workload is not distinct from b.workload and s.service_tier is not distinct from b.service_tier
        and s.granularity is not distinct from b.granularity and s.unpriced = b.unpriced and s.bk = b.bk
    where s.n is distinct from b.n or s.requests is distinct from b.requests
        or s.input_tokens is distinct from b.input_tokens
        or s.cache_read_tokens is distinct from b.cache_read_tokens
        or s.cache_write_tokens is distinct from b.cache_write_tokens
        or s.output_tokens is distinct from b.output_tokens
        or s.base_cost is distinct from b.base_cost or s.list_cost is distinct from b.list_cost
        or s.k_lo is distinct from b.k_lo or s.k_hi is distinct from b.k_hi
)
select * from final
