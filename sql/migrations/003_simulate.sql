-- 003: the simulator's editable quality table. Scores here win over simulate/quality_defaults.yaml and lose
-- to a scenario's `assumptions.quality`. Grain: one row per (workload, model); workload '*' = any workload.
create table quality_scores (
    workload varchar not null,     -- lower-case workload, or '*'
    model varchar not null,        -- lower-case catalog model id
    score double not null check (score >= 0 and score <= 1),
    source varchar,                -- benchmark / shadow sample / judgement, with its date
    as_of date,
    primary key (workload, model)
);
