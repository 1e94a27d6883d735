-- assert_ingest_conservation: every dollar, token and request of every file loaded since migration 011 is
-- accounted for, measure by measure:
--   (a) as read: file = loaded + already_loaded + superseded_in_file + rejected (ingest_parts);
--   (b) kept: what a load added is in the ledger under its id, or was taken out by a later load (a later export
--       of the same window, a restated request id: ingest_replacements). Removed uploads are out of (b).
-- Returns one row per ingest x measure that does not add up (none is the pass).
with parts as (
    select
        ingest_id,
        part,
        unnest(['rows', 'requests', 'cost_usd', 'input_tokens', 'cache_read_tokens', 'cache_write_tokens',
                'output_tokens', 'reasoning_tokens']) as measure,
        unnest([rows, requests, cost_usd, input_tokens, cache_read_tokens, cache_write_tokens, output_tokens,
                reasoning_tokens]::decimal(38, 12)[]) as amount
    from ingest_parts
),
as_read as (
    select
        ingest_id,
        measure,
        coalesce(sum(amount) filter (where part = 'file'), 0) as file_total,
        coalesce(sum(amount) filter (where part <> 'file'), 0) as parts_total,
        coalesce(sum(amount) filter (where part = 'loaded'), 0) as loaded
    from parts
    group by all
),
in_ledger as (
    select ingest_id, unnest(['rows', 'requests', 'cost_usd', 'input_tokens', 'cache_read_tokens',
        'cache_write_tokens', 'output_tokens', 'reasoning_tokens']) as measure,
        unnest([count(*), sum(requests), sum(cost_usd), sum(input_tokens), sum(cache_read_tokens),
                sum(cache_write_tokens), sum(output_tokens), sum(reasoning_tokens)]::decimal(38, 12)[]) as amount
    from usage_raw
    group by ingest_id
),
replaced as (
    select replaced_ingest_id as ingest_id, unnest(['rows', 'requests', 'cost_usd', 'input_tokens',
        'cache_read_tokens', 'cache_write_tokens', 'output_tokens', 'reasoning_tokens']) as measure,
        unnest([sum(rows), sum(requests), sum(cost_usd), sum(input_tokens), sum(cache_read_tokens),
                sum(cache_write_tokens), sum(output_tokens), sum(reasoning_tokens)]::decimal(38, 12)[]) as amount
    from ingest_replacements
    group by replaced_ingest_id
),
final as (
    select
        l.ingest_id, l.file_name, a.measure,
        a.file_total, a.parts_total, a.loaded,
        coalesce(i.amount, 0) + coalesce(r.amount, 0) as kept_or_replaced,
        case when a.file_total <> a.parts_total then 'file <> sum of parts' else 'loaded <> ledger + replaced' end
            as problem
    from as_read as a
    join ingest_log as l using (ingest_id)
    left join in_ledger as i on i.ingest_id = a.ingest_id and i.measure = a.measure
    left join replaced as r on r.ingest_id = a.ingest_id and r.measure = a.measure
    where a.file_total <> a.parts_total
       or (l.status = 'loaded' and a.loaded <> coalesce(i.amount, 0) + coalesce(r.amount, 0))
)
select * from final
