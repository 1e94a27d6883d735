-- attribution_label_names: the labels the ledger's usage carries (usage_daily.labels, migration 024: OpenTelemetry
-- resource and span attributes, FOCUS Tags, GCP billing labels), for attribution rules `field: label:<name>`.
-- Grain: one row per label name (as written; names that differ only in case are one name to a rule, and are
-- listed apart here), with how many distinct values it takes, the first five values in order, and the spend of the
-- rows that carry it (billed where reported, else list, counted once). No params.
with labelled as (
    select labels, spend_usd
    from usage_daily
    where labels is not null
),
pairs as (
    select unnest(map_keys(labels)) as name, unnest(map_values(labels)) as value, spend_usd
    from labelled
),
final as (
    select
        name,
        'label:' || name as field,
        count(distinct value)::bigint as n_values,
        list_sort(list(distinct value))[1:5] as sample_values,
        cast(coalesce(sum(spend_usd), 0) as decimal(18, 6)) as spend_usd
    from pairs
    group by name
)
select * from final
order by name
