-- lake_pricing_state: a fingerprint (row count and sum of row hashes) of each ledger table that prices or
-- attributes usage rows besides the rows themselves (warehouse/lake.py): catalog prices, price overrides and
-- self-hosted rates (`price_overrides_effective`), aliases and attribution rules. While these are unchanged, a
-- partition whose raw rows are unchanged (sql/queries/lake_partitions_raw.sql) has unchanged lake rows: the
-- tables derived from them grow on an ordinary write only by names and dimension sets first seen in the written
-- rows (`model_map`, `dim_attribution`; warehouse/ledger.py refresh_derived), which are in changed partitions.
-- Grain: one row per table. Params: none. Small tables: a whole-table hash costs milliseconds.
with final as (
    select 'catalog_prices' as name, count(*) as row_count, sum(hash(t)::hugeint) as fingerprint
    from catalog_prices as t
    union all
    select 'price_overrides_effective', count(*), sum(hash(t)::hugeint) from price_overrides_effective as t
    union all
    select 'model_aliases', count(*), sum(hash(t)::hugeint) from model_aliases as t
    union all
    select 'attribution_rules', count(*), sum(hash(t)::hugeint) from attribution_rules as t
)
select * from final order by name
