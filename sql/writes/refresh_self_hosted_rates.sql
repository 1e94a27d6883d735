-- refresh_self_hosted_rates: the effective price of each self-hosted cost period (migration 013): its cost
-- (amount + GPU-hours x rate, summed over the file's lines for the same provider, model and period) over the
-- tokens the ledger logged for that provider and model in it (input + cache read + cache write + output, counted
-- sources only, as spend counts them), USD per 1M tokens; null when nothing was logged. Run after
-- source_choice and before usage_daily, whose list costs read these rates through price_overrides_effective.
-- An ordinary write recomputes only the periods overlapping the days it touched ($first_day..$last_day; null:
-- every period), reading usage_raw only in those periods ($scan_from..$scan_to, bound as values for the zone maps
-- on ts): a period's rate depends only on its own days, whose source choice the write alone can have moved.
-- Grain: one row per (provider, model, period). Params: first_day, last_day (dates or null), scan_from, scan_to
-- (timestamps or null) (the caller first deletes the rows of the periods it recomputes).
insert into self_hosted_rates
with costs as (
    select
        provider,
        model,
        start_date,
        end_date,
        sum(coalesce(amount_usd, 0) + coalesce(gpu_hours * usd_per_gpu_hour, 0)) as cost_usd
    from self_hosted_costs
    where $first_day is null or (start_date <= $last_day and end_date >= $first_day)
    group by all
),
logged as (
    select
        c.provider,
        c.model,
        c.start_date,
        sum(u.input_tokens + u.cache_read_tokens + u.cache_write_tokens + u.output_tokens) as tokens
    from costs as c
    join usage_raw as u
        on u.provider = c.provider
        and u.ts >= cast(c.start_date as timestamp)
        and u.ts < cast(c.end_date + interval 1 day as timestamp)
    left join model_map as mm on mm.provider = u.provider and mm.model = u.model
    semi join source_choice as s
        on s.provider = u.provider and s.day = cast(u.ts as date) and s.source_format = u.source_format
        and s.in_spend
    where coalesce(mm.catalog_model, u.model) = c.model
      and ($scan_from is null or (u.ts >= $scan_from and u.ts < $scan_to))
    group by all
),
final as (
    select
        c.provider,
        c.model,
        cast(c.start_date as timestamp) as valid_from,
        cast(c.end_date + interval 1 day as timestamp) as valid_to,
        cast(c.cost_usd as decimal(18, 6)) as cost_usd,
        coalesce(l.tokens, 0)::bigint as tokens,
        case when l.tokens > 0 then cast(c.cost_usd * 1000000 / l.tokens as decimal(24, 12)) end as usd_per_mtok
    from costs as c
    left join logged as l using (provider, model, start_date)
)
select * from final
