-- billed_vs_list_by_provider: what each provider billed beside what the same usage costs at catalog (list)
-- prices, for the reconciliation chart. Only usage that counts toward spend (`in_spend`: one source per provider
-- and day) is summed, and only usage rows carrying both a billed and a list cost are compared (the rollup's
-- rc_billed_usd / rc_expected_usd, as billed_vs_list_totals and the Overview's spend bridge); list_only_usd is the
-- usage priced at list because its source reports no billed cost; spend_usd is the provider's spend.
-- Grain: one row per provider with usage in the range.
-- Params: $start, $end (dates, inclusive).
with daily as (
    select * from spend_daily where day between $start and $end and in_spend
),
final as (
    select
        provider,
        cast(coalesce(sum(rc_billed_usd), 0) as decimal(18, 6)) as billed_usd,
        cast(coalesce(sum(rc_expected_usd), 0) as decimal(18, 6)) as list_usd,
        cast(coalesce(sum(rc_list_only_usd), 0) as decimal(18, 6)) as list_only_usd,
        cast(coalesce(sum(spend_usd), 0) as decimal(18, 6)) as spend_usd
    from daily
    group by provider
    order by spend_usd desc, provider
)
select * from final
