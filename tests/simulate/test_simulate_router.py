"""`pick: score` (simulate/router.py): a router's scores per request rank the eligible requests, lowest first, in
the replay, the slider tables and the CLI — a new pick mode added as one class attribute of the ranked kinds."""

from __future__ import annotations

import json

import pytest

import routellm_gsm8k as gsm
import simulate
from simulate import frontier, router, shadow

SCORED = {"kind": "shift", "pick": "score", "to": {"model": gsm.WEAK}}


def scenario(share: float, scores: str = gsm.perfect_router_csv(), grades: bool = True, **extra):
    sc = simulate.parse_scenario({"name": "s", "policies": [{**SCORED, "share": share, **extra}],
                                  "assumptions": {"router_scores": router.scores_data(router.parse(scores))}})
    return shadow.with_shadow(sc, shadow.parse(gsm.grades_csv(), "g.csv")) if grades else sc


@pytest.fixture
def gsm_wh(wh, tmp_path):
    gsm.load(wh, tmp_path)
    return wh


@pytest.mark.slow
def test_a_perfect_router_keeps_only_what_the_strong_model_alone_gets_right(gsm_wh):
    # 925 of 1,307 moved: the 382 only GPT-4 gets right stay, and quality is the oracle's 1,215 / 1,307
    k = gsm.N - gsm.STRONG_ONLY
    share = frontier.share_for_count(k, gsm.N)
    r = simulate.run(gsm_wh, scenario(share))
    assert r.moved_requests == k
    assert r.exact["scenario_quality"] == pytest.approx(gsm.ORACLE_ACC, abs=1e-12)
    assert r.quality_basis["router_scores"] == {"router": "perfect", "scored_requests": 1307, "matched_requests": 1307}
    assert "1,307 of 1,307 scored requests matched" in r.summary_text()
    # the slider tables read the same order
    sc = scenario(share)
    out = frontier.prepare(gsm_wh, sc).table(0, sc).lookup(sc)
    assert out.scenario_quality == pytest.approx(r.scenario_quality, abs=2e-6)
    assert out.scenario_cost_usd == pytest.approx(r.scenario_cost_usd, abs=1e-9)


def test_unscored_requests_move_after_every_scored_one(gsm_wh):
    text = "request_id,score\nq-5,0.9\nq-6,0.1\nq-7,0.5\n"
    r = simulate.run(gsm_wh, scenario(frontier.share_for_count(2, gsm.N), scores=text, grades=False))
    moved = r.breakdown.filter(r.breakdown["lever"] == "model_shift")["requests"].sum()
    assert moved == 2
    # which two: q-6 and q-7 (the lowest scores), not q-5: the saving is theirs
    p, c = gsm.tokens()
    saving = sum(round((p[k] * 10 + c[k] * 30) / 1e6, 6) - (p[k] + c[k]) * 0.7 / 1e6 for k in (6, 7))
    assert r.savings_usd == pytest.approx(saving, abs=1e-6)
    sc = scenario(frontier.share_for_count(2, gsm.N), scores=text, grades=False)
    assert frontier.prepare(gsm_wh, sc).evaluate(sc).savings_usd == pytest.approx(saving, abs=1e-6)


@pytest.mark.slow
def test_sweep_agrees_with_the_replay(gsm_wh):
    sc = scenario(0.0)
    for row in frontier.sweep(gsm_wh, sc, 0, [0.1, 0.5, 0.9]).iter_rows(named=True):
        r = simulate.run(gsm_wh, scenario(row["share"]))
        assert row["scenario_cost_usd"] == pytest.approx(r.scenario_cost_usd, abs=1e-9)
        assert row["scenario_quality"] == pytest.approx(r.scenario_quality, abs=2e-6)


def test_pick_score_needs_scores_and_bad_files_name_the_row():
    with pytest.raises(simulate.ScenarioError, match="policies.0: `pick: score` needs a router's scores"):
        simulate.parse_scenario({"name": "s", "policies": [{**SCORED, "share": 0.5}]})
    with pytest.raises(simulate.ScenarioError, match="s.csv: row 2, score: Input should be a valid number"):
        router.parse("request_id,score\na,0.1\nb,x\n", "s.csv")
    with pytest.raises(simulate.ScenarioError, match="several routers"):
        router.scores_data(router.parse("request_id,score,router\na,0.1,r1\na,0.2,r2\n"))
    assert router.scores_data(router.parse("request_id,score,router\na,0.1,r1\na,0.2,r2\n"), "r2")["score"] == [0.2]


@pytest.mark.slow
def test_cli_scores(gsm_wh, tmp_path):
    import subprocess
    import sys

    db = str(gsm_wh.path)
    gsm_wh.close()
    path = tmp_path / "s.yaml"
    path.write_text(f"name: s\npolicies:\n  - {{kind: shift, share: 0.5, pick: score, to: {{model: {gsm.WEAK}}}}}\n")
    scores = tmp_path / "scores.csv"
    scores.write_text(gsm.perfect_router_csv())
    p = subprocess.run([sys.executable, "-m", "modelmix", "simulate", str(path), "--db", db, "--json",
                        "--scores", str(scores)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert out["moved_requests"] == 653 and out["quality_basis"]["router_scores"]["matched_requests"] == 1307
