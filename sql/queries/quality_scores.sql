-- quality_scores: the saved workload x model quality scores (in [0, 1]) that win over the shipped defaults in
-- simulate/quality_defaults.yaml. Grain: one row per workload and model ('*' = any workload). No params.
with scores as (
    select * from quality_scores
),
final as (
    select workload, model, score, source, as_of from scores
)
select * from final
order by workload, model
