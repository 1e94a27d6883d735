-- pull_coverage_by_day: the rows each pulled source (a jobs.yaml job, or a plain `modelmix pull KIND`) added to
-- the ledger per day, for the Sources page's coverage view. Pulls record every file they load in ingest_log as
-- `pull:<source>/<stream> …` (pull/apis.py, pull/sqlsource.py); a row an upload loaded first counts for the upload.
-- Grain: one row per source x day with rows. Params: $start, $end (dates, inclusive).
with pulled as (
    select
        ingest_id,
        split_part(substr(file_name, 6), '/', 1) as source
    from ingest_log
    where file_name like 'pull:%' and status = 'loaded'
),
rows_in_range as (
    select ingest_id, cast(ts as date) as day, requests, cost_usd
    from usage_raw
    where ts >= cast($start as date) and ts < cast($end as date) + interval 1 day
),
final as (
    select
        p.source,
        r.day,
        count(*)::bigint as row_count,
        sum(r.requests)::bigint as requests,
        sum(r.cost_usd) as cost_usd
    from rows_in_range as r
    inner join pulled as p using (ingest_id)
    group by p.source, r.day
)
select * from final
order by source, day
