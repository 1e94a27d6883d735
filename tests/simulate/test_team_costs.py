"""The team totals read as groups (simulate/team_costs.py) equal the replay's `by("team")` to the cent: on a
hand-made ledger whose ranked policy's boundary falls inside a run of ties on its first key (rows of two teams
with the same total tokens, taken in part by time), with a team that has no eligible row, aggregated rows claimed
in part, an unranked policy before the ranked one, and on the bundled sample with every preset."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

import simulate
from simulate import team_costs
from simulate.plan import GradeMatch, Plan
from simulate.scenario import Period, presets
from simulate_data import load_rows

# (team, model, total tokens, billed cost): alpha and beta share the boundary's 300 tokens four times, and 302
# falls in the same bucket of the key (the groups' pass cannot tell them apart: only the edge's rows can)
_REQUESTS = [
    ("alpha", "gpt-4o", 100, 0.010), ("beta", "gpt-4o", 200, 0.020), ("alpha", "gpt-4o", 300, 0.031),
    ("beta", "gpt-4o", 300, 0.047), ("alpha", "gpt-4o", 300, 0.053), ("beta", "gpt-4o", 300, 0.061),
    ("beta", "gpt-4o", 302, 0.070), ("alpha", "gpt-4o", 302, 0.083), ("alpha", "gpt-4o", 900, 0.090),
    ("beta", "gpt-4o", 1000, 0.100), ("beta", "claude-sonnet-4-5", 250, 0.027),
    # gamma is on no frontier model: no eligible row, ratio 1
    ("gamma", "gpt-4o-mini", 300, 0.003), ("gamma", "gpt-4o-mini", 50, 0.001),
]


@pytest.fixture
def ledger(wh, tmp_path):
    rows = []
    for k, (team, model, tokens, cost) in enumerate(_REQUESTS):
        # the tie's rows are ordered by time, interleaving the teams (the later hour first for some)
        hour = (7 * k) % 24
        rows.append({"ts": f"2026-03-02T{hour:02d}:{k:02d}:00", "team": team, "project": team, "model": model,
                     "input_tokens": tokens - 10, "output_tokens": 10, "cost_usd": f"{cost:.3f}"})
    # aggregated rows (a day of 40 requests): claimed by share, never ranked
    rows += [{"ts": "2026-03-03T00:00:00", "granularity": "day", "team": t, "project": t, "model": "gpt-4o",
              "requests": 40, "input_tokens": 40_000, "output_tokens": 4_000, "cost_usd": c}
             for t, c in (("alpha", "1.200"), ("gamma", "0.400"))]
    load_rows(wh, tmp_path, rows)
    return wh


_SHIFT = {"kind": "shift", "match": {"models": ["gpt-4o", "claude-sonnet-*"]}, "to": {"price_ratio": 0.01}}


def _scenario(*policies: dict) -> simulate.Scenario:
    sc = simulate.parse_scenario({"name": "t", "policies": list(policies)})
    return sc.model_copy(update={"period": Period(start=dt.date(2026, 3, 1), end=dt.date(2026, 3, 5))})


def _assert_equal(wh, scenario: simulate.Scenario) -> pl.DataFrame:
    grouped = team_costs.by_team(wh, scenario)
    assert grouped is not None, "the scenario should be read as groups"
    replayed = simulate.run(wh, scenario).by("team").select("team", "baseline_cost_usd", "scenario_cost_usd")
    assert grouped["team"].to_list() == replayed["team"].to_list()
    for col in ("baseline_cost_usd", "scenario_cost_usd"):
        assert grouped[col].to_list() == pytest.approx(replayed[col].to_list(), abs=1e-9), col
    return grouped


@pytest.mark.parametrize("groups", ["stored", "rows"])
@pytest.mark.parametrize("share", [0.0, 0.2, 0.4, 0.5, 0.6, 0.7, 0.75, 1.0])
def test_boundary_inside_ties_equals_the_replay(ledger, share, groups, monkeypatch):
    # 11 eligible requests: 0.5 takes 5 (the boundary inside the four 300s), 0.6 six, 0.7 seven (inside the 302s);
    # the groups summed from the stored buckets of total tokens (`replay_buckets`) or from the rows
    sc = _scenario({**_SHIFT, "share": share})
    assert team_costs.stored_groups(Plan.build(ledger, sc, GradeMatch()))
    if groups == "rows":
        monkeypatch.setattr(team_costs, "stored_groups", lambda plan: False)
    out = _assert_equal(ledger, sc)
    gamma = out.filter(pl.col("team") == "gamma").row(0, named=True)
    # gamma's request rows are on no matched model; its day row on gpt-4o is claimed by share
    assert gamma["baseline_cost_usd"] == pytest.approx(0.404)
    assert gamma["scenario_cost_usd"] == pytest.approx(0.004 + 0.4 * (1 - share + share * 0.01))


def test_a_team_with_no_eligible_rows_keeps_its_cost(ledger):
    sc = _scenario({**_SHIFT, "match": {"models": ["gpt-4o"], "teams": ["alpha", "beta"]}, "share": 0.5})
    out = _assert_equal(ledger, sc)
    gamma = out.filter(pl.col("team") == "gamma").row(0, named=True)
    assert gamma["scenario_cost_usd"] == pytest.approx(gamma["baseline_cost_usd"])


def test_unranked_policy_before_the_ranked_one_and_random_pick(ledger):
    cascade = {"kind": "cascade", "match": {"teams": ["beta"]}, "first": {"price_ratio": 0.5},
               "escalation_rate": 0.1}
    _assert_equal(ledger, _scenario(cascade, {**_SHIFT, "share": 0.5}))
    _assert_equal(ledger, _scenario(cascade, {**_SHIFT, "share": 0.5, "pick": "random", "seed": 7}))
    _assert_equal(ledger, _scenario({**_SHIFT, "share": 0.3}, cascade))


def test_which_groups_are_read(ledger):
    # a random pick's key is not stored in buckets; nor is a scope by tokens: those groups are summed from the rows
    for policy, scope, stored in (({**_SHIFT, "share": 0.5}, {}, True),
                                  ({**_SHIFT, "share": 0.5}, {"teams": ["alpha", "gamma"]}, True),
                                  ({**_SHIFT, "share": 0.5, "pick": "random"}, {}, False),
                                  ({**_SHIFT, "share": 0.5}, {"min_tokens": 150}, False)):
        sc = _scenario(policy).model_copy(update={"scope": simulate.parse_scenario(
            {"name": "s", "scope": scope, "policies": [policy]}).scope})
        assert team_costs.stored_groups(Plan.build(ledger, sc, GradeMatch())) is stored
        _assert_equal(ledger, sc)


def test_scenarios_it_cannot_group_run_the_replay(ledger):
    for policy in ({**_SHIFT, "share": 0.5, "unit": "session"},
                   {**_SHIFT, "share": 0.5, "match": {"models": ["gpt-4o"], "min_tokens": 250}},
                   {"kind": "cache", "hit_rate": 0.5}):
        sc = _scenario(policy)
        assert not team_costs.groupable(Plan.build(ledger, sc, GradeMatch()))
        assert team_costs.by_team(ledger, sc) is None
    # two ranked policies: the second's count depends on the first's edge rows
    assert team_costs.by_team(ledger, _scenario({**_SHIFT, "share": 0.5}, {"kind": "batch", "share": 0.5})) is None


def test_every_groupable_preset_on_the_sample_equals_the_replay(sample_wh):
    end = dt.date.fromisoformat(str(sample_wh.sql("select max(ts) as m from replay_stored")["m"][0])[:10])
    grouped = 0
    for name in presets():
        sc = simulate.load_scenario(name).model_copy(
            update={"period": Period(start=end - dt.timedelta(days=55), end=end)})
        if team_costs.groupable(Plan.build(sample_wh, sc, GradeMatch())):
            _assert_equal(sample_wh, sc)
            grouped += 1
    assert grouped >= 2
