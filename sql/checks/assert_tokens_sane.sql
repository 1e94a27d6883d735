-- assert_tokens_sane: a negative count or more reasoning than output is kept only with a warning: per load, no
-- more such rows in the ledger than rows its ingest_warnings name for it (plausibility problems load, named).
with odd as (
    select
        ingest_id,
        count(*) filter (where input_tokens < 0 or cache_read_tokens < 0 or cache_write_tokens < 0
            or output_tokens < 0 or reasoning_tokens < 0 or requests < 0) as negative_rows,
        count(*) filter (where reasoning_tokens > output_tokens) as reasoning_rows
    from usage_raw
    group by ingest_id
),
warned as (
    select
        ingest_id,
        count(distinct row_number) filter (where warning like 'negative%') as negative_rows,
        count(distinct row_number) filter (where warning like 'more than output_tokens%') as reasoning_rows
    from ingest_warnings
    group by ingest_id
),
final as (
    select o.*, coalesce(w.negative_rows, 0) as warned_negative, coalesce(w.reasoning_rows, 0) as warned_reasoning
    from odd as o
    left join warned as w using (ingest_id)
    where o.negative_rows > coalesce(w.negative_rows, 0) or o.reasoning_rows > coalesce(w.reasoning_rows, 0)
)
select * from final
