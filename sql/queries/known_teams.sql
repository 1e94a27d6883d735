-- known_teams: every team name the ledger knows, for matching an identity provider's team claims (a claim may
-- only name a team that exists). Grain: one row per team. Params: none.
with spend_teams as (
    select distinct team from spend_daily where team is not null
),

rule_teams as (
    select distinct team from attribution_rules where team is not null
),

budget_teams as (
    select distinct name as team from budgets where scope = 'team'
),

final as (
    select team from spend_teams
    union
    select team from rule_teams
    union
    select team from budget_teams
)

select * from final
order by team
