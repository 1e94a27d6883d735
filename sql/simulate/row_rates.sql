-- simulate/row_rates: each replayed (provider, model)'s own catalog input and cache-read prices per validity
-- interval, for policies that re-price a row's own tokens (a cache: input → cache read). Read by the replay
-- (simulate/replay.sql) and the slider tables' prepare (simulate/frontier_rows.sql) with an asof join on ts.
-- Grain: one row per (provider, model, catalog validity interval).
-- Params: $rr_provider, $rr_model, $rr_cprovider, $rr_cmodel (row model -> catalog id, resolved in
--   simulate/plan.py as ingest resolves names; empty when no policy needs them).
with row_map as (
    select
        unnest(cast($rr_provider as varchar[])) as provider,
        unnest(cast($rr_model as varchar[])) as model,
        unnest(cast($rr_cprovider as varchar[])) as catalog_provider,
        unnest(cast($rr_cmodel as varchar[])) as catalog_model
),

final as (
    select
        m.provider,
        m.model,
        c.valid_from,
        c.valid_to,
        cast(c.input_mtok as double) as r_in,
        cast(coalesce(c.cache_read_mtok, c.input_mtok) as double) as r_cr
    from row_map as m
    join catalog_prices as c on c.catalog_provider = m.catalog_provider and c.model = m.catalog_model
)

select * from final
