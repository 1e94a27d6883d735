-- simulate/frontier_grouped: the rows of simulate/frontier_rows.sql as the bucketed slider engine
-- (simulate/buckets.py) streams them: a row some ranked policy may pick (its order key is not null: an eligible,
-- priced request row) stays a row of its own, and so does, when conversations are read (a session unit, cache lost
-- on a switch), a row with a session id; every other row is summed with the rows that share all its per-row values
-- (team, workload, model, unpriced, granularity, each policy's eligibility, per-request grades). What the engine
-- computes of such a row is linear in `requests`, `base_cost`, the cost coefficients (`c0_i`, `cm_i`, `ci_i`, `cx_i`)
-- and the cache-loss extras (`lkin0_i`, ...: a row without a session id is its own conversation, so a move always
-- pays its cache write), each times claims that depend only on those shared values (simulate/frontier.py
-- `Prepared.quantities`), so a group gives the sums of its rows exactly. This keeps the rows moved from DuckDB to
-- Python to the ranked policies' candidates and the conversations (was: every row of the period).
-- `summed_floor`: the least of the summed columns over the group's rows (≥ 0: every row's part of a figure has
-- the sign of the group's, so any subset of its rows lies between 0 and the group's sums: BucketTable's bounds).
-- Grain: one row per kept row, plus one per group of the others.
-- Params: those of simulate/frontier_rows.sql.
-- Template slots (block comments named frontier_rows, summed, sums, ranked, order) are filled by
-- simulate/buckets.py: frontier_rows' text (its `identity` slot giving `row_id`), the names of the summed columns
-- (and `ts`, `row_hash` with conversations: a group takes its first ones, which no figure reads), their sums,
-- which rows are kept (`o{i}_0 is not null or ...`, else false) and, with conversations, the order by conversation.
-- Nothing is spliced.
with per_row as (
    /*frontier_rows*/
),

final as (
    select
        * exclude (row_id, /*summed*/),
        -- a ranked candidate keeps its identity: groups of one row
        case when /*ranked*/ then row_id end as row_id,
        cast(sum(/*row_count*/1) as bigint) as ledger_rows
        /*sums*/
    from per_row
    group by all
)

select * exclude (row_id) from final /*order*/
