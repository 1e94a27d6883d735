-- coverage_by_provider_day: which sources cover each provider and day, which one counts toward spend and which
-- one the replay reads, and how far they disagree (tokens and cost) where several overlap.
-- Grain: one row per provider x day x source_format. Params: $start, $end (dates, inclusive).
with per_source as (
    select
        provider, day, source_format,
        any_value(source_kind) as source_kind,
        bool_or(in_spend) as in_spend,
        sum(row_count)::bigint as row_count,
        sum(requests)::bigint as requests,
        sum(input_tokens + cache_read_tokens + cache_write_tokens + output_tokens)::bigint as tokens,
        sum(cost_usd) as billed_usd,
        sum(list_cost_usd) as list_usd
    from usage_daily
    where day between $start and $end
    group by provider, day, source_format
),
with_choice as (
    select p.*, coalesce(s.in_replay, false) as in_replay
    from per_source as p
    left join source_choice as s using (provider, day, source_format)
),
final as (
    select
        *,
        count(*) over (partition by provider, day) as sources_that_day,
        -- relative to the source that counts: 0.25 = this source shows 25% more tokens than the counted one
        tokens / nullif(max(case when in_spend then tokens end) over (partition by provider, day), 0) - 1
            as tokens_vs_counted,
        coalesce(billed_usd, list_usd)
            / nullif(max(case when in_spend then coalesce(billed_usd, list_usd) end)
                over (partition by provider, day), 0) - 1 as cost_vs_counted
    from with_choice
)
select * from final
order by provider, day, in_spend desc, source_format
