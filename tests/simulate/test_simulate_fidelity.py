"""Fidelity faults of the simulator's first generation (issue 13, section 2), each pinned by a known answer:
model names resolved as ingest resolves them, unused grades reported and never called matched, a match that
names no model warns, random seeds independent, the JSON carries every figure."""

from __future__ import annotations

import json

import numpy as np
import pytest

import routellm_gsm8k as gsm
import simulate
from simulate import frontier, shadow
from simulate.plan import NO_SOURCE, NOT_REPLAYED, OTHER_MODEL


def shift(share: float, **extra):
    return {"kind": "shift", "share": share, "to": {"model": gsm.WEAK}, **extra}


def scenario(*policies, grades: str | None = gsm.grades_csv(), **extra):
    sc = simulate.parse_scenario({"name": "gsm8k", "policies": list(policies), **extra})
    return sc if grades is None else shadow.with_shadow(sc, shadow.parse(grades, "grades.csv"))


@pytest.fixture
def gsm_wh(wh, tmp_path):
    gsm.load(wh, tmp_path)
    return wh


@pytest.mark.slow
def test_grades_named_as_logged_are_resolved_and_used(gsm_wh):
    wh = gsm_wh
    assert wh.scalar("select distinct model from usage") == "gpt-4-turbo"     # ingest resolved the logged name
    for share, acc in ((0.0, gsm.STRONG_ACC), (1.0, gsm.WEAK_ACC)):
        r = simulate.run(wh, scenario(shift(share)))
        qb = r.quality_basis
        # each model's accuracy exactly, measured on every request (not the priors)
        assert r.exact["scenario_quality"] == pytest.approx(acc, abs=1e-12)
        assert r.exact["baseline_quality"] == pytest.approx(gsm.STRONG_ACC, abs=1e-12)
        assert (qb["matched_requests"], qb["graded_requests"], qb["measured_requests"]) == (1307, 1307, 1307)
        assert qb["used_pairs"] == 2 * 1307 and qb["unused_pairs"] == {}
    # the slider tables read the same plan
    sc = scenario(shift(0.5))
    out = frontier.prepare(wh, sc).table(0, sc).lookup(sc)
    r = simulate.run(wh, sc)
    assert out.scenario_quality == pytest.approx(r.scenario_quality, abs=2e-6) and out.measured_requests == 1307


def test_unused_grades_are_reported_with_why_and_never_called_matched(gsm_wh):
    extra = ("q-1,claude-3-opus,1,openai\n"          # neither the logged model nor the target
             "nope,gpt-4-1106-preview,1,openai\n")    # no such request
    text = "request_id,model,score,provider\nq-0,mixtral-8x7b-instruct-v0.1,1,openai\n" + extra
    r = simulate.run(gsm_wh, scenario(shift(0.5), grades=text))
    qb = r.quality_basis
    # q-0 has only the target graded: a moved part needs both, so nothing of it is used
    assert qb["matched_requests"] == 0 and qb["used_pairs"] == 0 and qb["measured_requests"] == 0
    assert qb["unused_pairs"] == {NO_SOURCE: 1, OTHER_MODEL: 1, NOT_REPLAYED: 1}
    text = r.summary_text()
    assert "0 of 3 graded requests matched a replayed request row" in text
    assert f"1 graded (request, model) pairs: {OTHER_MODEL}" in text


def test_targets_and_matches_named_as_logged(gsm_wh):
    # `match.models` naming the logged name (an alias of the catalog id the ledger holds) moves its requests
    r = simulate.run(gsm_wh, scenario(shift(1.0, match={"models": [gsm.STRONG]}), grades=None))
    assert r.moved_requests == 1307 and not r.warnings
    # a target named by an alias is scored under the catalog id the priors and grades use
    sc = scenario(shift(1.0), grades=None, assumptions={"quality": {"*": {"gpt-4-turbo": 0.9, "mixtral-8x7b": 0.6}}})
    r = simulate.run(gsm_wh, sc)
    assert (r.baseline_quality, r.scenario_quality) == (0.9, 0.6)
    out = frontier.prepare(gsm_wh, sc).evaluate(sc)                 # the slider tables read the same plan
    assert (out.baseline_quality, out.scenario_quality) == (0.9, 0.6)


