-- bridge_spend_replay: the routing replay's baseline (What-if, Outlook, `modelmix simulate`) bridged to spend over
-- a period. The replay reads, per provider and day, the most detailed source (source_choice.in_replay: a
-- request-level gateway log before a daily bill), while spend counts the source that bills (in_spend). Where
-- they differ, the replay sees that source's cost instead of the bill:
--   replay baseline = spend
--                   - spend of the provider-days the replay reads from another source (replaced_usd)
--                   + what that other source says those days cost (replay_source_usd)
-- e.g. a provider's daily bill covers all traffic but the gateway log only the traffic through the gateway: the
-- difference is the traffic (and pricing) the log does not see. Rows with neither a bill nor a list price count
-- in neither. A scenario's own scope (simulate.spend_bridge) takes a further term off.
-- Every figure is its own exact sum rounded to the cent; `rounding_usd` is what the rounded terms miss (a cent,
-- usually 0), so the displayed bridge adds up exactly. replay_baseline_usd is the replay's own baseline
-- (tests/simulate/test_spend_bridges.py).
-- Grain: exactly one row (first_day, last_day: the period's days with usage; null when none).
-- Params: $start, $end (dates, inclusive).
with daily as (
    select * from usage_daily where day between $start and $end
),
sums as (
    select
        coalesce(sum(spend_usd), 0) as spend_usd,
        coalesce(sum(spend_usd) filter (where in_spend and not in_replay), 0) as replaced_usd,
        coalesce(sum(source_cost_usd) filter (where in_replay and not in_spend), 0) as replay_source_usd,
        coalesce(sum(source_cost_usd) filter (where in_replay), 0) as replay_baseline_usd,
        count(distinct (provider, day)) filter (where in_replay and not in_spend) as replaced_provider_days,
        string_agg(distinct source_format, ', ' order by source_format) filter (where in_replay and not in_spend)
            as replay_sources,
        min(day) as first_day,
        max(day) as last_day
    from daily
),
final as (
    select
        cast(round(spend_usd, 2) as decimal(18, 2)) as spend_usd,
        cast(round(replaced_usd, 2) as decimal(18, 2)) as replaced_usd,
        cast(round(replay_source_usd, 2) as decimal(18, 2)) as replay_source_usd,
        cast(round(replay_baseline_usd, 2) as decimal(18, 2)) as replay_baseline_usd,
        replaced_provider_days,
        replay_sources,
        first_day,
        last_day,
        cast(round(replay_baseline_usd, 2) - round(spend_usd, 2) + round(replaced_usd, 2)
             - round(replay_source_usd, 2) as decimal(18, 2)) as rounding_usd,
        cast(replay_baseline_usd as decimal(18, 6)) as replay_baseline_exact_usd
    from sums
)
select * from final
