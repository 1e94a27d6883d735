-- refresh_source_choice: per provider x day x source format, whether its spend counts and whether the replay
-- reads it. Spend: a billing source before telemetry, one that reports money before one priced from the
-- catalog, then by format id (stable). Replay: a source with tokens, the finest granularity, telemetry on ties.
-- Grain: one row per provider x day x source_format in the ledger.
-- Params: $first_day, $last_day: the days to build (both null: every day). The caller first deletes those days'
-- rows (warehouse/ledger.py: refresh_derived); the choice is made within one provider and day, so a day's rows
-- depend only on that day's usage.
insert into source_choice
with per_source as (
    select
        u.provider,
        cast(u.ts as date) as day,
        u.source_format,
        any_value(l.source_kind) as source_kind,
        min(case u.granularity when 'request' then 1 when 'minute' then 2 when 'hour' then 3 when 'day' then 4
            else 5 end) as detail,
        count(u.cost_usd) > 0 as has_cost,
        sum(u.input_tokens + u.cache_read_tokens + u.cache_write_tokens + u.output_tokens) > 0 as has_tokens,
        count(*) as row_count
    from usage_raw as u
    join ingest_log as l using (ingest_id)
    where (cast($first_day as date) is null or u.ts >= cast($first_day as date))
        and (cast($last_day as date) is null or u.ts < cast($last_day as date) + interval 1 day)
    group by all
),
final as (
    select
        *,
        row_number() over (partition by provider, day
            order by (source_kind = 'billing') desc, has_cost desc, source_format) = 1 as in_spend,
        row_number() over (partition by provider, day
            order by has_tokens desc, detail, (source_kind = 'telemetry') desc, source_format) = 1 as in_replay
    from per_source
)
select provider, day, source_format, source_kind, detail, has_cost, has_tokens, row_count, in_spend, in_replay
from final;