def test_a_match_naming_no_model_with_rows_warns(gsm_wh, tmp_path):
    r = simulate.run(gsm_wh, scenario(shift(0.5, match={"models": ["claude-opus-*"]}), grades=None))
    assert r.moved_requests == 0
    [w] = r.warnings
    assert "policies.0.match.models: no row in the period and scope is on claude-opus-*" in w and "gpt-4-turbo" in w
    assert w in r.summary_text() and r.to_json()["warnings"] == [w]


@pytest.mark.slow
def test_cli_strict_turns_the_warning_into_an_error(gsm_wh, tmp_path):
    import subprocess
    import sys

    db = str(gsm_wh.path)
    gsm_wh.close()
    path = tmp_path / "s.yaml"
    path.write_text("name: s\npolicies:\n  - {kind: shift, share: 0.5, match: {models: [nope-*]}, "
                    "to: {model: gpt-4o-mini}}\n")

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "modelmix", "simulate", str(path), "--db", db, *args],
                              capture_output=True, text=True, timeout=120)

    p = cli()
    assert p.returncode == 0 and "warning: policies.0.match.models" in p.stderr
    p = cli("--strict")
    assert p.returncode != 0 and "policies.0.match.models: no row" in p.stderr
    p = cli("--json")
    out = json.loads(p.stdout)
    assert out["warnings"] and out["moved_requests"] == 0


@pytest.mark.slow
def test_random_seeds_pick_independent_halves(gsm_wh):
    """At share 0.5 of 1,307 requests two seeds' halves overlap like two random halves: hypergeometric, mean
    653 × 653 / 1307 ≈ 326.2, standard deviation ≈ 9.0 (it was 624–635 rows, or 29, with the old hash)."""
    n, k = 1307, 653
    picked = []
    for seed in range(40):
        sc = scenario(shift(0.5, pick="random", seed=seed), grades=None)
        prep = frontier.prepare(gsm_wh, sc)
        picked.append(set(np.flatnonzero(prep.claims([0.5])[0] > 0).tolist()))
    assert all(len(p) == k for p in picked)
    overlap = np.array([len(picked[0] & p) for p in picked[1:]])
    mean = k * k / n
    sd = np.sqrt(k * (k / n) * ((n - k) / n) * ((n - k) / (n - 1)))
    assert abs(overlap.mean() - mean) < 4 * sd / np.sqrt(len(overlap))
    assert 0.6 * sd < overlap.std() < 1.5 * sd
    assert (np.abs(overlap - mean) < 5 * sd).all()


def test_json_carries_every_figure_at_full_precision(gsm_wh):
    # a price-ratio target no prior scores: most requests unscored, and the JSON says so
    sc = scenario(shift(0.8, to={"price_ratio": 0.37}), grades=None)
    r = simulate.run(gsm_wh, sc)
    out = json.loads(json.dumps(r.to_json()))
    base, scen = out["baseline_cost_usd"], out["scenario_cost_usd"]
    assert out["savings_pct"] == r.exact["savings_pct"] == pytest.approx(100 * (base - scen) / base, abs=1e-4)
    assert out["savings_pct"] != round(out["savings_pct"], 4)                # not rounded
    qb = out["quality_basis"]
    assert qb["unscored_requests"] == 1045 and qb["scored_requests"] == 262      # floor(0.8 × 1307) moved, unscored
    assert {"measured_requests", "assumed_requests", "scored_share", "sources"} <= qb.keys()
    assert out["unpriced_requests"] == 0 and "savings_by_lever" in out and out["breakdown"]
    assert "unscored        1,045 requests" in r.summary_text()
