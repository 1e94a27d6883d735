-- record_replacements: what this load takes out of the ledger, per earlier load, so that load's dollars stay
-- accounted for (sql/checks/assert_ingest_conservation.sql). Grain: one row per earlier ingest x kind.
-- params: $ingest_id (reads temp table outgoing)
insert into ingest_replacements
select
    $ingest_id as ingest_id,
    ingest_id as replaced_ingest_id,
    _kind as kind,
    min(cast(ts as date)) as day_from,
    max(cast(ts as date)) as day_to,
    count(distinct cast(ts as date)) as days,
    count(*) as rows,
    sum(requests) as requests,
    sum(cost_usd) as cost_usd,
    sum(input_tokens) as input_tokens,
    sum(cache_read_tokens) as cache_read_tokens,
    sum(cache_write_tokens) as cache_write_tokens,
    sum(output_tokens) as output_tokens,
    sum(reasoning_tokens) as reasoning_tokens
from outgoing
group by ingest_id, _kind
