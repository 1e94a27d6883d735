-- simulate/replay_out_of_scope: what a scenario's `scope` leaves out of the replay's baseline -- the cost of the
-- rows the replay reads (usage_replay, stored as replay_stored) in the period that the scope does not match. The
-- last term of the bridge
-- from spend to a scoped scenario's baseline (simulate/bridge.py; sql/queries/bridge_spend_replay.sql has the
-- others). Same row cost and the same scope predicate as sql/simulate/replay.sql.
-- Grain: exactly one row.
-- Params: $start, $end_excl (timestamps: the period, end exclusive); $scope_* (the scope's values).
-- Template slot /*scope*/: the scope's fixed predicate from simulate/spec.py (Match.sql), values bound.
with source_rows as (
    select
        model, provider, team, project, workload, requests,
        total_tokens,
        coalesce(cost_usd, list_cost_usd) as row_cost
    from replay_stored
    where ts >= $start and ts < $end_excl
),
final as (
    select coalesce(sum(row_cost) filter (where not coalesce(/*scope*/, false)), 0) as outside_scope_usd
    from source_rows
)
select * from final
