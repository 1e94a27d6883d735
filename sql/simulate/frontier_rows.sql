-- simulate/frontier_rows: the per-row inputs of the what-if slider tables (simulate/frontier.py): every row the
-- replay (simulate/replay.sql) would read, with each policy's static eligibility, its rank key and the cost of
-- the whole row under that policy split into coefficients (constant, × output_multiplier, × the policy's own
-- rate: escalation_rate of a cascade, hit_rate of a cache). Claims are made in numpy, exactly as the replay does.
-- Grain: one row per `usage_replay` row in the period and scope.
-- Params: those of simulate/replay_rows.sql and simulate/row_rates.sql (their text fills the slots of those
--   names); the policies' bound values ($p{i}_*) and target prices ($p{i}_in0, …) — the same names and values
--   the replay binds (one plan: simulate/plan.py).
-- With sessions read (simulate/replay_rows.sql): a session-unit policy's unit columns (`unit_columns`), and the
-- conversation of each row for the numpy twin of the replay's cache-loss accounting.
-- Template slots (block comments named replay_rows, row_rates, rate_columns, unit_columns, joins, columns, identity,
-- order)
-- are filled by simulate/frontier.py from the plan and the fixed fragments of simulate/policies.py; every value is
-- bound, never spliced. `order`: the bucketed engine (simulate/buckets.py) streams the rows in chunks and, when it
-- reads conversations, orders them by their unit so that no conversation is split between two chunks. `identity`:
-- the row's natural key `row_id` (simulate/frontier_grouped.sql groups the rows no ranked policy orders).
with scoped as (
    /*replay_rows*/
),

row_rates as (
    /*row_rates*/
),

priced as (
    select s.* /*rate_columns*/
    from scoped as s
    /*joins*/
),

-- a session unit's window columns over the priced rows (apart from the join: its eligibility names `model`, which
-- the row-rates join also carries)
unitised as (
    select * /*unit_columns*/
    from priced
),

final as (
    select
        unpriced,
        granularity = 'request' as is_request,
        cast(requests as double) as requests,
        base_cost,
        team,
        lower(workload) as workload,
        model
        /*columns*/ /*identity*/
    from unitised
)

select * from final /*order*/
