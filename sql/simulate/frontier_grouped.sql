-- simulate/frontier_grouped: the rows of simulate/frontier_rows.sql as the bucketed slider engine
-- (simulate/buckets.py) streams them when no policy reads conversations: a row some ranked policy may pick (its
-- order key is not null: an eligible, priced request row) stays a row of its own; every other row is summed with
-- the rows that share all its per-row values (team, workload, model, unpriced, granularity, each policy's
-- eligibility, per-request grades). What the engine computes of a row is linear in `requests`, `base_cost` and the
-- cost coefficients (`c0_i`, `cm_i`, `ci_i`, `cx_i`: simulate/frontier.py `Prepared.quantities`, each multiplied by
-- claims that depend only on those shared values), so a group gives the sums of its rows exactly. This keeps the
-- rows moved from DuckDB to Python to the ranked policies' candidates (was: every row of the period).
-- Grain: one row per request row some ranked policy orders, plus one per group of the other rows.
-- Params: those of simulate/frontier_rows.sql.
-- Template slots (block comments named frontier_rows, summed, sums, ranked) are filled by simulate/buckets.py:
-- frontier_rows' text (its `identity` slot giving `row_id`), the names of the summed columns, their sums, and
-- whether a row is ordered by some ranked policy (`o{i}_0 is not null or ...`, else false). Nothing is spliced.
with per_row as (
    /*frontier_rows*/
),

final as (
    select
        * exclude (row_id, /*summed*/),
        -- a ranked candidate keeps its identity: groups of one row
        case when /*ranked*/ then row_id end as row_id,
        count(*) as ledger_rows
        /*sums*/
    from per_row
    group by all
)

select * exclude (row_id) from final
