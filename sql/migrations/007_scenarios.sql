-- 007: scenarios saved from the What-if page (dashboard/services/whatif.py). The scenario file itself (v1,
-- docs/simulation.md) is kept as JSON text, validated again on every load, so an old row can never run an
-- invalid scenario. Grain: one row per scenario name; saving a name again replaces it.
create table scenarios (
    name varchar primary key,          -- the scenario's `name`
    body varchar not null,             -- the scenario file as JSON (Scenario.model_dump_json)
    saved_at timestamp not null        -- UTC
);
